using System.Buffers.Binary;
using System.Text;
using TorchSharp;

namespace MaskInversion.Core.Tests.Weights;

/// <summary>A scratch directory removed on dispose, plus a writer for hand-made (possibly broken) safetensors files.</summary>
public sealed class TempDirectory : IDisposable
{
    public string Root { get; } = Directory.CreateTempSubdirectory("maskinversion-weights-").FullName;

    public string File(string name) => System.IO.Path.Combine(Root, name);

    /// <summary>Writes an 8-byte little-endian header length, the header text and the data bytes.</summary>
    public string WriteRaw(string name, string header, byte[] data, ulong? declaredLength = null)
    {
        var headerBytes = Encoding.UTF8.GetBytes(header);
        var prefix = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(prefix, declaredLength ?? (ulong)headerBytes.Length);
        var path = File(name);
        System.IO.File.WriteAllBytes(path, [.. prefix, .. headerBytes, .. data]);
        return path;
    }

    public void Dispose()
    {
        if (Directory.Exists(Root)) Directory.Delete(Root, recursive: true);
    }
}

/// <summary>Exact tensor comparison (TorchSharp's Tensor.equal is element-wise).</summary>
public static class TensorAssert
{
    public static bool Identical(torch.Tensor a, torch.Tensor b) =>
        a.dtype == b.dtype && a.shape.SequenceEqual(b.shape) && (a.NumberOfElements == 0 || a.eq(b).all().item<bool>());
}
