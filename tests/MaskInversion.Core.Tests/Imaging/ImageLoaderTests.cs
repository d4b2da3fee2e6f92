using MaskInversion.Core.Imaging;

namespace MaskInversion.Core.Tests.Imaging;

public class ImageLoaderTests
{
    [Fact]
    public void LoadsTheExamplePhotosAtTheirSizes()
    {
        var cats = ImageLoader.Load(SharedData.Examples("cats_and_dogs.jpg"));
        Assert.Equal((639, 480), (cats.Width, cats.Height));
        var dress = ImageLoader.Load(SharedData.Examples("dress_and_flower.png")); // palette PNG
        Assert.Equal((416, 530), (dress.Width, dress.Height));
        foreach (var img in new[] { cats, dress })
        {
            // A real photo: not a constant, not black.
            double mean = img.Pixels.Average(b => (double)b);
            Assert.InRange(mean, 30, 230);
            Assert.True(img.Pixels.Distinct().Count() > 100);
        }
    }

    [Fact]
    public void PngRoundTripIsExact()
    {
        var img = TestImages.Checker(37, 23);
        var back = ImageLoader.Load(PngWriter.Encode(img), "checker.png");
        Assert.Equal(img.Pixels, back.Pixels);
    }

    [Fact]
    public void WebPAndBmpDecode()
    {
        var img = TestImages.Checker(24, 16);
        var webp = TestImages.Encode(img, SkiaSharp.SKEncodedImageFormat.Webp, 100);
        var fromWebp = ImageLoader.Load(webp, "x.webp");
        Assert.Equal((24, 16), (fromWebp.Width, fromWebp.Height));
        Assert.True(img.Pixels.Zip(fromWebp.Pixels, (a, b) => Math.Abs(a - b)).Average() < 10);

        // 2×2 24-bit BMP, stored bottom-up in BGR with rows padded to 4 bytes.
        byte[] bmp =
        [
            .. "BM"u8, 70, 0, 0, 0, 0, 0, 0, 0, 54, 0, 0, 0,
            40, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 1, 0, 24, 0, 0, 0, 0, 0, 16, 0, 0, 0,
            0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
            255, 0, 0, 0, 255, 0, 0, 0,      // bottom row: blue, green
            0, 0, 255, 255, 255, 255, 0, 0,  // top row: red, white
        ];
        Assert.Equal(new byte[] { 255, 0, 0, 255, 255, 255, 0, 0, 255, 0, 255, 0 }, ImageLoader.Load(bmp, "x.bmp").Pixels);
    }

    [Fact]
    public void AlphaIsDroppedNotComposited()
    {
        // 2×1 RGBA: a fully transparent red pixel and a half-transparent green one.
        var png = TestImages.Png(2, 1, 8, 6, [200, 10, 10, 0, 10, 200, 10, 128]);
        var img = ImageLoader.Load(png, "alpha.png");
        Assert.Equal(new byte[] { 200, 10, 10, 10, 200, 10 }, img.Pixels);
    }

    [Fact]
    public void GrayAnd16BitBecomeRgb()
    {
        var gray = ImageLoader.Load(TestImages.Png(2, 1, 8, 0, [7, 250]), "gray.png");
        Assert.Equal(new byte[] { 7, 7, 7, 250, 250, 250 }, gray.Pixels);
        var gray16 = ImageLoader.Load(TestImages.Png(2, 1, 16, 0, [0x12, 0x34, 0xFE, 0xDC]), "gray16.png");
        Assert.InRange(gray16.Pixels[0], 0x11, 0x13);
        Assert.InRange(gray16.Pixels[3], 0xFD, 0xFF);
        Assert.Equal(gray16.Pixels[0], gray16.Pixels[2]);
    }

