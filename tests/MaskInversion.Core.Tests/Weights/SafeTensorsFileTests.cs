using System.Buffers.Binary;
using System.Text;
using MaskInversion.Core.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace MaskInversion.Core.Tests.Weights;

public class SafeTensorsFileTests
{
    static (string, Tensor)[] SampleTensors() =>
    [
        ("b.matrix", torch.randn(3, 5) * 10),
        ("a.vector", torch.randn(7)),
        ("c.scalar", torch.tensor(4.25f)),
        ("d.ids", torch.arange(6, dtype: ScalarType.Int64).view(1, 6)),
        ("e.empty", torch.zeros(0, 4)),
    ];

    [Theory]
    [InlineData(ScalarType.Float32, "F32")]
    [InlineData(ScalarType.Float16, "F16")]
    [InlineData(ScalarType.BFloat16, "BF16")]
    public void RoundTripIsExactAfterTheSameConversion(ScalarType dtype, string name)
    {
        using var dir = new TempDirectory();
        using var scope = torch.NewDisposeScope();
        torch.random.manual_seed(11);
        var tensors = SampleTensors();
        var path = dir.File("x.safetensors");
        SafeTensorsWriter.Save(path, tensors, dtype, new Dictionary<string, string> { ["note"] = "hello" });

        using var file = SafeTensorsFile.Open(path);
        Assert.Equal("hello", file.Metadata["note"]);
        Assert.Equal(tensors.Length, file.Tensors.Count);
        foreach (var (key, original) in tensors)
        {
            var info = file.Tensors[key];
            bool floating = original.dtype != ScalarType.Int64;
            Assert.Equal(floating ? name : "I64", info.DType); // integer buffers keep their type
            Assert.Equal(original.shape, info.Shape);
            var expected = floating ? original.to(dtype) : original;
            var read = file.Read(key);
            Assert.Equal(expected.dtype, read.dtype);
            Assert.True(TensorAssert.Identical(read, expected), key);
            if (floating)
                Assert.True(TensorAssert.Identical(file.Read(key, ScalarType.Float32), expected.to(ScalarType.Float32)), key);
        }
    }

    [Fact]
    public void LayoutIsSortedPackedAndAligned()
    {
        using var dir = new TempDirectory();
        using var scope = torch.NewDisposeScope();
        var path = dir.File("x.safetensors");
        SafeTensorsWriter.Save(path, [("z", torch.ones(3)), ("a", torch.ones(2, 2))]);
        var bytes = File.ReadAllBytes(path);
        var headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.Equal(0UL, headerLength % 8);
        var header = Encoding.UTF8.GetString(bytes, 8, (int)headerLength);
        Assert.True(header.IndexOf("\"a\"", StringComparison.Ordinal) < header.IndexOf("\"z\"", StringComparison.Ordinal));
        using var file = SafeTensorsFile.Open(path);
        Assert.Equal(0, file.Tensors["a"].Begin);
        Assert.Equal(16, file.Tensors["z"].Begin);
        Assert.Equal((long)bytes.Length, 8 + (long)headerLength + 28);
    }

    [Fact]
    public void LargeTensorsGoThroughChunks()
    {
        using var dir = new TempDirectory();
        using var scope = torch.NewDisposeScope();
        var path = dir.File("x.safetensors");
        var t = torch.randn(37, 13);
        // A 100-byte chunk forces the sliced path used for tensors over 2 GiB, with a ragged last chunk.
        SafeTensorsWriter.Save(path, [("t", t)], null, null, chunkBytes: 100);
        using var file = SafeTensorsFile.Open(path);
        Assert.True(TensorAssert.Identical(file.Read("t", null, chunkBytes: 100), t));
        Assert.True(TensorAssert.Identical(file.Read("t"), t));
    }

    const string OneTensor = "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";

    [Fact]
    public void HandWrittenFileReads()
    {
        using var dir = new TempDirectory();
        var data = new byte[8];
        BinaryPrimitives.WriteSingleLittleEndian(data, 1.5f);
        BinaryPrimitives.WriteSingleLittleEndian(data.AsSpan(4), -2f);
        using var file = SafeTensorsFile.Open(dir.WriteRaw("ok.safetensors", OneTensor + "  ", data));
        using var t = file.Read("w");
        Assert.Equal(new[] { 1.5f, -2f }, t.data<float>().ToArray());
        Assert.Empty(file.Metadata);
    }

