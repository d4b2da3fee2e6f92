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
/// <para>
/// Every path is resolved and confined by <see cref="DatasetReaderOptions.Paths"/>. A line that is not valid JSON
/// or not UTF-8, a path outside the allowed folders, an unknown label, a second image with an id already seen (named
/// with the line of the first) and a repeated mask id within an image are errors of that item; reading goes on.
/// Seen image ids cost a 64-bit hash and a file offset each (≈ 40 bytes; 1.9 M ids ≈ 80 MB), not the strings; a hash
/// match is confirmed by re-reading the first line, so a collision never reports a false duplicate.
/// </para>
/// </summary>
public sealed class JsonlManifestReader : IDatasetReader
{
    readonly string folder;
    readonly string fileName;
    readonly HashSet<string> known;
    readonly PathPolicy paths;

    public string ManifestPath { get; }

    /// <summary>The 64-bit key of an image id in the seen-id table (replaceable so tests can force collisions).</summary>
    internal Func<string, ulong> IdHash { get; init; } = Hash64;
    public IReadOnlyList<ClassInfo> Classes { get; }

    public JsonlManifestReader(string manifestPath, string? classesFile = null, DatasetReaderOptions? readerOptions = null)
    {
        paths = (readerOptions ?? DatasetReaderOptions.Default).Paths;
        ManifestPath = paths.Resolve(manifestPath, what: "manifest");
        if (!File.Exists(ManifestPath)) throw new FileNotFoundException($"Manifest not found: {ManifestPath}", ManifestPath);
        folder = Path.GetDirectoryName(ManifestPath)!;
        fileName = Path.GetFileName(ManifestPath);
        IEnumerable<string> names = classesFile is not null
            ? File.ReadLines(paths.Resolve(classesFile, what: "classes file")).Select(l => l.Trim()).Where(l => l.Length > 0).Distinct()
            : CollectLabels().Order(StringComparer.Ordinal);
        Classes = names.Select(n => new ClassInfo(n, n)).ToList();
        known = new HashSet<string>(Classes.Select(c => c.Id), StringComparer.Ordinal);
    }

