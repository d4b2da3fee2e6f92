using System.Buffers.Binary;
using System.IO.MemoryMappedFiles;
using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace MaskInversion.Core.Weights;

/// <summary>One tensor's header entry; offsets are relative to the start of the data section.</summary>
public sealed record TensorInfo(string Name, string DType, ScalarType ScalarType, IReadOnlyList<long> Shape, long Begin, long End)
{
    public long ByteLength => End - Begin;
    public long ElementCount => Shape.Aggregate(1L, (a, b) => a * b);
    public override string ToString() => $"{Name}: {DType}[{string.Join(", ", Shape)}]";
}

/// <summary>A read-only, memory-mapped safetensors file (https://github.com/huggingface/safetensors).
/// The header is validated completely on open; tensor bytes are copied from the mapping straight into
/// freshly allocated tensors one at a time, so a multi-GB checkpoint never sits in memory twice.</summary>
public sealed unsafe class SafeTensorsFile : IDisposable
{
    /// <summary>The reference implementation's limit; real headers are a few hundred KB.</summary>
    public const long MaxHeaderBytes = 100_000_000;
    const string MetadataKey = "__metadata__";

    readonly MemoryMappedFile map;
    readonly MemoryMappedViewAccessor view;
    readonly byte* dataStart;
    bool disposed;

    public string Path { get; }
    public IReadOnlyDictionary<string, TensorInfo> Tensors { get; }
    public IReadOnlyDictionary<string, string> Metadata { get; }

    SafeTensorsFile(string path, MemoryMappedFile map, MemoryMappedViewAccessor view, long dataOffset,
        IReadOnlyDictionary<string, TensorInfo> tensors, IReadOnlyDictionary<string, string> metadata)
    {
        Path = path;
        this.map = map;
        this.view = view;
        Tensors = tensors;
        Metadata = metadata;
        byte* basePtr = null;
        view.SafeMemoryMappedViewHandle.AcquirePointer(ref basePtr);
        dataStart = basePtr + view.PointerOffset + dataOffset;
    }

    public static SafeTensorsFile Open(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        long fileLength = stream.Length;
        if (fileLength < 8)
            throw Invalid(path, $"it is {fileLength} bytes long, too short to hold the 8-byte header length.");
        Span<byte> prefix = stackalloc byte[8];
        stream.ReadExactly(prefix);
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (headerLength > MaxHeaderBytes)
            throw Invalid(path, $"it declares a {headerLength}-byte header (limit {MaxHeaderBytes}); it is not a safetensors file or is corrupt.");
        if (8 + (long)headerLength > fileLength)
            throw Invalid(path, $"it declares a {headerLength}-byte header but the file is only {fileLength} bytes long (truncated, or not safetensors).");
        var header = new byte[headerLength];
        stream.ReadExactly(header);

        long dataOffset = 8 + (long)headerLength;
        long dataLength = fileLength - dataOffset;
        var (tensors, metadata) = ParseHeader(path, header, dataLength);

        var map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        try
        {
            var view = map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            return new SafeTensorsFile(path, map, view, dataOffset, tensors, metadata);
        }
        catch
        {
            map.Dispose();
            throw;
        }
    }

    /// <summary>Reads one tensor into a new CPU tensor of the file's dtype, converted to
    /// <paramref name="convertTo"/> when given.</summary>
    public Tensor Read(string name, ScalarType? convertTo = null) => Read(name, convertTo, TensorBytes.DefaultChunkBytes);

