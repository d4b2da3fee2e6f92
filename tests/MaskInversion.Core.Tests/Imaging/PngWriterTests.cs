using MaskInversion.Core.Imaging;

namespace MaskInversion.Core.Tests.Imaging;

public class PngWriterTests
{
    [Fact]
    public void MaskRoundTripsThroughPng()
    {
        var cat = MaskLoader.Load(SharedData.Examples("cat_mask.png"));
        Assert.Equal(cat.Data, MaskLoader.Load(PngWriter.Encode(cat), "cat.png").Data);
    }

    [Fact]
    public void HeatMapUsesJetAndBlendsOverTheImage()
    {
        float[] values = [0f, 1f, 0.5f, float.NaN];
        var map = ImageLoader.Load(PngWriter.EncodeHeatMap(values, 2, 2), "heat.png");
        Assert.Equal((2, 2), (map.Width, map.Height));
        Assert.Equal(new byte[] { 0, 0, 128, 128, 0, 0, 128, 255, 128, 0, 0, 128 }, map.Pixels);

        // Over a white 4×4 image at opacity 1 the 2×2 map is upsampled: corners keep the pure colours.
        var white = RgbImage.Filled(4, 4, 255, 255, 255);
        var over = ImageLoader.Load(PngWriter.EncodeHeatMap(values, 2, 2, white, opacity: 1), "over.png");
        Assert.Equal((4, 4), (over.Width, over.Height));
        Assert.Equal(new byte[] { 0, 0, 128 }, over.Pixels[..3]);
        var half = ImageLoader.Load(PngWriter.EncodeHeatMap([0f], 1, 1, RgbImage.Filled(1, 1, 255, 255, 255), opacity: 0.5f), "half.png");
        Assert.Equal(new byte[] { 128, 128, 192 }, half.Pixels);
    }

    [Fact]
    public void SaveWritesReadableFiles()
    {
        var dir = Directory.CreateTempSubdirectory("mi-png-");
        var path = Path.Combine(dir.FullName, "img.png");
        var img = TestImages.Checker(9, 7);
        PngWriter.Save(img, path);
        Assert.Equal(img.Pixels, ImageLoader.Load(path).Pixels);
    }
}
