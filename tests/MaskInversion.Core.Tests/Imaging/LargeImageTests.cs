using MaskInversion.Core.Datasets;
using MaskInversion.Core.Imaging;
using MaskInversion.Core.Models;
using MaskInversion.Core.Pipeline;
using MaskInversion.Core.Tests.Datasets;
using SkiaSharp;

namespace MaskInversion.Core.Tests.Imaging;

/// <summary>#14: a 9000×9000 image under the pixel limit took a silo to 2.8 GB. Large images are decoded straight to
/// <see cref="ImageLoadOptions.MaxSide"/>; memory is bounded by what the decoder allocates, measured per thread.</summary>
public class LargeImageTests
{
    static void WritePng(string path, int width, int height, bool gray, Func<int, byte[]> row) =>
        File.WriteAllBytes(path, TestImages.PngRows(width, height, gray, row));

    /// <summary>Left half red, right half blue.</summary>
    static byte[] RedBlue(int width)
    {
        var r = new byte[width * 3];
        for (int x = 0; x < width; x++) r[3 * x + (x < width / 2 ? 0 : 2)] = 255;
        return r;
    }

    static (T Result, long Bytes) Allocated<T>(Func<T> f)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        var result = f();
        return (result, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void A9000PixelPngIsDecodedStraightToTheMaxSide()
    {
        using var dir = new TempDir();
        var path = dir.File("huge.png");
        var row = RedBlue(9000);
        WritePng(path, 9000, 6000, gray: false, _ => row);

        var (image, bytes) = Allocated(() => ImageLoader.Load(path));

        Assert.Equal((2048, 1365), (image.Width, image.Height));
        Assert.Equal([255, 0, 0], image.Pixels.AsSpan(3 * (600 * 2048 + 500), 3).ToArray());
        Assert.Equal([0, 0, 255], image.Pixels.AsSpan(3 * (600 * 2048 + 1500), 3).ToArray());
        // PNG cannot be decoded scaled here, so it is decoded whole into native memory freed at once; what stays managed
        // is the 2048-side result: 11 MB of RGBA and 8 MB of RGB (it was 216 + 162 MB).
        Assert.True(bytes < 48L << 20, $"decoding allocated {bytes >> 20} MB");
    }

    [Fact]
    public void ALargeJpegUsesTheDecodersOwnScaling()
    {
        using var dir = new TempDir();
        var path = dir.File("large.jpg");
        using (var bitmap = new SKBitmap(new SKImageInfo(4000, 3000, SKColorType.Rgba8888, SKAlphaType.Opaque)))
        {
            using (var canvas = new SKCanvas(bitmap))
            {
                canvas.Clear(new SKColor(0, 200, 0));
                using var paint = new SKPaint { Color = new SKColor(250, 250, 250) };
                canvas.DrawRect(0, 0, 2000, 3000, paint);
            }
            using var data = bitmap.Encode(SKEncodedImageFormat.Jpeg, 90);
            File.WriteAllBytes(path, data.ToArray());
        }

        var (image, bytes) = Allocated(() => ImageLoader.Load(path, new ImageLoadOptions { MaxSide = 1000 }));

        Assert.Equal((1000, 750), (image.Width, image.Height));
        static byte[] At(RgbImage i, int x, int y) => i.Pixels.AsSpan(3 * (y * i.Width + x), 3).ToArray();
        Assert.All(At(image, 200, 300), v => Assert.InRange(v, 240, 255));
        Assert.InRange(At(image, 800, 300)[1], 190, 210);
        // Whole: 48 MB of RGBA and 36 MB of RGB. At the decoder's 1/4 scale: 3 MB and 2.3 MB, plus the file.
        Assert.True(bytes < 16L << 20, $"decoding allocated {bytes >> 20} MB");
    }

    [Fact]
    public void ADecompressionBombIsRefusedFromItsHeader()
    {
        using var dir = new TempDir();
        var path = dir.File("bomb.png");
        // The header claims 50 000 × 50 000; the data would inflate from a few bytes.
        WritePng(path, 50_000, 50_000, gray: true, _ => []);
        var (e, bytes) = Allocated(() => Assert.Throws<ImageLoadException>(() => ImageLoader.Load(path)));
        Assert.Contains("over the limit", e.Message);
        Assert.Contains(path, e.Message);
        Assert.True(bytes < 8L << 20, $"refusing allocated {bytes >> 20} MB");
    }

    [Fact]
    public void AHugeMaskIsDecodedSmallAndFittedToItsDecodedImage()
    {
        using var dir = new TempDir();
        var path = dir.File("mask.png");
        var on = Enumerable.Repeat((byte)255, 4500).Concat(new byte[4500]).ToArray();
        var off = new byte[9000];
        WritePng(path, 9000, 6000, gray: true, y => y < 3000 ? on : off);   // the top-left quarter

        var mask = MaskLoader.Load(path);
        var fitted = MaskLoader.FitToImage(mask, 2048, 1365, "m1");

        Assert.Equal((2048, 1365), (fitted.Width, fitted.Height));
        Assert.InRange(fitted.Area / (2048.0 * 1365), 0.24, 0.26);
        Assert.True(fitted[100, 100]);
        Assert.False(fitted[1500, 1000]);
    }

    [Fact]
    public void DownscalingAveragesEachBox()
    {
        using var dir = new TempDir();
        var path = dir.File("stripes.png");
        // Columns alternate 0 and 200: every 2×2 box of the half-size image averages to 100.
        var row = new byte[400 * 3];
        for (int x = 0; x < 400; x += 2) row[3 * x] = row[3 * x + 1] = row[3 * x + 2] = 200;
        WritePng(path, 400, 300, gray: false, _ => row);
        var image = ImageLoader.Load(path, new ImageLoadOptions { MaxSide = 200 });
        Assert.Equal((200, 150), (image.Width, image.Height));
        Assert.All(image.Pixels, v => Assert.Equal(100, v));
    }

    [Fact]
    public void TheLoaderReadsOnlyWhereItIsAllowedAndNamesMissingFilesInside()
    {
        using var dir = new TempDir();
        var options = new ImageLoadOptions { Paths = new PathPolicy([dir.Path]) };
        string Refusal(string p) => Assert.Throws<PathNotAllowedException>(() => ImageLoader.Load(p, options)).Message.Replace(p, "<p>");
        Assert.Equal(Refusal("/etc/hostname"), Refusal("/etc/no-such-file"));
        Assert.Throws<PathNotAllowedException>(() => MaskLoader.Load("/etc/hostname", options: options));
        var missing = Assert.Throws<ImageLoadException>(() => ImageLoader.Load(dir.File("none.png"), options));
        Assert.Contains("does not exist", missing.Message);
    }

    [Fact]
    public void MasksAreFittedToTheirImageOrRefusedWithTheReason()
    {
        var empty = Assert.Throws<ItemDataException>(() => MaskLoader.FitToImage(BinaryMask.Empty(64, 48), 64, 48, "img/m0"));
        Assert.Contains("Mask img/m0 is empty", empty.Message);

        var full = new BinaryMask(64, 48, Enumerable.Repeat((byte)1, 64 * 48).ToArray());
        Assert.Same(full, MaskLoader.FitToImage(full, 64, 48, "m"));                                 // a full mask is valid

        var half = TestMasks.Rect(32, 24, 0, 0, 16, 12);                                              // OpenImages: smaller, same aspect
        var fitted = MaskLoader.FitToImage(half, 64, 48, "m");
        Assert.Equal((64, 48, 32 * 24), (fitted.Width, fitted.Height, fitted.Area));
        Assert.Equal(2048, MaskLoader.FitToImage(TestMasks.Rect(1023, 683, 0, 0, 9, 9), 2048, 1365, "m").Width);   // rounded sizes still agree

        var other = Assert.Throws<ItemDataException>(() => MaskLoader.FitToImage(TestMasks.Rect(48, 48, 0, 0, 9, 9), 64, 48, "img/m1"));
        Assert.Contains("48×48", other.Message);
        Assert.Contains("64×48", other.Message);
    }

    [Fact]
    public void TheEngineRefusesToScoreAnEmptyMask()
    {
        using var engine = new RegionEngine(ClipModel.CreateRandom(ClipConfig.Tiny(), 1), null, new EngineSettings { ImageSize = 32, Device = "cpu" });
        using var image = engine.Prepare("img", RgbImage.Filled(40, 30, 10, 20, 30));
        var e = Assert.Throws<ItemDataException>(() =>
            engine.Evaluate(image, [new MaskInput("m-full", TestMasks.Rect(40, 30, 0, 0, 40, 30)), new MaskInput("m-empty", BinaryMask.Empty(40, 30))], [RegionMethod.Clip]));
        Assert.Equal("m-empty", e.Subject);
    }
}
