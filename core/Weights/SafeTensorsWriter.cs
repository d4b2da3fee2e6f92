using System.Buffers.Binary;
using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace MaskInversion.Core.Weights;

/// <summary>Writes safetensors files: tensors sorted by name and packed without gaps, the header
/// padded with spaces to a multiple of 8 bytes (as the spec allows) so the data section is aligned.</summary>
public static class SafeTensorsWriter
{
    /// <summary>Saves <paramref name="tensors"/> to <paramref name="path"/> (atomically, via a temporary file).</summary>
    /// <param name="dtype">Converts floating-point tensors to F32, F16, BF16 or F64; integer buffers keep their type.</param>
    public static void Save(string path, IEnumerable<(string name, Tensor t)> tensors, ScalarType? dtype = null, IDictionary<string, string>? metadata = null) =>
        Save(path, tensors, dtype, metadata, TensorBytes.DefaultChunkBytes);

    internal static void Save(string path, IEnumerable<(string name, Tensor t)> tensors, ScalarType? dtype, IDictionary<string, string>? metadata, long chunkBytes)
    {
        if (dtype is { } d && !SafeTensorsDType.IsFloating(d))
            throw new ArgumentException($"Can only convert to a floating-point dtype (F32, F16, BF16, F64), not {d}.", nameof(dtype));
        var entries = new SortedDictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, t) in tensors)
        {
            if (name == "__metadata__") throw new ArgumentException("'__metadata__' is reserved and cannot name a tensor.");
            if (!entries.TryAdd(name, t)) throw new ArgumentException($"Tensor name '{name}' appears twice.");
        }

        var types = entries.ToDictionary(e => e.Key, e => StoredType(e.Key, e.Value, dtype));
        var header = BuildHeader(entries, types, metadata);

        var temp = path + ".tmp-" + Environment.ProcessId;
        try
        {
            using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
            {
                Span<byte> length = stackalloc byte[8];
                BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
                stream.Write(length);
                stream.Write(header);
                // One tensor at a time: only a single converted copy is alive at once.
                foreach (var (name, t) in entries)
                {
                    using var scope = torch.NewDisposeScope();
                    var stored = t.detach().to(types[name]).cpu().contiguous();
                    TensorBytes.WriteTo(stored, stream, chunkBytes);
                }
            }
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    static ScalarType StoredType(string name, Tensor t, ScalarType? dtype)
    {
        var type = dtype is { } d && SafeTensorsDType.IsFloating(t.dtype) ? d : t.dtype;
        if (!SafeTensorsDType.IsSupported(type))
            throw new NotSupportedException($"Tensor '{name}' has type {type}; safetensors output supports {string.Join(", ", SafeTensorsDType.Supported)}.");
        return type;
    }

    static byte[] BuildHeader(SortedDictionary<string, Tensor> entries, Dictionary<string, ScalarType> types, IDictionary<string, string>? metadata)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject("__metadata__");
                foreach (var (key, value) in metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal)) json.WriteString(key, value);
                json.WriteEndObject();
            }
            long offset = 0;
            foreach (var (name, t) in entries)
            {
                var type = types[name];
                long bytes = t.NumberOfElements * SafeTensorsDType.SizeOf(type);
                json.WriteStartObject(name);
                json.WriteString("dtype", SafeTensorsDType.NameOf(type));
                json.WriteStartArray("shape");
                foreach (var s in t.shape) json.WriteNumberValue(s);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + bytes);
                json.WriteEndArray();
                json.WriteEndObject();
                offset += bytes;
            }
            json.WriteEndObject();
        }
        int padded = (int)((buffer.Length + 7) / 8 * 8);
        var header = new byte[padded];
        buffer.ToArray().CopyTo(header, 0);
        header.AsSpan((int)buffer.Length).Fill((byte)' ');
        return header;
    }
}
