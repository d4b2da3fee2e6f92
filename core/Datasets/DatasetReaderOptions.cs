namespace MaskInversion.Core.Datasets;

/// <summary>Which dataset to read and how: everything <see cref="DatasetReaders.Open(DatasetReaderOptions)"/> needs,
/// as plain data, so a job can choose its reader options and carry them, and where the reader may read.</summary>
public sealed record DatasetReaderOptions
{
    public static DatasetReaderOptions Default { get; } = new();

    /// <summary>openimages, coco or jsonl (see <see cref="DatasetReaders.Formats"/>).</summary>
    public string Format { get; init; } = "openimages";
    /// <summary>Dataset folder (openimages, coco), annotation file (coco) or manifest (jsonl).</summary>
    public string Root { get; init; } = "";
    /// <summary>openimages: e.g. validation (default); coco: e.g. val2017 (default).</summary>
    public string? Split { get; init; }
    /// <summary>jsonl: optional class list; openimages: overrides classes-segmentation.txt.</summary>
    public string? ClassesFile { get; init; }
    /// <summary>coco: also read crowd annotations (iscrowd = 1), which the paper's protocol skips.</summary>
    public bool IncludeCrowd { get; init; }

    /// <summary>Where the reader may read: the annotation and classes files and every image and mask path an item
    /// names are resolved and confined to it. A path outside becomes that item's error (a top-level file outside
    /// throws <see cref="PathNotAllowedException"/>). Unrestricted by default, for local use; a silo passes its
    /// configured dataset roots.</summary>
    public PathPolicy Paths { get; init; } = PathPolicy.Unrestricted;
}
