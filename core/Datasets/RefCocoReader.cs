using System.Globalization;
using System.Numerics;
using System.Text.Json;

namespace MaskInversion.Core.Datasets;

/// <summary>Options for <see cref="RefCocoReader"/>; every path defaults from the dataset folder.</summary>
public sealed record RefCocoOptions
{
    /// <summary>The refs file: <c>refs(unc).p</c>, <c>refs(umd).p</c>, <c>refs(google).p</c>, or a JSON export of the same
    /// list (<c>.json</c>). Default: refs(&lt;split-by&gt;).p, else refs(&lt;split-by&gt;).json, in the dataset folder.</summary>
    public string? RefsFile { get; init; }
    /// <summary>The COCO-format instances of the referred images. Default: instances.json in the dataset folder.</summary>
    public string? InstancesFile { get; init; }
    /// <summary>COCO train2014 images. Default: the first that exists of &lt;folder&gt;/train2014, &lt;folder&gt;/images,
    /// &lt;folder&gt;/../images/mscoco/images/train2014 (the refer toolkit's layout), &lt;folder&gt;/../train2014.</summary>
    public string? ImagesDirectory { get; init; }
    /// <summary>Use each sentence's "raw" text instead of its normalised "sent" (lower case, tokens joined by spaces).</summary>
    public bool RawSentences { get; init; }
}

/// <summary>
/// RefCOCO, RefCOCO+ and RefCOCOg (the refer toolkit's files): each ref names one COCO instance (ann_id) and has one
/// or more sentences; every sentence of the chosen split is one expression, and <i>all</i> instance masks of its image
/// are the candidates it is matched against (crowd regions included, so every referred instance is among them).
/// refs(…).p is a Python pickle: it is read by <see cref="RestrictedUnpickler"/>, which builds plain data only and
/// refuses anything else. Masks come from the instances file through <see cref="CocoReader"/> (pycocotools' exact
/// rasterisation). Images are yielded in the instances file's order; a ref whose image or instance is missing is an error
/// record naming it.
/// </summary>
public sealed class RefCocoReader : IDatasetReader
{
    readonly CocoReader coco;
    readonly bool raw;
    Dictionary<string, List<Ref>>? refsByImage;
    readonly List<DatasetRecord> loadErrors = [];

    public string Dataset { get; }
    public string Split { get; }
    public string RefsPath { get; }
    public IReadOnlyList<ClassInfo> Classes => coco.Classes;

