using MaskInversion.Core.Imaging;

namespace MaskInversion.Core.Datasets;

/// <summary>Turns a <see cref="MaskSource"/> into pixels where the mask is needed (typically on the compute silo).</summary>
public static class MaskRasterizer
{
    /// <param name="pngLoader">Decodes a mask PNG (non-zero = foreground); the caller plugs in its image stack
    /// (e.g. MaskLoader.Load) so that this pure code has no decoding dependency.</param>
    public static BinaryMask Rasterize(MaskSource source, Func<string, BinaryMask> pngLoader) => source.Kind switch
    {
        MaskSourceKind.Png => pngLoader(source.PngPath ?? throw new ArgumentException("PNG mask source without a path.")),
        MaskSourceKind.Polygons => CocoRle.RasterizePolygons(
            source.Polygons ?? throw new ArgumentException("Polygon mask source without polygons."), source.Height, source.Width),
        MaskSourceKind.RleCounts => CocoRle.Decode(
            source.RleCounts ?? throw new ArgumentException("RLE mask source without counts."), source.Height, source.Width),
        MaskSourceKind.RleString => CocoRle.Decode(
            CocoRle.FromCompressedString(source.RleString ?? throw new ArgumentException("Compressed RLE mask source without a string.")),
            source.Height, source.Width),
        MaskSourceKind.LabelMap => LabelMapMask(source),
        _ => throw new ArgumentOutOfRangeException(nameof(source), $"Unknown mask source kind {source.Kind}."),
    };

    /// <summary>The label is checked before the file is read: a source that lost it must not become label 0.</summary>
    static BinaryMask LabelMapMask(MaskSource source)
    {
        int label = source.Label ?? throw new ArgumentException($"Label-map mask source '{source.PngPath}' without a label value.");
        return LabelMapLoader.Load(source.PngPath ?? throw new ArgumentException("Label-map mask source without a path.")).MaskOf(label);
    }
}
