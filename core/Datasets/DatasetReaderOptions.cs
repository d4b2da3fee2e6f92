namespace MaskInversion.Core.Datasets;

/// <summary>What every dataset reader is given besides the dataset's own location.</summary>
public sealed record DatasetReaderOptions
{
    public static DatasetReaderOptions Default { get; } = new();

    /// <summary>Where the reader may read: the annotation and classes files and every image and mask path an item
    /// names are resolved and confined to it. A path outside becomes that item's error (a top-level file outside
    /// throws <see cref="PathNotAllowedException"/>). Unrestricted by default, for local use; a silo passes its
    /// configured dataset roots.</summary>
    public PathPolicy Paths { get; init; } = PathPolicy.Unrestricted;
}
