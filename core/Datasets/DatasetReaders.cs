namespace MaskInversion.Core.Datasets;

/// <summary>Opens a dataset reader by format name, as the job spec and CLI name them.</summary>
public static class DatasetReaders
{
    public static IReadOnlyList<string> Formats { get; } = ["openimages", "coco", "jsonl"];

    /// <param name="format">"openimages", "coco" or "jsonl" (case-insensitive).</param>
    /// <param name="root">
    /// openimages: the dataset folder (see <see cref="OpenImagesLayout"/>).
    /// coco: the dataset folder holding annotations/instances_&lt;split&gt;.json and &lt;split&gt;/ images (COCO 2017
    /// layout), or an instances_*.json file itself, whose images are then looked up in &lt;its folder&gt;/../&lt;split&gt;.
    /// jsonl: the manifest file.
    /// </param>
    /// <param name="split">openimages: e.g. "validation" (default); coco: e.g. "val2017" (default); jsonl: unused.</param>
    /// <param name="classesFile">jsonl: optional class list; openimages: overrides classes-segmentation.txt.</param>
    /// <param name="readerOptions">Where the reader may read (<see cref="DatasetReaderOptions.Paths"/>); the root and
    /// the classes file are confined before anything about them is looked at.</param>
    public static IDatasetReader Open(string format, string root, string? split = null, string? classesFile = null,
        OpenImagesLayout? openImagesLayout = null, CocoOptions? cocoOptions = null, DatasetReaderOptions? readerOptions = null)
    {
        readerOptions ??= DatasetReaderOptions.Default;
        var paths = readerOptions.Paths;
        root = paths.Resolve(root, what: "dataset root");
        if (classesFile is not null) classesFile = paths.Resolve(classesFile, what: "classes file");
        switch (format.ToLowerInvariant())
        {
            case "openimages":
                var layout = openImagesLayout ?? OpenImagesLayout.Default;
                if (classesFile is not null) layout = layout with { SegmentationClassesFile = classesFile };
                return new OpenImagesReader(root, split ?? "validation", layout, readerOptions);
            case "coco":
                split ??= "val2017";
                if (File.Exists(root))
                    return new CocoReader(root, Path.Combine(Path.GetDirectoryName(root)!, "..", split), cocoOptions, readerOptions);
                return new CocoReader(Path.Combine(root, "annotations", $"instances_{split}.json"), Path.Combine(root, split), cocoOptions, readerOptions);
            case "jsonl":
                return new JsonlManifestReader(root, classesFile, readerOptions);
            default:
                throw new ArgumentException($"Unknown dataset format '{format}'; expected one of {string.Join(", ", Formats)}.", nameof(format));
        }
    }
}