    [Theory]
    [InlineData("F16", new byte[] { 0x00, 0x3C, 0x00, 0xC0 })]  // IEEE half 1.0, -2.0
    [InlineData("BF16", new byte[] { 0x80, 0x3F, 0x00, 0xC0 })] // bfloat16 1.0, -2.0
    public void HalfPrecisionBytesFollowTheSpec(string dtype, byte[] data)
    {
        using var dir = new TempDirectory();
        var header = $"{{\"w\":{{\"dtype\":\"{dtype}\",\"shape\":[2],\"data_offsets\":[0,4]}}}}";
        using var file = SafeTensorsFile.Open(dir.WriteRaw("half.safetensors", header, data));
        using var t = file.Read("w", ScalarType.Float32);
        Assert.Equal(new[] { 1f, -2f }, t.data<float>().ToArray());
    }

    [Theory]
    [InlineData("truncated", OneTensor, 6, "past the end")]
    [InlineData("bad json", "{\"w\":{\"dtype\":\"F32\",", 8, "not valid JSON")]
    [InlineData("root array", "[1,2]", 0, "not an object")]
    [InlineData("unsupported dtype", "{\"w\":{\"dtype\":\"F8_E4M3\",\"shape\":[2],\"data_offsets\":[0,2]}}", 2, "tensor 'w' has dtype F8_E4M3")]
    [InlineData("overlap", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, "overlap")]
    [InlineData("hole", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, "unused bytes")]
    [InlineData("trailing bytes", OneTensor, 12, "after the last tensor")]
    [InlineData("wrong byte count", "{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8, "needs 12 bytes")]
    [InlineData("negative shape", "{\"w\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8, "non-negative integer")]
    [InlineData("bad metadata", "{\"__metadata__\":{\"k\":3}}", 0, "not a string")]
    public void InvalidFilesAreRejectedWithTheReason(string label, string header, int dataBytes, string expected)
    {
        using var dir = new TempDirectory();
        var path = dir.WriteRaw(label.Replace(' ', '-') + ".safetensors", header, new byte[dataBytes]);
        var e = Assert.Throws<InvalidDataException>(() => SafeTensorsFile.Open(path).Dispose());
        Assert.Contains(expected, e.Message);
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void HeaderLengthPastEndOfFileIsRejected()
    {
        using var dir = new TempDirectory();
        var path = dir.WriteRaw("long.safetensors", OneTensor, new byte[8], declaredLength: 5000);
        var e = Assert.Throws<InvalidDataException>(() => SafeTensorsFile.Open(path).Dispose());
        Assert.Contains("5000-byte header", e.Message);

        var huge = dir.WriteRaw("huge.safetensors", OneTensor, new byte[8], declaredLength: 1UL << 40);
        Assert.Contains("limit", Assert.Throws<InvalidDataException>(() => SafeTensorsFile.Open(huge).Dispose()).Message);

        File.WriteAllBytes(dir.File("tiny.safetensors"), [1, 2, 3]);
        Assert.Contains("too short", Assert.Throws<InvalidDataException>(() => SafeTensorsFile.Open(dir.File("tiny.safetensors")).Dispose()).Message);
    }

    [Fact]
    public void ReadAfterDisposeAndUnknownNameThrow()
    {
        using var dir = new TempDirectory();
        var file = SafeTensorsFile.Open(dir.WriteRaw("ok.safetensors", OneTensor, new byte[8]));
        Assert.Throws<KeyNotFoundException>(() => file.Read("nope"));
        file.Dispose();
        Assert.Throws<ObjectDisposedException>(() => file.Read("w"));
    }

    [Fact]
    public void WriterRejectsUnsupportedTypesAndDuplicates()
    {
        using var dir = new TempDirectory();
        using var scope = torch.NewDisposeScope();
        var path = dir.File("x.safetensors");
        Assert.Throws<NotSupportedException>(() => SafeTensorsWriter.Save(path, [("u8", torch.zeros(2, dtype: ScalarType.Byte))]));
        Assert.Throws<ArgumentException>(() => SafeTensorsWriter.Save(path, [("a", torch.zeros(2)), ("a", torch.ones(2))]));
        Assert.Throws<ArgumentException>(() => SafeTensorsWriter.Save(path, [("a", torch.zeros(2))], ScalarType.Int64));
        Assert.False(File.Exists(path));
        Assert.Empty(Directory.GetFiles(dir.Root)); // no temporary file left behind
    }
}
