namespace MaskInversion.Core.Datasets;

// These records travel between Orleans grains, so they hold plain data only (strings, numbers, arrays):
// no delegates, streams or tensors. Decoding a mask happens where it is needed, via MaskRasterizer.

/// <summary>One unit of streamed work: an image and every query mask on it.</summary>
/// <param name="ImagePath">Absolute (or caller-resolvable) path of the encoded image file.</param>
/// <param name="Expressions">Referring-expression datasets: the image's expressions, each naming the mask it refers to;
/// <see cref="Masks"/> are then the candidates every expression is matched against. Null for class retrieval.</param>
public sealed record DatasetImage(string ImageId, string ImagePath, IReadOnlyList<DatasetMask> Masks,
    IReadOnlyList<ReferringExpression>? Expressions = null);

/// <summary>A referring expression ("the man in the red shirt") and the id of the image's mask it refers to.</summary>
public sealed record ReferringExpression(string ExpressionId, string Text, string MaskId);

/// <summary>A query region on an image.</summary>
/// <param name="ClassId">The dataset's class id (OpenImages LabelName, COCO category id, JSONL label); null for expression-only masks.</param>
/// <param name="ClassName">Human-readable class name used for prompts.</param>
/// <param name="Expression">Referring expression, when the dataset has one.</param>
/// <param name="Box">Bounding box as fractions of the image size, when the dataset provides one.</param>
public sealed record DatasetMask(
    string MaskId, string? ClassId, string? ClassName, string? Expression, MaskSource Source, RegionBox? Box);

/// <summary>Axis-aligned box in normalised image coordinates (0…1), OpenImages' XMin, XMax, YMin, YMax order.</summary>
public readonly record struct RegionBox(double XMin, double XMax, double YMin, double YMax);

/// <summary>A row or item that could not be read; the stream carries on after it.</summary>
/// <param name="ItemId">Image or mask id when known, else a file:line reference.</param>
/// <param name="Message">Names the file, line (when there is one) and the cause.</param>
public sealed record DatasetError(string ItemId, string Message);

/// <summary>One element of a reader's stream: exactly one of <see cref="Image"/> and <see cref="Error"/> is set.</summary>
public sealed record DatasetRecord(DatasetImage? Image, DatasetError? Error)
{
    public static DatasetRecord Of(DatasetImage image) => new(image, null);
    public static DatasetRecord Fail(string itemId, string message) => new(null, new DatasetError(itemId, message));
    public bool IsError => Error is not null;
}

/// <summary>A class of the dataset: its id (as used in <see cref="DatasetMask.ClassId"/>) and display name.
/// A class's position in <see cref="IDatasetReader.Classes"/> is its integer index for metrics.</summary>
public sealed record ClassInfo(string Id, string Name);

/// <summary>How a mask's pixels are stored.</summary>
public enum MaskSourceKind
{
    /// <summary>A PNG file (OpenImages, JSONL): non-zero pixels are foreground.</summary>
    Png,
    /// <summary>COCO polygons: each ring is [x1, y1, x2, y2, …] in pixel coordinates.</summary>
    Polygons,
    /// <summary>COCO uncompressed RLE: run lengths, column-major, starting with a run of zeros.</summary>
    RleCounts,
    /// <summary>COCO compressed RLE: pycocotools' string encoding of the same run lengths.</summary>
    RleString,
    /// <summary>The pixels of one class in a label-map PNG (palette indices or gray values: Pascal VOC, Pascal Context).</summary>
    LabelMap,
}

/// <summary>
/// Where a mask's pixels come from. A flat record rather than a class hierarchy so that any serializer
/// (Orleans, System.Text.Json) round-trips it without polymorphism configuration. Which fields are set
/// depends on <see cref="Kind"/>; use the factory methods. Height/Width are the COCO image size (0 for PNG,
/// whose size is the PNG's own, which for OpenImages can differ from the image's). <see cref="Label"/> is the class
/// value of a label map (null otherwise, so a source that lost it fails instead of reading label 0).
/// </summary>
public sealed record MaskSource(
    MaskSourceKind Kind,
    string? PngPath = null,
    double[][]? Polygons = null,
    int[]? RleCounts = null,
    string? RleString = null,
    int Height = 0,
    int Width = 0,
    int? Label = null)
{
    public static MaskSource Png(string path) => new(MaskSourceKind.Png, PngPath: path);

    public static MaskSource LabelMapClass(string path, int label) => new(MaskSourceKind.LabelMap, PngPath: path, Label: label);

    public static MaskSource Polygon(double[][] rings, int height, int width) =>
        new(MaskSourceKind.Polygons, Polygons: rings, Height: height, Width: width);

    public static MaskSource Rle(int[] counts, int height, int width) =>
        new(MaskSourceKind.RleCounts, RleCounts: counts, Height: height, Width: width);

    public static MaskSource CompressedRle(string counts, int height, int width) =>
        new(MaskSourceKind.RleString, RleString: counts, Height: height, Width: width);
}
