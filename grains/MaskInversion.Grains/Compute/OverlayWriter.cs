using MaskInversion.Core.Imaging;
using MaskInversion.Core.Pipeline;
using Microsoft.Extensions.Logging;

namespace MaskInversion.Grains;

/// <summary>PNG overlays of a mask, written by the compute silo that holds the image: the image, the mask, the LeGrad
/// map of LET₀ (where the inversion starts) and each method's final map over the image, all at a readable size
/// (<see cref="ReadableSize"/>). File names: "{mask}_image.png", "{mask}_mask.png", "{mask}_initial_map.png",
/// "{mask}_{method}_map.png". A failed write is logged, never fatal.</summary>
public static class OverlayWriter
{
    /// <summary>Overlays are drawn with their longer side in [MinSide, MaxSide]: small images are enlarged to be
    /// readable, large ones reduced to keep the files small.</summary>
    public const int MinSide = 256, MaxSide = 768;
    public const string InitialMapName = "initial";

    /// <param name="initialMap">LET₀'s map (<paramref name="mapSize"/>²), or null when it could not be drawn.</param>
    public static void TryWrite(string folder, RgbImage image, MaskInput mask, IReadOnlyList<MaskResult> results, float[]? initialMap, int mapSize, ILogger logger)
    {
        try
        {
            Directory.CreateDirectory(folder);
            var stem = Path.Combine(folder, SafeName(mask.MaskId));
            var (w, h) = ReadableSize(image.Width, image.Height);
            var shown = w == image.Width && h == image.Height ? image : PilResize.Bicubic(image, w, h);
            PngWriter.Save(shown, stem + "_image.png");
            PngWriter.Save(MaskLoader.Resize(mask.Mask, w, h), stem + "_mask.png");
            if (initialMap is not null) PngWriter.SaveHeatMap(initialMap, mapSize, mapSize, $"{stem}_{InitialMapName}_map.png", shown);
            foreach (var r in results.Where(r => r.Map is not null))
                PngWriter.SaveHeatMap(r.Map!, r.MapSize, r.MapSize, $"{stem}_{SafeName(r.Method.Name)}_map.png", shown);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
        {
            logger.LogWarning(ex, "Overlay for mask {Mask} not written", mask.MaskId);
        }
    }

    /// <summary>The image's size scaled (aspect kept) so its longer side lies in [<see cref="MinSide"/>, <see cref="MaxSide"/>].</summary>
    public static (int Width, int Height) ReadableSize(int width, int height)
    {
        int longer = Math.Max(width, height);
        double scale = longer < MinSide ? (double)MinSide / longer : longer > MaxSide ? (double)MaxSide / longer : 1;
        return (Math.Max(1, (int)Math.Round(width * scale)), Math.Max(1, (int)Math.Round(height * scale)));
    }

    /// <summary>Dataset ids may hold path characters; file names keep letters, digits, '-', '_' and '.'.</summary>
    public static string SafeName(string name) => string.Concat(name.Select(c => char.IsLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_'));
}
