using System.Globalization;
using MaskInversion.Core.Imaging;

namespace MaskInversion.Core.Datasets;

/// <summary>Where a label-map dataset keeps its files and what its label values mean.</summary>
/// <param name="ImagesFolder">Images, relative to the root: &lt;id&gt;&lt;ImageExtension&gt;.</param>
/// <param name="LabelsFolder">Label-map PNGs, relative to the root: &lt;id&gt;.png.</param>
/// <param name="SplitFile">The split's image ids, one per line, relative to the root; "{split}" is replaced.</param>
/// <param name="ClassNames">Names of the classes, in label order starting at <paramref name="FirstClassLabel"/>.</param>
/// <param name="FirstClassLabel">Label value of the first class (1 when 0 is background).</param>
/// <param name="IgnoredLabels">Values that are no class (background, void): no mask is made for them.</param>
public sealed record LabelMapLayout(string ImagesFolder, string LabelsFolder, string SplitFile, string ImageExtension,
    IReadOnlyList<string> ClassNames, int FirstClassLabel, IReadOnlyList<int> IgnoredLabels, string DefaultSplit)
{
    /// <summary>Pascal VOC 2012 segmentation (root = VOCdevkit/VOC2012): palette PNGs in SegmentationClass, index =
    /// class (1–20), 0 background, 255 the void border.</summary>
    public static LabelMapLayout PascalVoc { get; } = new("JPEGImages", "SegmentationClass", "ImageSets/Segmentation/{split}.txt", ".jpg",
        PascalClasses.Voc, 1, [0, 255], "val");

    /// <summary>Pascal Context, 59 classes (root = VOCdevkit/VOC2010), in the layout mmsegmentation's converter writes:
    /// 8-bit PNGs in SegmentationClassContext with 0 = background and 1–59 the classes, split lists in
    /// ImageSets/SegmentationContext.</summary>
    public static LabelMapLayout PascalContext { get; } = new("JPEGImages", "SegmentationClassContext", "ImageSets/SegmentationContext/{split}.txt", ".jpg",
        PascalClasses.Context59, 1, [0, 255], "val");

    /// <summary>The same layout with class names from a file (one per line, in label order from <see cref="FirstClassLabel"/>),
    /// e.g. Pascal Context's full 459 classes for 16-bit label maps.</summary>
    public LabelMapLayout WithClassesFile(string path) =>
        this with { ClassNames = File.ReadLines(path).Select(l => l.Trim()).Where(l => l.Length > 0).ToArray() };
}

/// <summary>
/// Class retrieval on semantic-segmentation label maps (Pascal VOC, Pascal Context): each class present in an
/// image's label map is one query mask (all its pixels), whose true class is that label. Void and background
/// pixels belong to no mask. Label maps are read here to find the classes present (they are small); the mask's
/// pixels are read again where it is inverted (<see cref="MaskSourceKind.LabelMap"/>).
/// </summary>
public sealed class LabelMapReader : IDatasetReader
{
    public string Root { get; }
    public string Split { get; }
    public LabelMapLayout Layout { get; }
    public IReadOnlyList<ClassInfo> Classes { get; }
    readonly PathPolicy paths;

    /// <param name="readerOptions">Where the reader may read (<see cref="DatasetReaderOptions.Paths"/>): the root, the
    /// split list, and each id's label map and image (an id such as <c>../../x</c> is that item's error).</param>
    public LabelMapReader(string root, string? split, LabelMapLayout layout, DatasetReaderOptions? readerOptions = null)
    {
        paths = (readerOptions ?? DatasetReaderOptions.Default).Paths;
        Root = paths.Resolve(root, what: "dataset root");
        if (!Directory.Exists(Root)) throw new DirectoryNotFoundException($"Dataset folder not found: {Root}");
        Split = split ?? layout.DefaultSplit;
        Layout = layout;
        if (layout.ClassNames.Count == 0) throw new ArgumentException("The layout names no classes.");
        Classes = layout.ClassNames.Select((name, i) => new ClassInfo((i + layout.FirstClassLabel).ToString(CultureInfo.InvariantCulture), name)).ToList();
        SplitPath = paths.Resolve(Layout.SplitFile.Replace("{split}", Split, StringComparison.Ordinal), Root, "split list");
        if (!File.Exists(SplitPath)) throw new FileNotFoundException($"Split list not found: {SplitPath}", SplitPath);
    }

    public string SplitPath { get; }

    public IEnumerable<DatasetRecord> ReadImages(CancellationToken cancellationToken = default)
    {
        int line = 0;
        var splitName = Path.GetFileName(SplitPath);
        foreach (var raw in File.ReadLines(SplitPath))
        {
            line++;
            cancellationToken.ThrowIfCancellationRequested();
            var id = raw.Trim();
            if (id.Length == 0) continue;
            yield return Read(id, $"{splitName}:{line}");
        }
    }

    DatasetRecord Read(string id, string where)
    {
        string labelsPath, imagePath;
        try
        {
            labelsPath = paths.Resolve(Path.Combine(Layout.LabelsFolder, id + ".png"), Root, "label map");
            imagePath = paths.Resolve(Path.Combine(Layout.ImagesFolder, id + Layout.ImageExtension), Root, "image");
        }
        catch (PathNotAllowedException e) { return DatasetRecord.Fail(id, $"{where}: image {id}: {e.Message}"); }
        LabelMap map;
        try { map = LabelMapLoader.Load(labelsPath); }
        catch (ImageLoadException e) { return DatasetRecord.Fail(id, $"{where}: image {id}: {e.Message}"); }

        var masks = new List<DatasetMask>();
        var unknown = new List<int>();
        foreach (int label in map.Present())
        {
            if (Layout.IgnoredLabels.Contains(label)) continue;
            int index = label - Layout.FirstClassLabel;
            if (index < 0 || index >= Classes.Count) { unknown.Add(label); continue; }
            var cls = Classes[index];
            masks.Add(new DatasetMask($"{id}_{cls.Id}", cls.Id, cls.Name, null, MaskSource.LabelMapClass(labelsPath, label), Box(map, label)));
        }
        if (unknown.Count > 0)
            return DatasetRecord.Fail(id, $"{where}: image {id}: label value(s) {string.Join(", ", unknown)} in {labelsPath} are neither classes " +
                $"({Layout.FirstClassLabel}–{Layout.FirstClassLabel + Classes.Count - 1}) nor ignored ({string.Join(", ", Layout.IgnoredLabels)}).");
        if (masks.Count == 0) return DatasetRecord.Fail(id, $"{where}: image {id}: {labelsPath} holds no class pixels.");
        return DatasetRecord.Of(new DatasetImage(id, imagePath, masks));
    }

    static RegionBox Box(LabelMap map, int label)
    {
        int x0 = map.Width, y0 = map.Height, x1 = -1, y1 = -1;
        for (int y = 0; y < map.Height; y++)
            for (int x = 0; x < map.Width; x++)
                if (map.Labels[y * map.Width + x] == label)
                {
                    x0 = Math.Min(x0, x); x1 = Math.Max(x1, x);
                    y0 = Math.Min(y0, y); y1 = Math.Max(y1, y);
                }
        return new RegionBox((double)x0 / map.Width, (double)(x1 + 1) / map.Width, (double)y0 / map.Height, (double)(y1 + 1) / map.Height);
    }
}
