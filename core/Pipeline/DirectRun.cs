using MaskInversion.Core.Datasets;

namespace MaskInversion.Core.Pipeline;

/// <summary>One image of a direct run: its results, or why the image or some of its masks could not be read.</summary>
/// <param name="ImageError">Set when the image itself could not be loaded; then there are no results.</param>
/// <param name="MaskErrors">Mask id → error, for masks whose pixels could not be decoded.</param>
public sealed record DirectImageResult(DatasetImage Image, IReadOnlyList<MaskResult> Results, string? ImageError,
    IReadOnlyDictionary<string, string> MaskErrors);

/// <summary>
/// Runs dataset images straight through one engine on the calling thread, the way a compute silo does (forward
/// once, all masks of an image in one Evaluate, masks decoded by <see cref="MaskInput.Load"/>): the reference a
/// cluster job's results must equal, and the direct side of the cluster benchmark. Unreadable images and masks
/// become errors worded as the cluster words them, and the run goes on.
/// </summary>
public static class DirectRun
{
    public static IEnumerable<DirectImageResult> Run(RegionEngine engine, IEnumerable<DatasetImage> images,
        IReadOnlyList<RegionMethod> methods, bool returnEmbeddings = false)
    {
        foreach (var image in images)
        {
            PreparedImage? prepared = null;
            string? imageError = null;
            try
            {
                prepared = engine.Prepare(image.ImageId, image.ImagePath);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                imageError = Error(ex);
            }
            if (prepared is null)
            {
                yield return new DirectImageResult(image, [], imageError, new Dictionary<string, string>());
                continue;
            }
            using (prepared)
            {
                var inputs = new List<MaskInput>();
                var maskErrors = new Dictionary<string, string>(StringComparer.Ordinal);
                foreach (var m in image.Masks)
                {
                    try { inputs.Add(MaskInput.Load(m.MaskId, m.Source, prepared.Image.Width, prepared.Image.Height)); }
                    catch (Exception ex) when (ex is not OperationCanceledException) { maskErrors[m.MaskId] = Error(ex); }
                }
                yield return new DirectImageResult(image, engine.Evaluate(prepared, inputs, methods, returnEmbeddings), null, maskErrors);
            }
        }
    }

    /// <summary>Images of a reader's stream (read errors skipped), at most <paramref name="maxImages"/> (0 = all).</summary>
    public static IEnumerable<DatasetImage> Images(IDatasetReader reader, int maxImages = 0)
    {
        var images = reader.ReadImages().Where(r => r.Image is not null).Select(r => r.Image!);
        return maxImages > 0 ? images.Take(maxImages) : images;
    }

    /// <summary>How per-item errors are worded, here and on the cluster.</summary>
    public static string Error(Exception ex) => $"{ex.GetType().Name}: {ex.Message}";
}