    internal Tensor Read(string name, ScalarType? convertTo, long chunkBytes)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        if (!Tensors.TryGetValue(name, out var info))
            throw new KeyNotFoundException($"'{Path}' has no tensor named '{name}'.");
        var tensor = torch.empty(info.Shape.ToArray(), info.ScalarType);
        try
        {
            TensorBytes.CopyFrom(tensor, dataStart + info.Begin, info.ByteLength, chunkBytes);
        }
        catch
        {
            tensor.Dispose();
            throw;
        }
        if (convertTo is not { } target || target == info.ScalarType) return tensor;
        using (tensor) return tensor.to(target);
    }

    static (Dictionary<string, TensorInfo>, Dictionary<string, string>) ParseHeader(string path, byte[] header, long dataLength)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(header); }
        catch (JsonException e) { throw Invalid(path, $"it has a header that is not valid JSON: {e.Message}"); }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw Invalid(path, $"it has a header whose JSON root is a {doc.RootElement.ValueKind}, not an object.");
            var tensors = new Dictionary<string, TensorInfo>(StringComparer.Ordinal);
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            bool sawMetadata = false;
            foreach (var entry in doc.RootElement.EnumerateObject())
            {
                if (entry.Name == MetadataKey)
                {
                    if (sawMetadata) throw Invalid(path, "it has two __metadata__ entries.");
                    sawMetadata = true;
                    ParseMetadata(path, entry.Value, metadata);
                    continue;
                }
                if (tensors.ContainsKey(entry.Name))
                    throw Invalid(path, $"it lists tensor '{entry.Name}' twice.");
                tensors.Add(entry.Name, ParseTensor(path, entry.Name, entry.Value, dataLength));
            }
            CheckLayout(path, tensors.Values, dataLength);
            return (tensors, metadata);
        }
    }

    static void ParseMetadata(string path, JsonElement value, Dictionary<string, string> metadata)
    {
        if (value.ValueKind != JsonValueKind.Object)
            throw Invalid(path, "it has a __metadata__ entry that is not an object of strings.");
        foreach (var kv in value.EnumerateObject())
        {
            if (kv.Value.ValueKind != JsonValueKind.String)
                throw Invalid(path, $"it has __metadata__ value '{kv.Name}' that is a {kv.Value.ValueKind}, not a string.");
            metadata[kv.Name] = kv.Value.GetString()!;
        }
    }

    static TensorInfo ParseTensor(string path, string name, JsonElement value, long dataLength)
    {
        if (value.ValueKind != JsonValueKind.Object)
            throw Invalid(path, $"it has header entry '{name}' that is not an object.");
        if (!value.TryGetProperty("dtype", out var dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String)
            throw Invalid(path, $"tensor '{name}' has no dtype string.");
        var dtype = dtypeElement.GetString()!;
        if (!SafeTensorsDType.TryParse(dtype, out var scalarType))
            throw Invalid(path, $"tensor '{name}' has dtype {dtype}, which is not supported (supported: {string.Join(", ", SafeTensorsDType.Supported)}).");

        var shape = ReadLongs(path, name, value, "shape");
        var offsets = ReadLongs(path, name, value, "data_offsets");
        if (offsets.Length != 2)
            throw Invalid(path, $"tensor '{name}' has {offsets.Length} data_offsets; expected [begin, end].");
        var (begin, end) = (offsets[0], offsets[1]);
        if (end < begin)
            throw Invalid(path, $"tensor '{name}' has data_offsets [{begin}, {end}] that end before they begin.");
        if (end > dataLength)
            throw Invalid(path, $"tensor '{name}' has data_offsets [{begin}, {end}] past the end of the {dataLength}-byte data section (file truncated?).");
        long expected;
        try { expected = checked(shape.Aggregate(1L, (a, b) => a * b) * SafeTensorsDType.SizeOf(scalarType)); }
        catch (OverflowException) { throw Invalid(path, $"tensor '{name}' has a shape [{string.Join(", ", shape)}] too large to address."); }
        if (end - begin != expected)
            throw Invalid(path, $"tensor '{name}' ({dtype}[{string.Join(", ", shape)}]) needs {expected} bytes but data_offsets [{begin}, {end}] span {end - begin}.");
        return new TensorInfo(name, dtype, scalarType, shape, begin, end);
    }

    static long[] ReadLongs(string path, string name, JsonElement value, string field)
    {
        if (!value.TryGetProperty(field, out var array) || array.ValueKind != JsonValueKind.Array)
            throw Invalid(path, $"tensor '{name}' has no '{field}' array.");
        var result = new long[array.GetArrayLength()];
        int i = 0;
        foreach (var item in array.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt64(out var v) || v < 0)
                throw Invalid(path, $"tensor '{name}' has a '{field}' entry that is not a non-negative integer: {item.GetRawText()}.");
            result[i++] = v;
        }
        return result;
    }

    /// <summary>The spec requires the tensors to tile the data section exactly: no overlaps (two
    /// tensors aliasing the same bytes) and no holes (room for hidden payloads).</summary>
    static void CheckLayout(string path, IEnumerable<TensorInfo> tensors, long dataLength)
    {
        long covered = 0;
        TensorInfo? previous = null;
        foreach (var t in tensors.Where(t => t.ByteLength > 0).OrderBy(t => t.Begin).ThenBy(t => t.End))
        {
            if (previous is not null && t.Begin < previous.End)
                throw Invalid(path, $"tensors '{previous.Name}' [{previous.Begin}, {previous.End}) and '{t.Name}' [{t.Begin}, {t.End}) overlap.");
            if (t.Begin != covered)
                throw Invalid(path, $"it has {t.Begin - covered} unused bytes before tensor '{t.Name}' at offset {covered}; safetensors data must have no holes.");
            covered = t.End;
            previous = t;
        }
        if (covered != dataLength)
            throw Invalid(path, $"it has {dataLength - covered} bytes after the last tensor that no header entry describes.");
    }

    static InvalidDataException Invalid(string path, string problem) => new($"'{path}' is not a valid safetensors file: {problem}");

    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        view.SafeMemoryMappedViewHandle.ReleasePointer();
        view.Dispose();
        map.Dispose();
    }
}
