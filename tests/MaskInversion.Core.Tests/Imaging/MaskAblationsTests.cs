using MaskInversion.Core.Imaging;

namespace MaskInversion.Core.Tests.Imaging;

public class MaskAblationsTests
{
    static BinaryMask Random(int w, int h, double p, int seed)
    {
        var rng = new Random(seed);
        return new BinaryMask(w, h, Enumerable.Range(0, w * h).Select(_ => rng.NextDouble() < p ? (byte)1 : (byte)0).ToArray());
    }

    static bool InElement(int dx, int dy, int r, StructuringElement e)
        => e == StructuringElement.Disk ? dx * dx + dy * dy <= r * r : Math.Abs(dx) <= r && Math.Abs(dy) <= r;

    /// <summary>Textbook definitions, pixel by pixel; out-of-image neighbours ignored.</summary>
    static byte[] BruteForce(BinaryMask m, int r, StructuringElement e, bool dilate)
    {
        var result = new byte[m.Data.Length];
        for (int y = 0; y < m.Height; y++)
            for (int x = 0; x < m.Width; x++)
            {
                bool any = false, all = true;
                for (int dy = -r; dy <= r; dy++)
                    for (int dx = -r; dx <= r; dx++)
                    {
                        int xx = x + dx, yy = y + dy;
                        if (!InElement(dx, dy, r, e) || xx < 0 || yy < 0 || xx >= m.Width || yy >= m.Height) continue;
                        if (m[xx, yy]) any = true; else all = false;
                    }
                result[y * m.Width + x] = (dilate ? any : all) ? (byte)1 : (byte)0;
            }
        return result;
    }

    [Theory]
    [InlineData(StructuringElement.Disk, 1)]
    [InlineData(StructuringElement.Disk, 3)]
    [InlineData(StructuringElement.Disk, 7)]
    [InlineData(StructuringElement.Square, 2)]
    [InlineData(StructuringElement.Square, 5)]
    public void MatchesTheDefinition(StructuringElement element, int r)
    {
        foreach (var (p, seed) in new[] { (0.03, 1), (0.5, 2), (0.9, 3) })
        {
            var m = Random(41, 29, p, seed);
            Assert.Equal(BruteForce(m, r, element, dilate: true), MaskAblations.Dilate(m, r, element).Data);
            Assert.Equal(BruteForce(m, r, element, dilate: false), MaskAblations.Erode(m, r, element).Data);
        }
    }

    [Fact]
    public void DilatedPixelIsALatticeDisk()
    {
        var dot = TestImages.Rect(31, 31, 15, 15, 16, 16);
        int expected = 0;
        for (int dy = -6; dy <= 6; dy++) for (int dx = -6; dx <= 6; dx++) if (dx * dx + dy * dy <= 36) expected++;
        Assert.Equal(expected, MaskAblations.Dilate(dot, 6).Area);
        Assert.Equal(13 * 13, MaskAblations.Dilate(dot, 6, StructuringElement.Square).Area);
    }

    [Fact]
    public void CatMaskIsNestedBetweenErosionAndDilation()
    {
        var cat = MaskLoader.Load(SharedData.Examples("cat_mask.png"));
        int r = MaskAblations.DefaultRadius(cat);
        var box = cat.BoundingBox()!.Value;
        Assert.Equal((int)Math.Round(0.05 * Math.Max(box.X1 - box.X0, box.Y1 - box.Y0)), r);
        Assert.True(r >= 1);

        var eroded = MaskAblations.Apply(cat, MaskAblation.Erode);
        var dilated = MaskAblations.Apply(cat, MaskAblation.Dilate);
        var boxed = MaskAblations.Apply(cat, MaskAblation.Box);
        for (int i = 0; i < cat.Data.Length; i++)
        {
            Assert.True(eroded.Data[i] <= cat.Data[i]);
            Assert.True(cat.Data[i] <= dilated.Data[i]);
            Assert.True(cat.Data[i] <= boxed.Data[i]);
        }
        Assert.InRange(eroded.Area, 1, cat.Area - 1);
        Assert.True(dilated.Area > cat.Area);
        Assert.Equal((box.X1 - box.X0) * (box.Y1 - box.Y0), boxed.Area);
        Assert.Equal(box, boxed.BoundingBox());
        Assert.Equal(cat.Data, MaskAblations.Apply(cat, MaskAblation.None).Data);
    }

    [Fact]
    public void EmptyAndFullMasks()
    {
        var empty = BinaryMask.Empty(20, 10);
        var full = TestImages.Rect(20, 10, 0, 0, 20, 10);
        Assert.Equal(0, MaskAblations.DefaultRadius(empty));
        foreach (var ablation in Enum.GetValues<MaskAblation>())
        {
            Assert.Equal(0, MaskAblations.Apply(empty, ablation).Area);
            Assert.Equal(200, MaskAblations.Apply(full, ablation).Area);
        }
        foreach (var element in Enum.GetValues<StructuringElement>())
        {
            Assert.Equal(0, MaskAblations.Dilate(empty, 1000, element).Area);
            Assert.Equal(200, MaskAblations.Erode(full, 1000, element).Area);
            Assert.Equal(0, MaskAblations.Erode(empty, 3, element).Area);
            Assert.Equal(200, MaskAblations.Dilate(full, 3, element).Area);
        }
    }
}
