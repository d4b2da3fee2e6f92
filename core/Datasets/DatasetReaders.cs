namespace MaskInversion.Core.Datasets;

/// <summary>Opens a dataset reader by format name, as the job spec and CLI name them.</summary>
public static class DatasetReaders
{
    public static IReadOnlyList<string> Formats { get; } =
        ["openimages", "coco", "jsonl", "voc", "pascal-context", "refcoco", "refcoco+", "refcocog", "phrasecut"];

    /// <summary>Formats whose images carry referring expressions (<see cref="DatasetImage.Expressions"/>).</summary>
    public static bool IsReferring(string format) => format.ToLowerInvariant() is "refcoco" or "refcoco+" or "refcocog" or "phrasecut";

    /// <param name="format">"openimages", "coco" or "jsonl" (case-insensitive).</param>
    /// <param name="root">
    /// openimages: the dataset folder (see <see cref="OpenImagesLayout"/>).
    /// coco: the dataset folder holding annotations/instances_&lt;split&gt;.json and &lt;split&gt;/ images (COCO 2017
    /// layout), or an instances_*.json file itself, whose images are then looked up in &lt;its folder&gt;/../&lt;split&gt;.
    /// jsonl: the manifest file.
    /// voc: VOCdevkit/VOC2012 (or VOCdevkit holding it); pascal-context: VOCdevkit/VOC2010 (or VOCdevkit) — see
    /// <see cref="LabelMapLayout"/>.
    /// refcoco, refcoco+, refcocog: the refer toolkit's folder (refs(…).p, instances.json) or the refs file — see
    /// <see cref="RefCocoReader"/>. phrasecut: the VGPhraseCut_v0 folder.
    /// </param>
    /// <param name="split">openimages: e.g. "validation" (default); coco: e.g. "val2017" (default); jsonl: unused;
    /// voc, pascal-context, refcoco*, phrasecut: "val" by default (RefCOCO: also testA, testB; RefCOCOg umd: test).</param>
    /// <param name="classesFile">jsonl: optional class list; openimages: overrides classes-segmentation.txt;
    /// voc, pascal-context: class names in label order (e.g. Pascal Context's 459 for 16-bit label maps).</param>
    /// <param name="readerOptions">Where the reader may read (<see cref="DatasetReaderOptions.Paths"/>); the root and
    /// the classes file are confined before anything about them is looked at.</param>
    public static IDatasetReader Open(string format, string root, string? split = null, string? classesFile = null,
        OpenImagesLayout? openImagesLayout = null, CocoOptions? cocoOptions = null, RefCocoOptions? refCocoOptions = null,
        DatasetReaderOptions? readerOptions = null)
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
            case "voc":
            case "pascal-context":
                {
                    bool voc = format.Equals("voc", StringComparison.OrdinalIgnoreCase);
                    var labelLayout = voc ? LabelMapLayout.PascalVoc : LabelMapLayout.PascalContext;
                    if (classesFile is not null) labelLayout = labelLayout.WithClassesFile(classesFile);
                    var year = Path.Combine(root, voc ? "VOC2012" : "VOC2010");
                    return new LabelMapReader(Directory.Exists(year) ? year : root, split, labelLayout, readerOptions);
                }
            case "refcoco":
            case "refcoco+":
            case "refcocog":
                return new RefCocoReader(format, root, split, refCocoOptions, readerOptions);
            case "phrasecut":
                return new PhraseCutReader(root, split, readerOptions);
            default:
                throw new ArgumentException($"Unknown dataset format '{format}'; expected one of {string.Join(", ", Formats)}.", nameof(format));
        }
    }

    /// <summary>Opens the reader a job's <see cref="DatasetReaderOptions"/> describe.</summary>
    public static IDatasetReader Open(DatasetReaderOptions options) =>
        Open(options.Format, options.Root, options.Split, options.ClassesFile, cocoOptions: new CocoOptions { IncludeCrowd = options.IncludeCrowd },
            readerOptions: options);
}
