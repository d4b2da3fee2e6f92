using MaskInversion.Core.Imaging;

namespace MaskInversion.Core.Datasets;

/// <summary>Turns a <see cref="MaskSource"/> into pixels where the mask is needed (typically on the compute silo).</summary>
public static class MaskRasterizer
{
    /// <param name="pngLoader">Decodes a mask PNG (non-zero = foreground); the caller plugs in its image stack
    /// (e.g. MaskLoader.Load) so that this pure code has no decoding dependency.</param>
    /// <param name="name">The mask's id, for messages.</param>
    /// <exception cref="ItemDataException">The source is malformed (bad RLE, polygon, size): the mask's own data.</exception>
    public static BinaryMask Rasterize(MaskSource source, Func<string, BinaryMask> pngLoader, string? name = null)
    {
        try
        {
            return source.Kind switch
            {
                MaskSourceKind.Png => pngLoader(source.PngPath ?? throw new FormatException("PNG mask source without a path.")),
                MaskSourceKind.Polygons => CocoRle.RasterizePolygons(
                    source.Polygons ?? throw new FormatException("Polygon mask source without polygons."), source.Height, source.Width),
                MaskSourceKind.RleCounts => CocoRle.Decode(
                    source.RleCounts ?? throw new FormatException("RLE mask source without counts."), source.Height, source.Width),
                MaskSourceKind.RleString => CocoRle.Decode(
                    CocoRle.FromCompressedString(source.RleString ?? throw new FormatException("Compressed RLE mask source without a string.")),
                    source.Height, source.Width),
                MaskSourceKind.LabelMap => LabelMapMask(source),
                _ => throw new FormatException($"Unknown mask source kind {source.Kind}."),
            };
        }
        catch (Exception e) when (e is FormatException or ArgumentException)
        {
            var subject = name ?? source.PngPath ?? source.Kind.ToString();
            throw new ItemDataException(subject, $"Mask {subject} cannot be rasterised: {e.Message}", e);
        }
    }

    /// <summary>The label is checked before the file is read: a source that lost it must not become label 0.</summary>
    static BinaryMask LabelMapMask(MaskSource source)
    {
        int label = source.Label ?? throw new FormatException($"Label-map mask source '{source.PngPath}' without a label value.");
        return LabelMapLoader.Load(source.PngPath ?? throw new FormatException("Label-map mask source without a path.")).MaskOf(label);
    }
}