    /// <param name="dataset">"refcoco", "refcoco+" or "refcocog" (picks the default refs file: unc, unc, umd).</param>
    /// <param name="root">The dataset folder (holding refs(…).p and instances.json) or the refs file itself.</param>
    /// <param name="split">unc: train, val, testA, testB; umd: train, val, test; google: train, val. Default val.</param>
    /// <param name="readerOptions">Where the reader may read (<see cref="DatasetReaderOptions.Paths"/>): the refs,
    /// instances and images locations, and each image's file_name (as in <see cref="CocoReader"/>).</param>
    public RefCocoReader(string dataset, string root, string? split = null, RefCocoOptions? options = null, DatasetReaderOptions? readerOptions = null)
    {
        options ??= new RefCocoOptions();
        readerOptions ??= DatasetReaderOptions.Default;
        var paths = readerOptions.Paths;
        Dataset = dataset.ToLowerInvariant();
        string splitBy = Dataset switch
        {
            "refcoco" or "refcoco+" => "unc",
            "refcocog" => "umd",
            _ => throw new ArgumentException($"Unknown referring dataset '{dataset}'; expected refcoco, refcoco+ or refcocog."),
        };
        root = paths.Resolve(root, what: "dataset root");
        string folder = File.Exists(root) ? Path.GetDirectoryName(root)! : root;
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"{Dataset} folder not found: {folder}");
        RefsPath = options.RefsFile is { } f ? paths.Resolve(f, what: "refs file")
            : File.Exists(root) ? root
            : new[] { $"refs({splitBy}).p", $"refs({splitBy}).json" }.Select(n => Path.Combine(folder, n)).FirstOrDefault(File.Exists)
              ?? throw new FileNotFoundException($"No refs({splitBy}).p or refs({splitBy}).json in {folder}; pass the refs file.");
        if (!File.Exists(RefsPath)) throw new FileNotFoundException($"Refs file not found: {RefsPath}", RefsPath);
        var instances = options.InstancesFile is { } i ? paths.Resolve(i, what: "instances file") : Path.Combine(folder, "instances.json");
        // The default images folders include ones beside the dataset folder: those outside the allowed roots are not looked at.
        string[] candidates = options.ImagesDirectory is { } d ? [paths.Resolve(d, what: "images folder")]
            : [Path.Combine(folder, "train2014"), Path.Combine(folder, "images"),
               Path.GetFullPath(Path.Combine(folder, "..", "images", "mscoco", "images", "train2014")), Path.GetFullPath(Path.Combine(folder, "..", "train2014"))];
        var images = candidates.FirstOrDefault(c => paths.Allows(c) && Directory.Exists(c))
            ?? throw new DirectoryNotFoundException($"COCO train2014 images not found (looked in {string.Join(", ", candidates)}); pass the images folder.");
        coco = new CocoReader(instances, images, new CocoOptions { IncludeCrowd = true }, readerOptions);
        Split = split ?? "val";
        raw = options.RawSentences;
    }

    /// <summary>One ref: the instance it names and its sentences.</summary>
    sealed record Ref(long RefId, long AnnId, long ImageId, string Split, IReadOnlyList<(long SentId, string Sent, string Raw)> Sentences);

    public IEnumerable<DatasetRecord> ReadImages(CancellationToken cancellationToken = default)
    {
        if (refsByImage is null)
        {
            var all = LoadRefs(RefsPath, loadErrors);
            refsByImage = all.Where(r => r.Split == Split).GroupBy(r => r.ImageId.ToString(CultureInfo.InvariantCulture))
                .ToDictionary(g => g.Key, g => g.ToList());
            if (refsByImage.Count == 0)
                loadErrors.Add(DatasetRecord.Fail(Path.GetFileName(RefsPath),
                    $"{Path.GetFileName(RefsPath)}: no refs in split '{Split}' (splits present: {string.Join(", ", all.Select(r => r.Split).Distinct().Order())})."));
        }
        foreach (var e in loadErrors) yield return e;

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var record in coco.ReadImages(cancellationToken))
        {
            if (record.Image is not { } image)
            {
                if (refsByImage.ContainsKey(record.Error!.ItemId)) yield return record;
                continue;
            }
            if (!refsByImage.TryGetValue(image.ImageId, out var refs)) continue;
            seen.Add(image.ImageId);
            var maskIds = image.Masks.Select(m => m.MaskId).ToHashSet(StringComparer.Ordinal);
            var expressions = new List<ReferringExpression>();
            foreach (var r in refs)
            {
                var ann = r.AnnId.ToString(CultureInfo.InvariantCulture);
                if (!maskIds.Contains(ann))
                {
                    yield return DatasetRecord.Fail($"{image.ImageId}/ref{r.RefId}",
                        $"{Path.GetFileName(RefsPath)}: ref {r.RefId} names instance {ann}, which image {image.ImageId} does not have in {Path.GetFileName(coco.AnnotationsPath)}.");
                    continue;
                }
                foreach (var (sentId, sent, rawText) in r.Sentences)
                    expressions.Add(new ReferringExpression(sentId.ToString(CultureInfo.InvariantCulture), raw ? rawText : sent, ann));
            }
            if (expressions.Count > 0) yield return DatasetRecord.Of(image with { Expressions = expressions });
        }
        foreach (var (imageId, refs) in refsByImage)
            if (!seen.Contains(imageId))
                yield return DatasetRecord.Fail(imageId,
                    $"{Path.GetFileName(RefsPath)}: {refs.Count} ref(s) of split '{Split}' name image {imageId}, which has no instances in {Path.GetFileName(coco.AnnotationsPath)}.");
    }

    static List<Ref> LoadRefs(string path, List<DatasetRecord> errors)
    {
        var name = Path.GetFileName(path);
        var refs = new List<Ref>();
        if (path.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
            if (doc.RootElement.ValueKind != JsonValueKind.Array) throw new InvalidDataException($"{name}: expected a JSON array of refs.");
            int index = 0;
            foreach (var e in doc.RootElement.EnumerateArray())
            {
                try { refs.Add(FromJson(e)); }
                catch (Exception ex) when (ex is FormatException or InvalidOperationException or KeyNotFoundException)
                {
                    errors.Add(DatasetRecord.Fail($"{name}[{index}]", $"{name}: ref #{index}: {ex.Message}"));
                }
                index++;
            }
            return refs;
        }
        var root = RestrictedUnpickler.Load(path) as List<object?>
            ?? throw new InvalidDataException($"{name}: expected a pickled list of refs.");
        for (int i = 0; i < root.Count; i++)
        {
            try { refs.Add(FromPickle(root[i])); }
            catch (FormatException ex) { errors.Add(DatasetRecord.Fail($"{name}[{i}]", $"{name}: ref #{i}: {ex.Message}")); }
        }
        return refs;
    }

    static Ref FromPickle(object? o)
    {
        var d = o as Dictionary<object, object?> ?? throw new FormatException("not a dict.");
        long Int(Dictionary<object, object?> x, string key) => x.TryGetValue(key, out var v) && v is long l ? l
            : v is BigInteger ? throw new FormatException($"'{key}' is out of range.") : throw new FormatException($"missing integer '{key}'.");
        string Str(Dictionary<object, object?> x, string key) => x.TryGetValue(key, out var v) && v is string s ? s : throw new FormatException($"missing string '{key}'.");
        var sentences = (d.TryGetValue("sentences", out var s) ? s as List<object?> : null) ?? throw new FormatException("missing list 'sentences'.");
        return new Ref(Int(d, "ref_id"), Int(d, "ann_id"), Int(d, "image_id"), Str(d, "split"), sentences.Select(x =>
        {
            var sd = x as Dictionary<object, object?> ?? throw new FormatException("a sentence is not a dict.");
            var sent = sd.TryGetValue("sent", out var v1) && v1 is string a ? a : Str(sd, "raw");
            var rawText = sd.TryGetValue("raw", out var v2) && v2 is string b ? b : sent;
            return (Int(sd, "sent_id"), sent, rawText);
        }).ToArray());
    }

    static Ref FromJson(JsonElement e)
    {
        long Int(JsonElement x, string key) => x.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt64() : throw new FormatException($"missing integer '{key}'.");
        string Str(JsonElement x, string key) => x.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : throw new FormatException($"missing string '{key}'.");
        if (e.ValueKind != JsonValueKind.Object) throw new FormatException("not an object.");
        if (!e.TryGetProperty("sentences", out var list) || list.ValueKind != JsonValueKind.Array) throw new FormatException("missing list 'sentences'.");
        return new Ref(Int(e, "ref_id"), Int(e, "ann_id"), Int(e, "image_id"), Str(e, "split"), list.EnumerateArray().Select(x =>
        {
            var sent = x.TryGetProperty("sent", out var v1) && v1.ValueKind == JsonValueKind.String ? v1.GetString()! : Str(x, "raw");
            var rawText = x.TryGetProperty("raw", out var v2) && v2.ValueKind == JsonValueKind.String ? v2.GetString()! : sent;
            return (Int(x, "sent_id"), sent, rawText);
        }).ToArray());
    }
}
