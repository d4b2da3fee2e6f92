using System.Globalization;

namespace MaskInversion.Core.Datasets;

/// <summary>
/// Where the OpenImages V7 segmentation files live under the dataset root. Every path is relative to the root
/// and may contain "{split}". For the mask and image folders the first candidate that exists is used (checked
/// once, when the reader is opened, not per file); when none exists the first candidate is used and the
/// missing files surface later as per-mask load errors.
/// </summary>
public sealed record OpenImagesLayout
{
    public string AnnotationsFile { get; init; } = "{split}-annotations-object-segmentation.csv";
    public string ClassDescriptionsFile { get; init; } = "class-descriptions-boxable.csv";
    /// <summary>Optional: one LabelName per line restricting the class set (V7 ships 350). Ignored when absent.</summary>
    public string SegmentationClassesFile { get; init; } = "classes-segmentation.txt";
    public IReadOnlyList<string> MaskDirectories { get; init; } = ["{split}/masks", "masks"];
    public IReadOnlyList<string> ImageDirectories { get; init; } = ["{split}/images", "images"];
    public string ImageExtension { get; init; } = ".jpg";

    public static OpenImagesLayout Default { get; } = new();
}

/// <summary>
/// Streams an OpenImages V7 instance-segmentation split (CSV columns MaskPath, ImageID, LabelName, BoxID,
/// BoxXMin, BoxXMax, BoxYMin, BoxYMax, PredictedIoU, Clicks), one image with all its masks at a time.
/// <para>
/// The CSV has millions of rows and is not guaranteed to be grouped by ImageID, so it is never loaded whole:
/// a first streaming pass indexes ImageID → (byte offset, line) of its rows; images are then yielded in order
/// of first appearance by seeking back to their rows. The index costs roughly 12 bytes per row plus ~100 bytes
/// per image (≈ 130 MB for the 2.7 M-row train split), which a reader process can afford; the index is built
/// once per reader and reused by later enumerations.
/// </para>
/// <para>
/// Row problems (wrong column count, empty ids, non-numeric box, LabelName missing from the class
/// descriptions) become <see cref="DatasetError"/>s naming file, line and cause. Rows whose label is known but
/// excluded by classes-segmentation.txt are skipped silently (counted in <see cref="SkippedRows"/>): that is
/// a deliberate restriction, not damage. Images left with no mask are not yielded.
/// </para>
/// </summary>
public sealed class OpenImagesReader : IDatasetReader
{
    static readonly string[] RequiredColumns = ["MaskPath", "ImageID", "LabelName", "BoxXMin", "BoxXMax", "BoxYMin", "BoxYMax"];

    readonly string annotationsPath;
    readonly Dictionary<string, string> displayNames;   // every described label → display name
    readonly HashSet<string> allowed;                   // labels in the class set
    readonly Dictionary<string, int> columns = new(StringComparer.Ordinal);
    readonly PathPolicy paths;
    int columnCount;
    Index? index;

    public string Root { get; }
    public string Split { get; }
    public string MasksDirectory { get; }
    public string ImagesDirectory { get; }
    public OpenImagesLayout Layout { get; }
    public IReadOnlyList<ClassInfo> Classes { get; }

    /// <summary>Rows dropped because their label is outside classes-segmentation.txt (known after a full enumeration).</summary>
    public long SkippedRows { get; private set; }

