using static TorchSharp.torch;

namespace MaskInversion.Core.Weights;

/// <summary>Moves raw bytes between native memory or streams and a contiguous CPU tensor's storage.
/// Tensor.bytes spans are limited to 2 GiB, so large tensors go through contiguous 1-D slices.</summary>
internal static unsafe class TensorBytes
{
    internal const long DefaultChunkBytes = 1L << 30;

    /// <summary>Copies <paramref name="length"/> bytes from <paramref name="source"/> into <paramref name="target"/>'s storage.</summary>
    public static void CopyFrom(Tensor target, byte* source, long length, long chunkBytes = DefaultChunkBytes)
    {
        if (length != target.NumberOfElements * target.ElementSize)
            throw new ArgumentException($"Byte count {length} does not match the tensor's {target.NumberOfElements} × {target.ElementSize} bytes.");
        if (length == 0) return;
        if (length <= chunkBytes)
        {
            new ReadOnlySpan<byte>(source, (int)length).CopyTo(target.bytes);
            return;
        }
        using var flat = target.view(-1);
        long perChunk = Math.Max(1, chunkBytes / target.ElementSize);
        for (long start = 0; start < flat.NumberOfElements; start += perChunk)
        {
            using var part = flat.narrow(0, start, Math.Min(perChunk, flat.NumberOfElements - start));
            new ReadOnlySpan<byte>(source + start * target.ElementSize, (int)(part.NumberOfElements * part.ElementSize)).CopyTo(part.bytes);
        }
    }

    /// <summary>Writes a contiguous CPU tensor's storage to <paramref name="stream"/>.</summary>
    public static void WriteTo(Tensor source, Stream stream, long chunkBytes = DefaultChunkBytes)
    {
        long length = source.NumberOfElements * source.ElementSize;
        if (length == 0) return;
        if (length <= chunkBytes)
        {
            stream.Write(source.bytes);
            return;
        }
        using var flat = source.view(-1);
        long perChunk = Math.Max(1, chunkBytes / source.ElementSize);
        for (long start = 0; start < flat.NumberOfElements; start += perChunk)
        {
            using var part = flat.narrow(0, start, Math.Min(perChunk, flat.NumberOfElements - start));
            stream.Write(part.bytes);
        }
    }
}
