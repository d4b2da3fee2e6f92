using System.Globalization;
using System.Text.Json;

namespace MaskInversion.Core.Datasets;

/// <summary>
/// VGPhraseCut (the dataset folder VGPhraseCut_v0: refer_&lt;split&gt;.json, image_data_split.json, images/&lt;id&gt;.jpg).
/// Each task is a phrase and its region: the union of the polygons of all its instances. Per image, the candidates are
/// the distinct regions of the image's tasks (tasks with identical polygons share one candidate), and every phrase is
/// matched against them. Polygon vertices are truncated to integers as the dataset's own polygons_to_mask does, then
/// rasterised with COCO's polygon semantics (<see cref="CocoRle"/>), which can differ from PIL's ImageDraw by a pixel on
/// edges; polygons of fewer than three points (lines) are skipped. The split's file is read whole (val: 20 k tasks).
/// A mask's class is its first phrase's category name (the phrase structure's "name").
/// </summary>
public sealed class PhraseCutReader : IDatasetReader
{
    List<ImageTasks>? images;
    List<ClassInfo>? classes;
    Dictionary<string, (int W, int H)> sizes = new(StringComparer.Ordinal);
    readonly List<DatasetRecord> loadErrors = [];

    public string Root { get; }
    public string Split { get; }
    public string ReferPath => paths.Resolve($"refer_{Split}.json", Root, "PhraseCut tasks file");
    readonly PathPolicy paths;
    public string ImagesDirectory => Path.Combine(Root, "images");
    string SizesPath => paths.Resolve("image_data_split.json", Root, "PhraseCut image sizes file");

    /// <param name="root">The VGPhraseCut_v0 folder.</param>
    /// <param name="split">train, val, test or miniv (default val).</param>
    /// <param name="readerOptions">Where the reader may read (<see cref="DatasetReaderOptions.Paths"/>): the root, its
    /// JSON files and each image (an image id naming a path outside is that image's error).</param>
    public PhraseCutReader(string root, string? split = null, DatasetReaderOptions? readerOptions = null)
    {
        paths = (readerOptions ?? DatasetReaderOptions.Default).Paths;
        Root = paths.Resolve(root, what: "dataset root");
        if (!Directory.Exists(Root)) throw new DirectoryNotFoundException($"PhraseCut folder not found: {Root}");
        Split = split ?? "val";
        if (!File.Exists(ReferPath)) throw new FileNotFoundException($"PhraseCut tasks not found: {ReferPath}", ReferPath);
        if (!File.Exists(SizesPath))
            throw new FileNotFoundException($"PhraseCut image sizes not found: {SizesPath}");
    }

    /// <summary>Distinct category names of the split's phrases, sorted ordinally.</summary>
    public IReadOnlyList<ClassInfo> Classes { get { Load(); return classes!; } }

    sealed record Task(string TaskId, string Phrase, string Name, double[][] Rings);
    sealed record ImageTasks(string ImageId, List<Task> Tasks);

