using MaskInversion.Core.Baselines;
using MaskInversion.Core.Imaging;

namespace MaskInversion.Core.Tests.Imaging;

public class VisualPromptsTests
{
    static readonly RgbImage Cats = ImageLoader.Load(SharedData.Examples("cats_and_dogs.jpg"));
    static readonly BinaryMask Cat = MaskLoader.Load(SharedData.Examples("cat_mask.png"));

    static byte[] Px(RgbImage img, int p) => [img.Pixels[3 * p], img.Pixels[3 * p + 1], img.Pixels[3 * p + 2]];

    [Fact]
    public void MeanColourIsOpenAIMeanIn8Bit() => Assert.Equal(new byte[] { 123, 117, 104 }, VisualPrompts.MeanColor);

    [Fact]
    public void MaskedCropKeepsInsideAndFillsOutsideWithTheMean()
    {
        var masked = VisualPrompts.MaskedCrop(Cats, Cat);
        Assert.Equal((Cats.Width, Cats.Height), (masked.Width, masked.Height));
        for (int p = 0; p < Cat.Data.Length; p++)
            Assert.Equal(Cat.Data[p] != 0 ? Px(Cats, p) : VisualPrompts.MeanColor, Px(masked, p));
    }

    [Fact]
    public void MasksOfAnotherSizeAreResizedToTheImage()
    {
        var photo = ImageLoader.Load(SharedData.Examples("dress_and_flower.png"));
        var dress = MaskLoader.Load(SharedData.Examples("dress_mask.png"));
        var fitted = MaskLoader.Resize(dress, photo.Width, photo.Height);
        var masked = VisualPrompts.MaskedCrop(photo, dress);
        int kept = 0;
        for (int p = 0; p < fitted.Data.Length; p++) if (fitted.Data[p] != 0 && Px(masked, p).SequenceEqual(Px(photo, p))) kept++;
        Assert.Equal(fitted.Area, kept);
        var b = fitted.BoundingBox()!.Value;
        var crop = VisualPrompts.Crop(photo, dress);
        Assert.Equal((b.X1 - b.X0, b.Y1 - b.Y0), (crop.Width, crop.Height));
    }

    [Fact]
    public void CropIsTheBoundingBox()
    {
        var b = Cat.BoundingBox()!.Value;
        var crop = VisualPrompts.Crop(Cats, Cat);
        Assert.Equal((b.X1 - b.X0, b.Y1 - b.Y0), (crop.Width, crop.Height));
        Assert.True(crop.Width < Cats.Width || crop.Height < Cats.Height);
        foreach (var (x, y) in new[] { (0, 0), (crop.Width - 1, crop.Height - 1), (crop.Width / 2, crop.Height / 3) })
            Assert.Equal(Px(Cats, (b.Y0 + y) * Cats.Width + b.X0 + x), Px(crop, y * crop.Width + x));

        var whole = VisualPrompts.Crop(Cats, BinaryMask.Empty(10, 10));
        Assert.Equal(Cats.Pixels, whole.Pixels);
    }

    [Fact]
    public void RedCircleChangesOnlyPixelsNearTheEllipse()
    {
        var img = RgbImage.Filled(120, 90, 40, 160, 40);
        var mask = TestImages.Rect(120, 90, 20, 15, 100, 65); // ellipse centre (60, 40), semi-axes 40 × 25
        const float t = 3;
        var drawn = VisualPrompts.RedCircle(img, mask, t);
        int changed = 0;
        for (int y = 0; y < 90; y++)
            for (int x = 0; x < 120; x++)
            {
                int p = y * 120 + x;
                if (Px(drawn, p).SequenceEqual(Px(img, p))) continue;
                changed++;
                double u = (x + 0.5 - 60) / 40, v = (y + 0.5 - 40) / 25, rho = Math.Sqrt(u * u + v * v);
                // |ρ − 1|·(shorter semi-axis) never exceeds the distance to the ellipse.
                Assert.True(Math.Abs(rho - 1) * 25 <= t / 2 + 1.0, $"pixel ({x},{y}) changed, ρ = {rho:F3}");
            }
        Assert.True(changed > 2 * Math.PI * 30 * t * 0.8, $"only {changed} pixels drawn");
        foreach (var (x, y) in new[] { (20, 40), (99, 40), (60, 15), (60, 64) })
            Assert.Equal(new byte[] { 255, 0, 0 }, Px(drawn, y * 120 + x));
        Assert.Equal(img.Pixels, VisualPrompts.RedCircle(img, BinaryMask.Empty(120, 90)).Pixels);
        Assert.Equal(2f, VisualPrompts.DefaultThickness(img));
    }

    [Fact]
    public void BlurOutsideKeepsTheMaskSharpAndBlursTheRest()
    {
        var img = TestImages.Checker(160, 120);
        var mask = TestImages.Disk(160, 120, 80, 60, 30);
        var blurred = VisualPrompts.BlurOutside(img, mask);
        double outsideDiff = 0; int outside = 0;
        for (int p = 0; p < mask.Data.Length; p++)
        {
            if (mask.Data[p] != 0) { Assert.Equal(Px(img, p), Px(blurred, p)); continue; }
            outside++;
            outsideDiff += Math.Abs(img.Pixels[3 * p] - blurred.Pixels[3 * p]);
        }
        // A 4-pixel checker of 20/230 blurred with σ ≥ 3 averages out to ≈ 125: every pixel moves by ~100.
        Assert.True(outsideDiff / outside > 80, $"mean change outside {outsideDiff / outside:F1}");

        var photo = VisualPrompts.BlurOutside(Cats, Cat, sigma: 5);
        for (int p = 0; p < Cat.Data.Length; p++) if (Cat.Data[p] != 0) Assert.Equal(Px(Cats, p), Px(photo, p));
        Assert.NotEqual(Cats.Pixels, photo.Pixels);
    }
}
