using System.Security.Cryptography;
using MaskInversion.Core.Imaging;

namespace MaskInversion.Core.Tests.Imaging;

public class LabelMapLoaderTests
{
    [Fact]
    public void PaletteIndicesOfARealPngMatchPillow()
    {
        // dress_and_flower.png is a palette PNG (416×530, 188 colours) written with adaptive scanline filters. Its indices
        // as Pillow reads them: sha256(np.asarray(Image.open(p)).astype(np.int32).tobytes()), python3-pil 9.4.
        var map = LabelMapLoader.Load(SharedData.Examples("dress_and_flower.png"));
        Assert.Equal((416, 530), (map.Width, map.Height));
        var bytes = new byte[map.Labels.Length * 4];
        Buffer.BlockCopy(map.Labels, 0, bytes, 0, bytes.Length);
        Assert.Equal("e77646e1a5c5aed97faab08699354c35002d583c050fea4124cb733bd12a6f47", Convert.ToHexStringLower(SHA256.HashData(bytes)));
        Assert.Equal(188, map.Present().Count);
    }

    [Fact]
    public void ReadsPackedPaletteAndSixteenBitGray()
    {
        // 4-bit palette, 5×2: indices 0..9 (two per byte, high nibble first, last byte half used).
        byte[] palette = Enumerable.Range(0, 16).SelectMany(i => new[] { (byte)(i * 16), (byte)0, (byte)0 }).ToArray();
        var fourBit = TestImages.Png(5, 2, 4, 3, [0x01, 0x23, 0x40, 0x56, 0x78, 0x90], palette);
        Assert.Equal([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], LabelMapLoader.Load(fourBit, "4bit.png").Labels);

        // 16-bit gray: labels above 255 (Pascal Context's 459 classes).
        var sixteen = TestImages.Png(3, 1, 16, 0, [0x00, 0x00, 0x01, 0xC8, 0x00, 0xFF]);
        Assert.Equal([0, 456, 255], LabelMapLoader.Load(sixteen, "16bit.png").Labels);

        var map = LabelMapLoader.Load(fourBit, "4bit.png");
        Assert.Equal([0, 0, 0, 1, 0, 0, 0, 0, 0, 0], map.MaskOf(3).Data);
    }

    [Fact]
    public void ColourPngsAndNonPngsAreRefusedByName()
    {
        var rgb = TestImages.Png(1, 1, 8, 2, [1, 2, 3]);
        Assert.Contains("'rgb.png' is a colour PNG", Assert.Throws<ImageLoadException>(() => LabelMapLoader.Load(rgb, "rgb.png")).Message);
        Assert.Contains("not a PNG", Assert.Throws<ImageLoadException>(() => LabelMapLoader.Load(TestImages.Jpeg(RgbImage.Filled(4, 4, 0, 0, 0)), "x.jpg")).Message);
        var gray = TestImages.Png(4, 4, 8, 0, new byte[16]);
        Assert.Contains("truncated", Assert.Throws<ImageLoadException>(() => LabelMapLoader.Load(gray[..^20], "cut.png")).Message);
    }
}