    public OpenImagesReader(string root, string split, OpenImagesLayout? layout = null, DatasetReaderOptions? readerOptions = null)
    {
        Layout = layout ?? OpenImagesLayout.Default;
        paths = (readerOptions ?? DatasetReaderOptions.Default).Paths;
        Root = paths.Resolve(root, what: "dataset root");
        Split = split;
        annotationsPath = Resolve(Layout.AnnotationsFile);
        if (!File.Exists(annotationsPath)) throw new FileNotFoundException($"OpenImages annotations not found: {annotationsPath}", annotationsPath);
        var descriptionsPath = Resolve(Layout.ClassDescriptionsFile);
        if (!File.Exists(descriptionsPath)) throw new FileNotFoundException($"OpenImages class descriptions not found: {descriptionsPath}", descriptionsPath);

        displayNames = new Dictionary<string, string>(StringComparer.Ordinal);
        var describedOrder = new List<string>();
        using (var csv = CsvRecordReader.Open(descriptionsPath))
        {
            var f = new List<string>();
            while (csv.Read(f, out _, out int line))
            {
                if (csv.RecordError is { } bad)
                    throw new InvalidDataException($"{descriptionsPath}:{line}: {bad}.");
                if (f.Count < 2 || f[0].Length == 0)
                    throw new InvalidDataException($"{Path.GetFileName(descriptionsPath)}:{line}: expected 'LabelName,DisplayName'.");
                if (displayNames.TryAdd(f[0], f[1])) describedOrder.Add(f[0]);
            }
        }

        var segPath = Resolve(Layout.SegmentationClassesFile);
        IEnumerable<string> classOrder = describedOrder;
        if (File.Exists(segPath))
            classOrder = File.ReadLines(segPath).Select(l => l.Trim()).Where(l => l.Length > 0).Distinct().ToList();
        var classes = classOrder.Select(id => new ClassInfo(id, displayNames.GetValueOrDefault(id, id))).ToList();
        foreach (var c in classes) displayNames.TryAdd(c.Id, c.Name);   // a listed class with no description is still known
        Classes = classes;
        allowed = new HashSet<string>(classes.Select(c => c.Id), StringComparer.Ordinal);

        MasksDirectory = FirstExistingDirectory(Layout.MaskDirectories);
        ImagesDirectory = FirstExistingDirectory(Layout.ImageDirectories);
    }

    string Resolve(string relative) => paths.Resolve(relative.Replace("{split}", Split), Root, "dataset file");

    string FirstExistingDirectory(IReadOnlyList<string> candidates)
    {
        if (candidates.Count == 0) throw new ArgumentException("At least one candidate directory is required.");
        foreach (var c in candidates)
        {
            var dir = Resolve(c);
            if (Directory.Exists(dir)) return dir;
        }
        return Resolve(candidates[0]);
    }

    public IEnumerable<DatasetRecord> ReadImages(CancellationToken cancellationToken = default)
    {
        var idx = index ??= BuildIndex(cancellationToken);
        foreach (var e in idx.Errors) yield return e;

        var file = Path.GetFileName(annotationsPath);
        using var csv = CsvRecordReader.Open(annotationsPath, bufferSize: 1 << 13);
        var fields = new List<string>(columnCount);
        var masks = new List<DatasetMask>();
        var errors = new List<DatasetRecord>();
        long skipped = 0;
        var firstLine = new Dictionary<string, int>(StringComparer.Ordinal);   // mask id → line, within one image
        for (int i = 0; i < idx.ImageIds.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            string imageId = idx.ImageIds[i];
            masks.Clear();
            errors.Clear();
            firstLine.Clear();
            string imagePath;
            try { imagePath = paths.Resolve(imageId + Layout.ImageExtension, ImagesDirectory, "image"); }
            catch (PathNotAllowedException e)
            {
                imagePath = "";
                errors.Add(DatasetRecord.Fail(imageId, $"{file}:{idx.Rows[i][0].Line}: image {imageId}: {e.Message}"));
            }
            foreach (var row in imagePath.Length > 0 ? idx.Rows[i] : [])
            {
                csv.Seek(row.Offset, row.Line);
                csv.Read(fields, out _, out _);
                var mask = ParseRow(fields, imageId, file, row.Line, errors, ref skipped);
                if (mask is null) continue;
                if (!firstLine.TryAdd(mask.MaskId, row.Line))
                    errors.Add(DatasetRecord.Fail($"{imageId}/{mask.MaskId}",
                        $"{file}:{row.Line}: mask {mask.MaskId} of image {imageId} repeats the one on line {firstLine[mask.MaskId]}; only that one is used."));
                else masks.Add(mask);
            }
            foreach (var e in errors) yield return e;
            if (masks.Count > 0) yield return DatasetRecord.Of(new DatasetImage(imageId, imagePath, masks.ToArray()));
        }
        SkippedRows = skipped;
    }

