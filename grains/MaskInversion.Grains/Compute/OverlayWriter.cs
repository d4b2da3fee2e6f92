using MaskInversion.Core.Imaging;
using MaskInversion.Core.Pipeline;
using Microsoft.Extensions.Logging;

namespace MaskInversion.Grains;

/// <summary>PNG overlays of a mask (image, mask, each method's final map over the image), written by the compute
/// silo that holds the image. A failed write is logged, never fatal.</summary>
public static class OverlayWriter
{
    public static void TryWrite(string folder, RgbImage image, MaskInput mask, IReadOnlyList<MaskResult> results, ILogger logger)
    {
        try
        {
            Directory.CreateDirectory(folder);
            var stem = Path.Combine(folder, SafeName(mask.MaskId));
            PngWriter.Save(image, stem + "_image.png");
            PngWriter.Save(mask.Mask, stem + "_mask.png");
            foreach (var r in results.Where(r => r.Map is not null))
                PngWriter.SaveHeatMap(r.Map!, r.MapSize, r.MapSize, $"{stem}_{r.Method.Name}_map.png", image);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
        {
            logger.LogWarning(ex, "Overlay for mask {Mask} not written", mask.MaskId);
        }
    }

    /// <summary>Dataset ids may hold path characters; file names keep letters, digits, '-', '_' and '.'.</summary>
    public static string SafeName(string name) => string.Concat(name.Select(c => char.IsLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_'));
}