    [Theory]
    [InlineData(1, 64, 32, 4, 4)]    // upright: red block stays top-left
    [InlineData(6, 32, 64, 28, 4)]   // rotate 90° clockwise: top-left goes top-right
    [InlineData(8, 32, 64, 4, 60)]   // rotate 90° counter-clockwise: top-left goes bottom-left
    [InlineData(3, 64, 32, 60, 28)]  // rotate 180°
    [InlineData(2, 64, 32, 60, 4)]   // mirror horizontally
    public void ExifOrientationIsApplied(ushort orientation, int w, int h, int redX, int redY)
    {
        // Stored 64×32, blue with a red 16×16 block at the top-left.
        var stored = RgbImage.Filled(64, 32, 0, 0, 255);
        for (int y = 0; y < 16; y++)
            for (int x = 0; x < 16; x++) { int i = 3 * (y * 64 + x); stored.Pixels[i] = 255; stored.Pixels[i + 2] = 0; }
        var jpeg = TestImages.WithExifOrientation(TestImages.Jpeg(stored), orientation);

        var img = ImageLoader.Load(jpeg, "exif.jpg");

        Assert.Equal((w, h), (img.Width, img.Height));
        int r = 3 * (redY * img.Width + redX);
        Assert.True(img.Pixels[r] > 200 && img.Pixels[r + 2] < 60, $"expected red at ({redX},{redY})");
        int cx = 3 * (img.Height / 2 * img.Width + img.Width / 2);
        Assert.True(img.Pixels[cx] < 60 && img.Pixels[cx + 2] > 200, "expected blue in the centre");
        int red = 0;
        for (int i = 0; i < img.Pixels.Length; i += 3) if (img.Pixels[i] > 128) red++;
        Assert.InRange(red, 200, 312); // the 256-pixel block, give or take JPEG ringing
    }

    [Fact]
    public void TruncatedJpegIsReportedAsTruncated()
    {
        var jpeg = File.ReadAllBytes(SharedData.Examples("cats_and_dogs.jpg"));
        var e = Assert.Throws<ImageLoadException>(() => ImageLoader.Load(jpeg[..(jpeg.Length / 2)], "half.jpg"));
        Assert.Contains("truncated", e.Message);
        Assert.Equal("half.jpg", e.Path);
    }

    [Fact]
    public void TruncatedPngIsRejected()
    {
        var png = PngWriter.Encode(TestImages.Checker(200, 200));
        var e = Assert.Throws<ImageLoadException>(() => ImageLoader.Load(png[..(png.Length / 2)], "half.png"));
        Assert.Contains("half.png", e.Message);
    }

    [Fact]
    public void JpegCutInsideItsHeaderIsTruncated()
    {
        var jpeg = File.ReadAllBytes(SharedData.Examples("cats_and_dogs.jpg"));
        Assert.Contains("truncated", Assert.Throws<ImageLoadException>(() => ImageLoader.Load(jpeg[..20], "head.jpg")).Message);
    }

    [Fact]
    public void TextFileIsNotAnImage()
    {
        var path = TestImages.TempFile("hello, not an image\n"u8.ToArray(), "x.txt");
        var e = Assert.Throws<ImageLoadException>(() => ImageLoader.Load(path));
        Assert.Equal($"'{path}' is not a recognised image (JPEG, PNG, WebP, BMP).", e.Message);
        Assert.Equal(path, e.Path);
        var longer = string.Concat(Enumerable.Repeat("still not an image. ", 20));
        Assert.Contains("not a recognised image",
            Assert.Throws<ImageLoadException>(() => ImageLoader.Load(System.Text.Encoding.UTF8.GetBytes(longer), "y.txt")).Message);
    }

    [Fact]
    public void EmptyAndMissingFilesAreReported()
    {
        var empty = TestImages.TempFile([], "empty.png");
        Assert.Contains("is empty", Assert.Throws<ImageLoadException>(() => ImageLoader.Load(empty)).Message);
        var missing = Path.Combine(Path.GetTempPath(), "mi-no-such-file-" + Guid.NewGuid() + ".jpg");
        var e = Assert.Throws<ImageLoadException>(() => ImageLoader.Load(missing));
        Assert.Contains("does not exist", e.Message);
        Assert.Equal(missing, e.Path);
    }

    [Fact]
    public void PixelLimitIsCheckedBeforeDecoding()
    {
        var path = SharedData.Examples("cats_and_dogs.jpg");
        var e = Assert.Throws<ImageLoadException>(() => ImageLoader.Load(path, new ImageLoadOptions { MaxPixels = 639 * 480 - 1 }));
        Assert.Contains("over the limit", e.Message);
        Assert.Equal(639, ImageLoader.Load(path, new ImageLoadOptions { MaxPixels = 639 * 480 }).Width);
        // A header claiming 100000×100000 with no pixel data behind it: rejected on the header alone.
        var bomb = TestImages.PngHeaderOnly(100_000, 100_000);
        Assert.Contains("over the limit", Assert.Throws<ImageLoadException>(() => ImageLoader.Load(bomb, "bomb.png")).Message);
    }
}