    DatasetMask? ParseRow(List<string> f, string imageId, string file, int line, List<DatasetRecord> errors, ref long skipped)
    {
        string maskPath = f[columns["MaskPath"]];
        string maskId = maskPath.Length > 0 ? Path.GetFileNameWithoutExtension(maskPath) : $"{file}:{line}";
        string itemId = $"{imageId}/{maskId}";
        if (maskPath.Length == 0) { errors.Add(DatasetRecord.Fail(itemId, $"{file}:{line}: empty MaskPath.")); return null; }
        string label = f[columns["LabelName"]];
        if (!displayNames.TryGetValue(label, out var name))
        {
            errors.Add(DatasetRecord.Fail(itemId, $"{file}:{line}: unknown LabelName '{label}' (not in {Layout.ClassDescriptionsFile})."));
            return null;
        }
        if (!allowed.Contains(label)) { skipped++; return null; }
        var box = new double[4];
        string[] boxColumns = ["BoxXMin", "BoxXMax", "BoxYMin", "BoxYMax"];
        for (int k = 0; k < 4; k++)
        {
            var text = f[columns[boxColumns[k]]];
            if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out box[k]) || !double.IsFinite(box[k]))
            {
                errors.Add(DatasetRecord.Fail(itemId, $"{file}:{line}: {boxColumns[k]} '{text}' is not a number."));
                return null;
            }
        }
        string maskFile;
        try { maskFile = paths.Resolve(maskPath, MasksDirectory, "mask"); }
        catch (PathNotAllowedException e)
        {
            errors.Add(DatasetRecord.Fail(itemId, $"{file}:{line}: {e.Message}"));
            return null;
        }
        return new DatasetMask(maskId, label, name, null, MaskSource.Png(maskFile), new RegionBox(box[0], box[1], box[2], box[3]));
    }

    Index BuildIndex(CancellationToken ct)
    {
        var file = Path.GetFileName(annotationsPath);
        using var csv = CsvRecordReader.Open(annotationsPath);
        var fields = new List<string>();
        if (!csv.Read(fields, out _, out _)) throw new InvalidDataException($"{file} is empty.");
        columns.Clear();
        for (int i = 0; i < fields.Count; i++) columns.TryAdd(fields[i].Trim(), i);
        var missing = RequiredColumns.Where(c => !columns.ContainsKey(c)).ToList();
        if (missing.Count > 0) throw new InvalidDataException($"{file}: header lacks column(s) {string.Join(", ", missing)}.");
        columnCount = fields.Count;
        int imageColumn = columns["ImageID"];

        var idx = new Index();
        var byImage = new Dictionary<string, int>(StringComparer.Ordinal);
        while (csv.Read(fields, out long offset, out int line))
        {
            if ((line & 0xFFFF) == 0) ct.ThrowIfCancellationRequested();
            if (csv.RecordError is { } bad)
            {
                idx.Errors.Add(DatasetRecord.Fail($"{file}:{line}", $"{file}:{line}: {bad}; the row is skipped."));
                continue;
            }
            if (fields.Count != columnCount)
            {
                idx.Errors.Add(DatasetRecord.Fail($"{file}:{line}", $"{file}:{line}: expected {columnCount} columns, found {fields.Count}."));
                continue;
            }
            var imageId = fields[imageColumn];
            if (imageId.Length == 0)
            {
                idx.Errors.Add(DatasetRecord.Fail($"{file}:{line}", $"{file}:{line}: empty ImageID."));
                continue;
            }
            if (!byImage.TryGetValue(imageId, out int slot))
            {
                slot = idx.ImageIds.Count;
                byImage.Add(imageId, slot);
                idx.ImageIds.Add(imageId);
                idx.Rows.Add(new List<RowRef>(4));
            }
            idx.Rows[slot].Add(new RowRef(offset, line));
        }
        return idx;
    }

    readonly record struct RowRef(long Offset, int Line);

    sealed class Index
    {
        public readonly List<string> ImageIds = new();
        public readonly List<List<RowRef>> Rows = new();
        public readonly List<DatasetRecord> Errors = new();
    }
}
