namespace MaskInversion.Core.Datasets;

/// <summary>
/// Streams a segmentation dataset image by image. Bad rows become <see cref="DatasetError"/> records in the
/// stream instead of exceptions, so one corrupt row never stops a million-image job. Missing or unreadable
/// top-level files (the annotation file itself) do throw, from the factory or the constructor.
/// </summary>
public interface IDatasetReader
{
    /// <summary>The class vocabulary, in the order that defines integer class indices.</summary>
    IReadOnlyList<ClassInfo> Classes { get; }

    /// <summary>Images with their masks, interleaved with per-row errors. May be enumerated more than once.</summary>
    IEnumerable<DatasetRecord> ReadImages(CancellationToken cancellationToken = default);
}
