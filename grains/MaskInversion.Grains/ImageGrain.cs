using MaskInversion.Core;
using MaskInversion.Core.Pipeline;
using Microsoft.Extensions.Options;

namespace MaskInversion.Grains;

/// <summary>
/// One image of one job, on compute silos only (silos without the compute role drop this class, see
/// <see cref="SiloBuilderExtensions"/>). It owns its prepared image: it has the silo's executor prepare it once,
/// holds the handle while its mask grains (same silo) run their inversions against it, and releases it when they
/// are done or when the activation goes. Idempotent by key: when all its masks are recorded the image is not even
/// forwarded; when only some are (a crash between mask records), all are computed again together.
/// </summary>
public sealed class ImageGrain(ComputeExecutor executor, IOptions<ComputeOptions> options, ILocalSiloDetails silo) : Grain, IImageGrain
{
    // The prepared image this activation owns; never outlives the activation.
    PreparedImageHandle? prepared;

    public async Task<ImageOutcome> ProcessAsync(ImageWork work) => (await ProcessHereAsync(work)) with { Silo = SiloLoadReporter.NameOf(silo) };

    async Task<ImageOutcome> ProcessHereAsync(ImageWork work)
    {
        // Overlays go under the job folder: a plain Orleans client can send work straight here, past the coordinator's check.
        executor.Paths.CheckOutput(work.Job);
        var masks = work.Masks.Select(m => GrainFactory.GetGrain<IMaskGrain>(GrainKeys.Mask(work.JobId, work.ImageId, m.MaskId))).ToArray();
        var records = await Task.WhenAll(masks.Select(m => m.GetRecordAsync()));
        // A mask's figures depend in their last bits on which masks share its batch (a matrix product's blocking), so
        // the missing masks are not computed alone: all of the image's masks run in the same batch as a first run, and a
        // re-dispatched image reproduces a clean run to the bit (restart-all chaos test: 4-18 of 376 rows differed).
        var todo = records.Any(r => r is null) ? Enumerable.Range(0, masks.Length).ToList() : [];

        if (todo.Count > 0)
        {
            PreparedImageHandle image;
            if (options.Value.ImageDelay > TimeSpan.Zero) await Task.Delay(options.Value.ImageDelay);
            try
            {
                prepared = image = await executor.PrepareAsync(ImagePlan.For(work, todo.Count));
            }
            catch (Exception ex) when (ItemDataException.IsAboutItem(ex))
            {
                // Unreadable image (or outside the dataset roots): a per-item error for the image and each of its masks,
                // not a retry. Other errors (the engine failed to load, libtorch) propagate and the coordinator retries.
                var error = DirectRun.Error(ex);
                DeactivateOnIdle();
                return new ImageOutcome(work.ImageId,
                    work.Masks.Select((m, i) => records[i] ?? new MaskRecord(m.MaskId, m.ClassIndex, [], error)).ToArray(), error);
            }
            catch (Exception ex) when (ComputeFaultException.Carry(ex) != ex)
            {
                throw ComputeFaultException.Carry(ex);
            }
            try
            {
                var computed = await Task.WhenAll(todo.Select(i => masks[i].RunAsync(image, work.Masks[i])));
                for (int j = 0; j < todo.Count; j++) records[todo[j]] = computed[j];
            }
            finally
            {
                await ReleaseAsync();
            }
        }
        // The coordinator keeps the outcome; a repeat is answered from the mask records, so the activation can go.
        DeactivateOnIdle();
        return new ImageOutcome(work.ImageId, records.Select(r => r!).ToArray(), null);
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken) => ReleaseAsync();

    Task ReleaseAsync()
    {
        if (prepared is not { } image) return Task.CompletedTask;
        prepared = null;
        return executor.ReleaseAsync(image);
    }
}
