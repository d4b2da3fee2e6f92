using MaskInversion.Core.Pipeline;

namespace MaskInversion.Grains;

/// <summary>Draws one mask's overlays on request (see <see cref="IOverlayGrain"/>), on compute silos only (dropped
/// elsewhere by <see cref="SiloBuilderExtensions"/>). The executor does the drawing exactly as for a job's sampled
/// masks; this grain only prepares the image, asks for the one mask with overlays on, and releases the image.</summary>
public sealed class OverlayGrain(ComputeExecutor executor) : Grain, IOverlayGrain
{
    public async Task<string[]> DrawAsync(ImageWork work)
    {
        var wanted = work.Masks.Single();
        var plan = ImagePlan.For(work, expectedMasks: 1);
        var image = await executor.PrepareAsync(plan);
        try
        {
            // Decoding a mask is CPU work but no tensor work: the thread pool, not the grain scheduler, does it.
            var mask = await Task.Run(() => MaskInput.Load(wanted.MaskId, wanted.Source.ToSource(), image.Width, image.Height));
            await executor.EvaluateAsync(image, mask, overlay: true);
        }
        finally
        {
            await executor.ReleaseAsync(image);
            DeactivateOnIdle();
        }
        var stem = OverlayWriter.SafeName(wanted.MaskId) + "_";
        return Directory.Exists(plan.OverlayFolder)
            ? Directory.EnumerateFiles(plan.OverlayFolder, stem + "*.png").Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal).ToArray()
            : [];
    }
}