    void Load()
    {
        if (images is not null) return;
        var file = Path.GetFileName(ReferPath);
        var sizes = new Dictionary<string, (int W, int H)>(StringComparer.Ordinal);
        using (var doc = JsonDocument.Parse(File.ReadAllBytes(SizesPath)))
            foreach (var e in doc.RootElement.EnumerateArray())
                if (e.TryGetProperty("image_id", out var id) && e.TryGetProperty("width", out var w) && e.TryGetProperty("height", out var h))
                    sizes[Id(id)] = (w.GetInt32(), h.GetInt32());

        var byImage = new Dictionary<string, ImageTasks>(StringComparer.Ordinal);
        var order = new List<ImageTasks>();
        using (var doc = JsonDocument.Parse(File.ReadAllBytes(ReferPath)))
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Array) throw new InvalidDataException($"{file}: expected a JSON array of tasks.");
            int index = 0;
            foreach (var t in doc.RootElement.EnumerateArray())
            {
                try
                {
                    var imageId = Id(t.GetProperty("image_id"));
                    var taskId = t.TryGetProperty("task_id", out var tid) ? Id(tid) : $"{imageId}_{index}";
                    var phrase = t.GetProperty("phrase").GetString() ?? throw new FormatException("null phrase.");
                    var name = t.TryGetProperty("phrase_structure", out var ps) && ps.ValueKind == JsonValueKind.Object
                        && ps.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString()! : phrase;
                    var rings = Rings(t.GetProperty("Polygons"));
                    if (rings.Length == 0) throw new FormatException("no polygon with three or more points.");
                    if (!byImage.TryGetValue(imageId, out var group)) { byImage[imageId] = group = new ImageTasks(imageId, []); order.Add(group); }
                    group.Tasks.Add(new Task(taskId, phrase, name, rings));
                }
                catch (Exception ex) when (ex is FormatException or InvalidOperationException or KeyNotFoundException)
                {
                    loadErrors.Add(DatasetRecord.Fail($"{file}[{index}]", $"{file}: task #{index}: {ex.Message}"));
                }
                index++;
            }
        }
        foreach (var g in order.Where(g => !sizes.ContainsKey(g.ImageId)).ToList())
        {
            loadErrors.Add(DatasetRecord.Fail(g.ImageId, $"image_data_split.json has no size for image {g.ImageId} ({g.Tasks.Count} task(s) in {file})."));
            order.Remove(g);
        }
        this.sizes = sizes;
        images = order;
        classes = order.SelectMany(g => g.Tasks.Select(t => t.Name)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)
            .Select(c => new ClassInfo(c, c)).ToList();
    }

    static string Id(JsonElement e) => e.ValueKind == JsonValueKind.Number ? e.GetInt64().ToString(CultureInfo.InvariantCulture)
        : e.GetString() ?? throw new FormatException("null id.");

    /// <summary>"Polygons": per instance a list of polygons, each a list of [x, y]; flattened to COCO rings.</summary>
    static double[][] Rings(JsonElement polygons)
    {
        var rings = new List<double[]>();
        foreach (var instance in polygons.EnumerateArray())
            foreach (var polygon in instance.EnumerateArray())
            {
                var points = polygon.EnumerateArray().Select(p => (X: Math.Truncate(p[0].GetDouble()), Y: Math.Truncate(p[1].GetDouble()))).ToArray();
                if (points.Length < 3) continue;
                rings.Add(points.SelectMany(p => new[] { p.X, p.Y }).ToArray());
            }
        return rings.ToArray();
    }

    public IEnumerable<DatasetRecord> ReadImages(CancellationToken cancellationToken = default)
    {
        Load();
        foreach (var e in loadErrors) yield return e;
        foreach (var g in images!)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var (w, h) = sizes[g.ImageId];
            var masks = new List<DatasetMask>();
            var byShape = new Dictionary<string, string>(StringComparer.Ordinal);
            var expressions = new List<ReferringExpression>();
            foreach (var t in g.Tasks)
            {
                var key = string.Join(";", t.Rings.Select(r => string.Join(",", r.Select(v => v.ToString(CultureInfo.InvariantCulture)))));
                if (!byShape.TryGetValue(key, out var maskId))
                {
                    byShape[key] = maskId = t.TaskId;
                    masks.Add(new DatasetMask(maskId, t.Name, t.Name, t.Phrase, MaskSource.Polygon(t.Rings, h, w), null));
                }
                expressions.Add(new ReferringExpression(t.TaskId, t.Phrase, maskId));
            }
            string? imagePath = null, refused = null;
            try { imagePath = paths.Resolve(g.ImageId + ".jpg", ImagesDirectory, "image"); }
            catch (PathNotAllowedException e) { refused = e.Message; }
            yield return imagePath is null
                ? DatasetRecord.Fail(g.ImageId, $"{Path.GetFileName(ReferPath)}: image {g.ImageId}: {refused}")
                : DatasetRecord.Of(new DatasetImage(g.ImageId, imagePath, masks, expressions));
        }
    }
}
