using MaskInversion.Core.Imaging;
using TorchSharp;

namespace MaskInversion.Core.Tests.Imaging;

public class PreprocessorTests
{
    [Fact]
    public void ConstantImageMapsToItsNormalisedConstant()
    {
        var pre = new Preprocessor();
        using var x = pre.ToPixels(RgbImage.Filled(300, 200, 200, 100, 50));
        Assert.Equal(new long[] { 1, 3, 448, 448 }, x.shape);
        Assert.Equal(torch.ScalarType.Float32, x.dtype);
        byte[] rgb = [200, 100, 50];
        for (int c = 0; c < 3; c++)
        {
            float expected = (rgb[c] / 255f - Preprocessor.OpenAIMean[c]) / Preprocessor.OpenAIStd[c];
            using var ch = x[0, c];
            Assert.Equal(expected, ch.min().item<float>(), 4);
            Assert.Equal(expected, ch.max().item<float>(), 4);
        }
    }

    [Fact]
    public void PhotoKeepsItsChannelMeansAndStaysInRange()
    {
        var img = ImageLoader.Load(SharedData.Examples("cats_and_dogs.jpg"));
        var pre = new Preprocessor(224);
        using var x = pre.ToPixels(img);
        Assert.Equal(new long[] { 1, 3, 224, 224 }, x.shape);
        for (int c = 0; c < 3; c++)
        {
            double mean = 0;
            for (int i = c; i < img.Pixels.Length; i += 3) mean += img.Pixels[i];
            mean /= img.Width * img.Height * 255.0;
            using var ch = x[0, c];
            double unnorm = ch.mean().item<float>() * Preprocessor.OpenAIStd[c] + Preprocessor.OpenAIMean[c];
            Assert.InRange(unnorm, mean - 0.01, mean + 0.01);
            // Clamped to [0, 1] before normalising.
            Assert.True(ch.min().item<float>() >= -Preprocessor.OpenAIMean[c] / Preprocessor.OpenAIStd[c] - 1e-5);
            Assert.True(ch.max().item<float>() <= (1 - Preprocessor.OpenAIMean[c]) / Preprocessor.OpenAIStd[c] + 1e-5);
        }
    }

    [Fact]
    public void SquareResizeIgnoresAspect()
    {
        // Left half white, right half black in a wide image: after the square resize the split stays in the middle.
        var img = RgbImage.Filled(200, 50, 0, 0, 0);
        for (int y = 0; y < 50; y++) for (int x = 0; x < 100; x++) for (int c = 0; c < 3; c++) img.Pixels[3 * (y * 200 + x) + c] = 255;
        using var x0 = new Preprocessor(32, mean: [0, 0, 0], std: [1, 1, 1]).ToPixels(img);
        var row = x0[0, 0, 16].data<float>().ToArray();
        Assert.All(row[..14], v => Assert.Equal(1f, v, 3));
        Assert.All(row[18..], v => Assert.Equal(0f, v, 3));
    }

    [Fact]
    public void BatchStacksIndividualResults()
    {
        var pre = new Preprocessor(64);
        var a = TestImages.Checker(50, 80);
        var b = RgbImage.Filled(10, 10, 1, 2, 3);
        using var batch = pre.ToPixelsBatch([a, b]);
        Assert.Equal(new long[] { 2, 3, 64, 64 }, batch.shape);
        using var one = pre.ToPixels(a);
        using var first = batch[0].unsqueeze(0);
        Assert.True(first.allclose(one));
    }

    [Fact]
    public void ResultsSurviveTheCallersDisposeScope()
    {
        var pre = new Preprocessor(16);
        torch.Tensor kept;
        using (var scope = torch.NewDisposeScope())
        {
            kept = pre.ToPixels(RgbImage.Filled(8, 8, 9, 9, 9)).MoveToOuterDisposeScope();
        }
        Assert.False(kept.IsInvalid);
        kept.Dispose();
    }
}
