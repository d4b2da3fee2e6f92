using System.Numerics;
using MaskInversion.Core.Datasets;

namespace MaskInversion.Core.Tests.Datasets;

public class RestrictedUnpicklerTests
{
    /// <summary>What every refs pickle in <see cref="Pickles"/> holds: three refs in RefCOCO's shape.</summary>
    public static IEnumerable<object[]> Refs() =>
    [
        [Pickles.Python3Protocol0], [Pickles.Python3Protocol2], [Pickles.Python3Protocol4], [Pickles.Python3Protocol5],
        [Pickles.Python2Protocol0], [Pickles.Python2Protocol2],
    ];

    static object? Load(string base64) => RestrictedUnpickler.Load(Convert.FromBase64String(base64), "test.p");

    [Theory]
    [MemberData(nameof(Refs))]
    public void ReadsRefCocoShapedDataInEveryProtocol(string base64)
    {
        var refs = Assert.IsType<List<object?>>(Load(base64));
        Assert.Equal(3, refs.Count);
        var first = Assert.IsType<Dictionary<object, object?>>(refs[0]);
        Assert.Equal(0L, first["ref_id"]);
        Assert.Equal(1001L, first["ann_id"]);
        Assert.Equal(7L, first["image_id"]);
        Assert.Equal("val", first["split"]);
        Assert.Equal("COCO_train2014_000000000007_0.jpg", first["file_name"]);
        Assert.Equal(new List<object?> { 0L, 1L }, first["sent_ids"]);
        var sentences = Assert.IsType<List<object?>>(first["sentences"]);
        var s0 = Assert.IsType<Dictionary<object, object?>>(sentences[0]);
        Assert.Equal("left dog", s0["sent"]);
        Assert.Equal("Left dog!", s0["raw"]);
        Assert.Equal(new List<object?> { "left", "dog" }, s0["tokens"]);
        // Non-ASCII text survives: UTF-8 byte strings (Python 2) and unicode strings alike.
        var cafe = (Dictionary<object, object?>)((List<object?>)((Dictionary<object, object?>)refs[1]!)["sentences"]!)[0]!;
        Assert.Equal("café cat", cafe["sent"]);
        Assert.Equal(1002L, ((Dictionary<object, object?>)refs[1]!)["ann_id"]);
        Assert.Equal("testA", ((Dictionary<object, object?>)refs[2]!)["split"]);
    }

    [Theory]
    [InlineData(Pickles.ExtrasProtocol0)]
    [InlineData(Pickles.ExtrasProtocol2)]
    [InlineData(Pickles.ExtrasProtocol4)]
    public void ReadsNumbersTuplesBooleansNoneAndSharedReferences(string base64)
    {
        var d = Assert.IsType<Dictionary<object, object?>>(Load(base64));
        Assert.Equal(1.5, d["f"]);
        Assert.Equal(-123456789012L, d["neg"]);
        Assert.Equal(BigInteger.Pow(2, 70), d["big"]);
        Assert.Equal(-BigInteger.Pow(2, 70), d["nbig"]);
        Assert.Equal(new object?[] { 1L, "a", null }, d["t"]);
        Assert.Equal(new List<object?> { true, false }, d["b"]);
        Assert.Null(d["n"]);
        Assert.Empty(Assert.IsType<object?[]>(d["e"]));
        Assert.Equal(new object?[] { 1L }, d["one"]);
        Assert.Equal(300L, d["k"]);
        Assert.Equal(70000L, d["m"]);
        Assert.Same(d["s1"], d["s2"]); // the memo gives back the same list, as Python does
        Assert.Equal(new List<object?> { 1L, 2L }, d["s1"]);
    }

    [Theory]
    [InlineData(Pickles.Global, "GLOBAL")]
    [InlineData(Pickles.GlobalReduce, "GLOBAL")]
    [InlineData(Pickles.StackGlobal, "STACK_GLOBAL")]
    [InlineData(Pickles.Bytes, "bytes")]
    [InlineData(Pickles.Set, "set")]
    public void RefusesAnythingButPlainData(string base64, string opcode)
    {
        var e = Assert.Throws<PickleException>(() => Load(base64));
        Assert.StartsWith("test.p @byte ", e.Message);
        Assert.Contains(opcode, e.Message);
        Assert.Contains("refused", e.Message);
    }

    public static IEnumerable<object[]> HandWritten() =>
    [
        ["cbuiltins\neval\n(Vprint(1)\ntR."u8.ToArray(), "GLOBAL"],                   // protocol 0 call
        ["(i__main__\nX\n(dS'a'\nI1\nsb."u8.ToArray(), "INST"],                      // old-style instance
        [new byte[] { (byte)']', (byte)'q', 0, (byte)'(', (byte)'K', 1, (byte)'e', (byte)'}', (byte)'q', 1, (byte)'b', (byte)'.' }, "BUILD"],
        ["(o."u8.ToArray(), "OBJ"],
        [new byte[] { 0x80, 2, (byte)'K', 1, 0x85, 0x81, (byte)'.' }, "NEWOBJ"],
        [new byte[] { 0x80, 2, 0x82, 1, (byte)'.' }, "EXT"],
        ["P1\n."u8.ToArray(), "PERSID"],
    ];

    [Theory]
    [MemberData(nameof(HandWritten))]
    public void RefusesHandWrittenCallsAndObjects(byte[] pickle, string opcode)
    {
        var e = Assert.Throws<PickleException>(() => RestrictedUnpickler.Load(pickle, "evil.p"));
        Assert.Contains(opcode, e.Message);
    }

    [Fact]
    public void TruncatedAndMalformedPicklesFailClearly()
    {
        var whole = Convert.FromBase64String(Pickles.Python3Protocol2);
        var e = Assert.Throws<PickleException>(() => RestrictedUnpickler.Load(whole[..(whole.Length / 2)], "half.p"));
        Assert.Contains("truncated", e.Message);
        Assert.Contains("memo key 9", Assert.Throws<PickleException>(() => RestrictedUnpickler.Load([0x80, 2, (byte)'h', 9, (byte)'.'], "m.p")).Message);
        Assert.Contains("STOP with 2 values", Assert.Throws<PickleException>(() => RestrictedUnpickler.Load([(byte)'K', 1, (byte)'K', 2, (byte)'.'], "s.p")).Message);
        Assert.Contains("dict key is a list", Assert.Throws<PickleException>(() => RestrictedUnpickler.Load([(byte)'}', (byte)']', (byte)'K', 1, (byte)'s', (byte)'.'], "k.p")).Message);
    }
}
