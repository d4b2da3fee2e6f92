using MaskInversion.Core.Imaging;
using TorchSharp;

namespace MaskInversion.Core.Tests.Imaging;

public class MaskLoaderTests
{
    [Theory]
    // RGBA (opaque, black/white) masks the size of the photo; grayscale masks larger than theirs.
    [InlineData("cat_mask.png", 639, 480, 59_968)]
    [InlineData("dog_mask.png", 639, 480, 80_452)]
    [InlineData("dress_mask.png", 640, 815, 106_155)]
    [InlineData("flower_mask.png", 640, 815, 4_705)]
    public void ExampleMasksGiveTheObject(string file, int w, int h, int whitePixels)
    {
        var m = MaskLoader.Load(SharedData.Examples(file));
        Assert.Equal((w, h), (m.Width, m.Height));
        // The white pixel counts were read off the files independently (every file holds only 0 and 255).
        Assert.Equal(whitePixels, m.Area);
        var box = m.BoundingBox()!.Value;
        Assert.True(box.X1 - box.X0 < w || box.Y1 - box.Y0 < h, "a single object should not span the whole image");
    }

    [Fact]
    public void CatAndDogAreDisjointAndPlausible()
    {
        var cat = MaskLoader.Load(SharedData.Examples("cat_mask.png"));
        var dog = MaskLoader.Load(SharedData.Examples("dog_mask.png"));
        double n = cat.Width * cat.Height;
        Assert.InRange(cat.Area / n, 0.05, 0.5);
        Assert.InRange(dog.Area / n, 0.05, 0.5);
        int both = cat.Data.Zip(dog.Data, (a, b) => a & b).Count(v => v != 0);
        Assert.True(both < 0.05 * Math.Min(cat.Area, dog.Area), $"cat and dog overlap in {both} pixels");
    }

    [Fact]
    public void VaryingAlphaDecidesOverColour()
    {
        // Black opaque pixel = inside, white transparent = outside, and a half-alpha pixel at the threshold.
        var png = TestImages.Png(3, 1, 8, 6, [0, 0, 0, 255, 255, 255, 255, 0, 255, 255, 255, 127]);
        Assert.Equal(new byte[] { 1, 0, 0 }, MaskLoader.Load(png, "alpha.png").Data);
    }

    [Fact]
    public void GrayModesAndThreshold()
    {
        var gray = TestImages.Png(4, 1, 8, 0, [0, 127, 128, 255]);
        Assert.Equal(new byte[] { 0, 0, 1, 1 }, MaskLoader.Load(gray, "g.png").Data);
        Assert.Equal(new byte[] { 0, 1, 1, 1 }, MaskLoader.Load(gray, "g.png", threshold: 0).Data);

        var gray16 = TestImages.Png(3, 1, 16, 0, [0, 0, 0x7F, 0x00, 0xFF, 0xFF]);
        Assert.Equal(new byte[] { 0, 0, 1 }, MaskLoader.Load(gray16, "g16.png").Data);

        // 1-bit: 0b1010_0000 → pixels 1,0,1,0.
        var bits = TestImages.Png(4, 1, 1, 0, [0b1010_0000]);
        Assert.Equal(new byte[] { 1, 0, 1, 0 }, MaskLoader.Load(bits, "b.png").Data);
    }

    [Fact]
    public void PaletteAndRgbUseLuminance()
    {
        // Palette: 0 = black, 1 = white, 2 = pure red (luminance 76 → outside).
        var pal = TestImages.Png(3, 1, 8, 3, [0, 1, 2], palette: [0, 0, 0, 255, 255, 255, 255, 0, 0]);
        Assert.Equal(new byte[] { 0, 1, 0 }, MaskLoader.Load(pal, "p.png").Data);
        // RGB: green (luminance 149) is inside, blue (29) is outside.
        var rgb = TestImages.Png(2, 1, 8, 2, [0, 255, 0, 0, 0, 255]);
        Assert.Equal(new byte[] { 1, 0 }, MaskLoader.Load(rgb, "rgb.png").Data);
    }

    [Fact]
    public void LoadErrorsNameTheFile()
    {
        var path = TestImages.TempFile("not a mask"u8.ToArray(), "mask.txt");
        Assert.Equal(path, Assert.Throws<ImageLoadException>(() => MaskLoader.Load(path)).Path);
    }

    [Fact]
    public void NearestResizeKeepsAreaFractionAndBinaryValues()
    {
        var dress = MaskLoader.Load(SharedData.Examples("dress_mask.png"));
        var small = MaskLoader.Resize(dress, 416, 530);
        Assert.Equal((416, 530), (small.Width, small.Height));
        Assert.All(small.Data, v => Assert.True(v <= 1));
        double before = dress.Area / (640.0 * 815), after = small.Area / (416.0 * 530);
        Assert.InRange(after, before * 0.97, before * 1.03);

        // Exact on a block pattern: a 2× downscale samples pixel centres.
        var m = TestImages.Rect(4, 4, 2, 0, 4, 2);
        Assert.Equal(new byte[] { 0, 1, 0, 0 }, MaskLoader.Resize(m, 2, 2).Data);
        Assert.Equal(4 * m.Area, MaskLoader.Resize(m, 8, 8).Area);
    }

    [Fact]
    public void ToTensorIsTheLossTargetAtTheMasksOwnResolution()
    {
        // The map is resized to the mask for the Dice, never the mask to the map.
        using var t = MaskLoader.ToTensor(new BinaryMask(3, 2, [0, 1, 1, 1, 0, 0]));
        Assert.Equal(new long[] { 2, 3 }, t.shape);
        Assert.Equal(torch.ScalarType.Float32, t.dtype);
        Assert.Equal(new float[] { 0, 1, 1, 1, 0, 0 }, t.data<float>().ToArray());
    }
}