    IEnumerable<string> CollectLabels()
    {
        var labels = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (_, _, line) in Lines(ManifestPath))
        {
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

    public IEnumerable<DatasetRecord> ReadImages(CancellationToken cancellationToken = default)
    {
        var firstSeen = new Dictionary<ulong, (int Line, long Offset)>();   // hash of an image id → where it first appeared
        var collided = new Dictionary<string, int>(StringComparer.Ordinal); // the rare ids whose hash another id took first
        foreach (var (lineNumber, offset, line) in Lines(ManifestPath))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var where = $"{fileName}:{lineNumber}";
            var records = new List<DatasetRecord>();
            try
            {
                using var doc = JsonDocument.Parse(line);
                ParseLine(doc.RootElement, where, records, id => FirstOccurrence(firstSeen, collided, id, lineNumber, offset));
            }
            catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException)
            {
                records.Clear();
                records.Add(DatasetRecord.Fail(where, $"{where}: {ex.Message}"));
            }
            foreach (var r in records) yield return r;
        }
    }

    /// <summary>The line where <paramref name="imageId"/> first appeared, or null when this is its first time.</summary>
    int? FirstOccurrence(Dictionary<ulong, (int Line, long Offset)> seen, Dictionary<string, int> collided, string imageId, int line, long offset)
    {
        var hash = IdHash(imageId);
        if (!seen.TryGetValue(hash, out var first))
        {
            seen.Add(hash, (line, offset));
            return null;
        }
        // Confirm against the first line's own id: a hash collision must not refuse a distinct image.
        if (ImageIdAt(first.Offset) == imageId) return first.Line;
        return collided.TryAdd(imageId, line) ? null : collided[imageId];
    }

    string? ImageIdAt(long offset)
    {
        using var stream = new FileStream(ManifestPath, FileMode.Open, FileAccess.Read, FileShare.Read, 1);
        stream.Seek(offset, SeekOrigin.Begin);
        foreach (var (_, _, line) in Lines(stream, 1, offset))
        {
            using var doc = JsonDocument.Parse(line);
            var image = OptionalString(doc.RootElement, "image");
            return OptionalString(doc.RootElement, "id") ?? (image is null ? null : Path.GetFileNameWithoutExtension(image));
        }
        return null;
    }

    void ParseLine(JsonElement root, string where, List<DatasetRecord> output, Func<string, int?> firstOccurrence)
    {
        if (root.ValueKind != JsonValueKind.Object) throw new FormatException("line is not a JSON object.");
        var image = OptionalString(root, "image") ?? throw new FormatException("missing \"image\".");
        var imageId = OptionalString(root, "id") ?? Path.GetFileNameWithoutExtension(image);
        if (imageId.Length == 0) throw new FormatException("empty image id.");
        if (!root.TryGetProperty("masks", out var list) || list.ValueKind != JsonValueKind.Array)
            throw new FormatException($"image {imageId}: missing \"masks\" array.");
        if (firstOccurrence(imageId) is { } first)
        {
            output.Add(DatasetRecord.Fail(imageId, $"{where}: image id {imageId} repeats line {first}; only that one is used."));
            return;
        }
        string imagePath;
        try { imagePath = paths.Resolve(image, folder, "image"); }
        catch (PathNotAllowedException e)
        {
            output.Add(DatasetRecord.Fail(imageId, $"{where}: image {imageId}: {e.Message}"));
            return;
        }
        var masks = new List<DatasetMask>();
        var maskIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        int index = 0;
        foreach (var m in list.EnumerateArray())
        {
            string maskId = $"{imageId}_{index++}";
            if (m.ValueKind != JsonValueKind.Object) { output.Add(DatasetRecord.Fail($"{imageId}/{maskId}", $"{where}: mask {index - 1} is not an object.")); continue; }
            maskId = OptionalString(m, "id") ?? maskId;
            var path = OptionalString(m, "mask");
            var label = OptionalString(m, "label");
            var expression = OptionalString(m, "expression");
            var item = $"{imageId}/{maskId}";
            if (!maskIndex.TryAdd(maskId, index - 1))
            {
                output.Add(DatasetRecord.Fail(item, $"{where}: mask {index - 1} has id {maskId}, like mask {maskIndex[maskId]}; only that one is used."));
                continue;
            }
            if (path is null) { output.Add(DatasetRecord.Fail(item, $"{where}: mask {maskId} has no \"mask\" path.")); continue; }
            if (label is not null && !known.Contains(label))
            {
                output.Add(DatasetRecord.Fail(item, $"{where}: mask {maskId} has label '{label}', which is not in the class list."));
                continue;
            }
            string maskPath;
            try { maskPath = paths.Resolve(path, folder, "mask"); }
            catch (PathNotAllowedException e)
            {
                output.Add(DatasetRecord.Fail(item, $"{where}: mask {maskId}: {e.Message}"));
                continue;
            }
            masks.Add(new DatasetMask(maskId, label, label, expression, MaskSource.Png(maskPath), null));
        }
        if (masks.Count > 0) output.Add(DatasetRecord.Of(new DatasetImage(imageId, imagePath, masks)));
    }

    static string? OptionalString(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null
            ? v.ValueKind == JsonValueKind.String ? v.GetString() : throw new FormatException($"\"{name}\" must be a string.")
            : null;

    /// <summary>Non-blank lines as raw bytes with their 1-based number and byte offset. Raw, so that JSON parsing
    /// rejects bytes that are not UTF-8 instead of a decoder quietly turning them into U+FFFD (a path that names no file).</summary>
    static IEnumerable<(int Number, long Offset, ReadOnlyMemory<byte> Line)> Lines(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1);
        foreach (var line in Lines(stream, int.MaxValue, 0)) yield return line;
    }

    static IEnumerable<(int Number, long Offset, ReadOnlyMemory<byte> Line)> Lines(Stream stream, int max, long startOffset)
    {
        var buffer = new byte[1 << 16];
        int pos = 0, length = 0, number = 0, yielded = 0;
        long bufferStart = startOffset;   // file offset of buffer[0]
        bool eof = false;
        while (yielded < max)
        {
            int newline = Array.IndexOf(buffer, (byte)'\n', pos, length - pos);
            if (newline < 0 && !eof)
            {
                // Compact, grow for a line longer than the buffer, refill.
                Buffer.BlockCopy(buffer, pos, buffer, 0, length - pos);
                bufferStart += pos; length -= pos; pos = 0;
                if (length == buffer.Length) Array.Resize(ref buffer, buffer.Length * 2);
                int n = stream.Read(buffer, length, buffer.Length - length);
                if (n == 0) eof = true; else length += n;
                continue;
            }
            if (newline < 0 && pos == length) yield break;
            int end = newline < 0 ? length : newline;
            number++;
            long offset = bufferStart + pos;
            int begin = offset == 0 && end - pos >= 3 && buffer[pos] == 0xEF && buffer[pos + 1] == 0xBB && buffer[pos + 2] == 0xBF ? pos + 3 : pos; // UTF-8 BOM
            int stop = end > begin && buffer[end - 1] == '\r' ? end - 1 : end;
            var content = buffer.AsMemory(begin, stop - begin);
            pos = newline < 0 ? length : newline + 1;
            if (!content.Span.Trim(" \t"u8).IsEmpty) { yielded++; yield return (number, offset, content.ToArray()); }
        }
    }

    /// <summary>FNV-1a over the id's UTF-16 code units with a splitmix64 finish: a 64-bit key for the seen-id table.</summary>
    static ulong Hash64(string s)
    {
        ulong h = 14695981039346656037UL;
        foreach (var c in s) h = (h ^ c) * 1099511628211UL;
        h ^= h >> 30; h *= 0xBF58476D1CE4E5B9UL;
        h ^= h >> 27; h *= 0x94D049BB133111EBUL;
        return h ^ (h >> 31);
    }
}
