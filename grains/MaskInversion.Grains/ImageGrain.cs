using MaskInversion.Core.Pipeline;
using Orleans.Runtime;

namespace MaskInversion.Grains;

/// <summary>
/// One image of one job, on compute silos only (silos without the compute role drop this class, see
/// <see cref="SiloBuilderExtensions"/>). Prepares the image once in the silo's executor, has its mask grains
/// (same silo) record each mask, frees the cache and returns the small per-image record. Idempotent by key: masks
/// already recorded are not recomputed, and when all are recorded the image is not even forwarded.
/// </summary>
public sealed class ImageGrain(ComputeExecutor executor, ILocalSiloDetails silo) : Grain, IImageGrain
{
    public async Task<ImageOutcome> ProcessAsync(ImageWork work)
    {
        var key = this.GetPrimaryKeyString();
        var masks = work.Masks.Select(m => GrainFactory.GetGrain<IMaskGrain>(GrainKeys.Mask(work.JobId, work.ImageId, m.MaskId))).ToArray();
        var records = await Task.WhenAll(masks.Select(m => m.GetRecordAsync()));
        var todo = Enumerable.Range(0, masks.Length).Where(i => records[i] is null).ToList();

        if (todo.Count > 0)
        {
            var methods = work.Methods.Select(RegionMethods.Parse).ToList();
            PreparedInfo info;
            try
            {
                info = await executor.PrepareAsync(key, work.Engine, work.ImageId, work.ImagePath, todo.Count, methods, work.ReturnEmbeddings);
            }
            catch (Exception ex) when (ex is not OperationCanceledException and not ObjectDisposedException)
            {
                // Unreadable image: a per-item error for the image and each of its masks, not a retry.
                var error = $"{ex.GetType().Name}: {ex.Message}";
                DeactivateOnIdle();
                return new ImageOutcome(work.ImageId,
                    work.Masks.Select((m, i) => records[i] ?? new MaskRecord(m.MaskId, m.ClassIndex, [], error)).ToArray(),
                    error, silo.SiloAddress.ToString());
            }
            try
            {
                var computed = await Task.WhenAll(todo.Select(i => masks[i].RunAsync(key, work.Masks[i], work, info.Width, info.Height)));
                for (int j = 0; j < todo.Count; j++) records[todo[j]] = computed[j];
            }
            finally
            {
                await executor.ReleaseAsync(key);
            }
        }
        // The coordinator keeps the outcome; a repeat is answered from the mask records, so the activation can go.
        DeactivateOnIdle();
        return new ImageOutcome(work.ImageId, records.Select(r => r!).ToArray(), null, silo.SiloAddress.ToString());
    }
}
