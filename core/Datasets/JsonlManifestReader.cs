using System.Text.Json;

namespace MaskInversion.Core.Datasets;

/// <summary>
/// Reads a JSON-lines manifest, one image per line:
/// <c>{"image": "img/1.jpg", "id": "1", "masks": [{"mask": "m/1_0.png", "id": "1_0", "label": "cat", "expression": "the cat on the left"}]}</c>.
/// Relative paths are resolved against the manifest's folder. "id" defaults to the image file name without
/// extension and a mask's "id" to "&lt;image id&gt;_&lt;index&gt;"; "label" and "expression" are optional.
/// <para>
/// Classes come from a classes file (one name per line; a class's id and name are both that line) when given,
/// and a mask whose label is not in it is an error. Without one, the class set is every label in the manifest,
/// sorted ordinally so that class indices do not depend on line order; this costs one extra streaming pass.
/// Lines are parsed one at a time, so the manifest can be arbitrarily long.
/// </para>
/// </summary>
public sealed class JsonlManifestReader : IDatasetReader
{
    readonly string folder;
    readonly string fileName;
    readonly HashSet<string> known;

    public string ManifestPath { get; }
    public IReadOnlyList<ClassInfo> Classes { get; }

    public JsonlManifestReader(string manifestPath, string? classesFile = null)
    {
        ManifestPath = Path.GetFullPath(manifestPath);
        if (!File.Exists(ManifestPath)) throw new FileNotFoundException($"Manifest not found: {ManifestPath}", ManifestPath);
        folder = Path.GetDirectoryName(ManifestPath)!;
        fileName = Path.GetFileName(ManifestPath);
        IEnumerable<string> names = classesFile is not null
            ? File.ReadLines(classesFile).Select(l => l.Trim()).Where(l => l.Length > 0).Distinct()
            : CollectLabels().Order(StringComparer.Ordinal);
        Classes = names.Select(n => new ClassInfo(n, n)).ToList();
        known = new HashSet<string>(Classes.Select(c => c.Id), StringComparer.Ordinal);
    }

    IEnumerable<string> CollectLabels()
    {
        var labels = new HashSet<string>(StringComparer.Ordinal);
        foreach (var line in File.ReadLines(ManifestPath))
        {
            if (string.IsNullOrWhiteSpace(line)) continue;
            try
            {
                using var doc = JsonDocument.Parse(line);
                if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("masks", out var masks) && masks.ValueKind == JsonValueKind.Array)
                    foreach (var m in masks.EnumerateArray())
                        if (m.ValueKind == JsonValueKind.Object && m.TryGetProperty("label", out var l) && l.ValueKind == JsonValueKind.String)
                            labels.Add(l.GetString()!);
            }
            catch (JsonException) { /* reported by ReadImages */ }
        }
        return labels;
    }

    string Resolve(string path) => Path.GetFullPath(Path.Combine(folder, path));

    public IEnumerable<DatasetRecord> ReadImages(CancellationToken cancellationToken = default)
    {
        int lineNumber = 0;
        foreach (var line in File.ReadLines(ManifestPath))
        {
            lineNumber++;
            cancellationToken.ThrowIfCancellationRequested();
            if (string.IsNullOrWhiteSpace(line)) continue;
            var where = $"{fileName}:{lineNumber}";
            var records = new List<DatasetRecord>();
            try
            {
                using var doc = JsonDocument.Parse(line);
                ParseLine(doc.RootElement, where, records);
            }
            catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException)
            {
                records.Clear();
                records.Add(DatasetRecord.Fail(where, $"{where}: {ex.Message}"));
            }
            foreach (var r in records) yield return r;
        }
    }

    void ParseLine(JsonElement root, string where, List<DatasetRecord> output)
    {
        if (root.ValueKind != JsonValueKind.Object) throw new FormatException("line is not a JSON object.");
        var image = OptionalString(root, "image") ?? throw new FormatException("missing \"image\".");
        var imageId = OptionalString(root, "id") ?? Path.GetFileNameWithoutExtension(image);
        if (!root.TryGetProperty("masks", out var list) || list.ValueKind != JsonValueKind.Array)
            throw new FormatException($"image {imageId}: missing \"masks\" array.");
        var masks = new List<DatasetMask>();
        int index = 0;
        foreach (var m in list.EnumerateArray())
        {
            string maskId = $"{imageId}_{index++}";
            if (m.ValueKind != JsonValueKind.Object) { output.Add(DatasetRecord.Fail($"{imageId}/{maskId}", $"{where}: mask {index - 1} is not an object.")); continue; }
            maskId = OptionalString(m, "id") ?? maskId;
            var path = OptionalString(m, "mask");
            var label = OptionalString(m, "label");
            var expression = OptionalString(m, "expression");
            if (path is null) { output.Add(DatasetRecord.Fail($"{imageId}/{maskId}", $"{where}: mask {maskId} has no \"mask\" path.")); continue; }
            if (label is not null && !known.Contains(label))
            {
                output.Add(DatasetRecord.Fail($"{imageId}/{maskId}", $"{where}: mask {maskId} has label '{label}', which is not in the class list."));
                continue;
            }
            masks.Add(new DatasetMask(maskId, label, label, expression, MaskSource.Png(Resolve(path)), null));
        }
        if (masks.Count > 0) output.Add(DatasetRecord.Of(new DatasetImage(imageId, Resolve(image), masks)));
    }

    static string? OptionalString(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null
            ? v.ValueKind == JsonValueKind.String ? v.GetString() : throw new FormatException($"\"{name}\" must be a string.")
            : null;
}
