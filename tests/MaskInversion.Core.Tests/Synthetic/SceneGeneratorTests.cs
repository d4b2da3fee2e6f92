using MaskInversion.Core.Imaging;
using MaskInversion.Core.Synthetic;

namespace MaskInversion.Core.Tests.Synthetic;

public class SceneGeneratorTests
{
    static readonly SceneGenerator Generator = new(seed: 11);
    static readonly Scene[] Scenes = Generator.Generate(0, 60);

    [Fact]
    public void SameSeedAndIndexGiveIdenticalScenes()
    {
        var a = new SceneGenerator(11).Generate(17);
        var b = new SceneGenerator(11).Generate(17);
        Assert.Equal(a.Image.Pixels, b.Image.Pixels);
        Assert.Equal(a.Caption, b.Caption);
        Assert.Equal(a.Objects.Count, b.Objects.Count);
        for (int k = 0; k < a.Objects.Count; k++)
        {
            Assert.Equal(a.Objects[k].ClassIndex, b.Objects[k].ClassIndex);
            Assert.Equal(a.Objects[k].Mask.Data, b.Objects[k].Mask.Data);
        }
        // The parallel batch must match scenes generated one at a time, in any order.
        Assert.Equal(Scenes[17].Image.Pixels, a.Image.Pixels);
        Assert.Equal(Scenes[3].Image.Pixels, Generator.Generate(3).Image.Pixels);
    }

    [Fact]
    public void DifferentIndexOrSeedGivesDifferentScenes()
    {
        var a = Generator.Generate(17);
        Assert.NotEqual(a.Image.Pixels, Generator.Generate(18).Image.Pixels);
        Assert.NotEqual(a.Image.Pixels, new SceneGenerator(12).Generate(17).Image.Pixels);
        Assert.Equal(Scenes.Length, Scenes.Select(s => Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(s.Image.Pixels))).Distinct().Count());
    }

    [Fact]
    public void ObjectCountsStayWithinConfiguredRange()
    {
        Assert.All(Scenes, s => Assert.InRange(s.Objects.Count, 1, 4));
        Assert.Contains(Scenes, s => s.Objects.Count == 1);
        Assert.Contains(Scenes, s => s.Objects.Count == 4);

        var gen = new SceneGenerator(3, new SceneOptions { MinObjects = 2, MaxObjects = 3, Width = 192, Height = 160 });
        var counts = gen.Generate(0, 40).Select(s => s.Objects.Count).ToArray();
        Assert.All(counts, c => Assert.InRange(c, 2, 3));
        Assert.Contains(2, counts);
        Assert.Contains(3, counts);
        var scene = gen.Generate(0);
        Assert.Equal((192, 160), (scene.Image.Width, scene.Image.Height));
        Assert.All(scene.Objects, o => Assert.Equal((192, 160), (o.Mask.Width, o.Mask.Height)));
    }

    [Fact]
    public void VisibleMasksAreDisjointNonEmptyAndMatchTheirMetadata()
    {
        foreach (var s in Scenes)
        {
            var cover = new int[s.Image.Width * s.Image.Height];
            foreach (var o in s.Objects)
            {
                for (int i = 0; i < cover.Length; i++) cover[i] += o.Mask.Data[i];
                Assert.Equal(o.Mask.Area, o.VisibleArea);
                Assert.True(o.VisibleArea > 0);
                Assert.True(o.VisibleArea <= o.FullArea);
                Assert.Equal(o.Mask.BoundingBox(), o.Box);
            }
            Assert.All(cover, c => Assert.InRange(c, 0, 1));
            Assert.Equal(s.Objects.Count, s.Objects.Select(o => o.ClassIndex).Distinct().Count());
        }
    }

    [Fact]
    public void OccludedObjectsKeepTheMinimumVisibleFraction()
    {
        var all = Scenes.SelectMany(s => s.Objects).ToArray();
        Assert.All(all, o => Assert.True(o.VisibleFraction >= 0.4, $"{o.ClassName} only {o.VisibleFraction:P0} visible"));
        Assert.Contains(all, o => o.VisibleFraction < 0.95); // occlusion actually happens
        // The topmost object is never occluded.
        Assert.All(Scenes, s => Assert.Equal(s.Objects[^1].FullArea, s.Objects[^1].VisibleArea));

        var strict = new SceneGenerator(5, new SceneOptions { MinObjects = 4, MaxObjects = 4, MinVisibleFraction = 0.8 });
        Assert.All(strict.Generate(0, 20).SelectMany(s => s.Objects), o => Assert.True(o.VisibleFraction >= 0.8));
    }

    [Fact]
    public void SolidObjectInteriorsHaveExactlyTheObjectColour()
    {
        int objects = 0, pixels = 0;
        foreach (var s in Scenes)
            foreach (var o in s.Objects.Where(o => o.Texture == ObjectTexture.Solid))
            {
                var inner = Erode(o.Mask, 2);
                for (int y = 0; y < inner.Height; y++)
                    for (int x = 0; x < inner.Width; x++)
                        if (inner[x, y])
                        {
                            Assert.Equal(o.Rgb, Pixel(s.Image, x, y));
                            pixels++;
                        }
                objects++;
            }
        Assert.True(objects >= 10, $"only {objects} solid objects sampled");
        Assert.True(pixels >= 10_000, $"only {pixels} interior pixels checked");
    }

    [Fact]
    public void SolidObjectMasksAlignWithTheirDrawnEdges()
    {
        // A fully covered pixel has its centre inside the outline, so every exact-colour pixel must be in the
        // visible mask (a mask shifted by even one pixel breaks this), and most mask pixels must be exact.
        int checkedObjects = 0;
        foreach (var s in Scenes)
        {
            var anyMask = new byte[s.Image.Width * s.Image.Height];
            foreach (var o in s.Objects)
                for (int i = 0; i < anyMask.Length; i++) anyMask[i] |= o.Mask.Data[i];
            foreach (var o in s.Objects.Where(o => o.Texture == ObjectTexture.Solid))
            {
                var (x0, y0, x1, y1) = o.Box;
                int exactInside = 0;
                for (int y = Math.Max(0, y0 - 3); y < Math.Min(s.Image.Height, y1 + 3); y++)
                    for (int x = Math.Max(0, x0 - 3); x < Math.Min(s.Image.Width, x1 + 3); x++)
                    {
                        bool exact = Pixel(s.Image, x, y) == o.Rgb;
                        if (o.Mask[x, y]) exactInside += exact ? 1 : 0;
                        else if (anyMask[y * s.Image.Width + x] == 0)
                            Assert.False(exact, $"scene {s.Index}: {o.ClassName} colour at ({x},{y}) outside every mask");
                    }
                Assert.True(exactInside >= 0.6 * o.VisibleArea, $"{o.ClassName}: {exactInside}/{o.VisibleArea} mask pixels in the object colour");
                checkedObjects++;
            }
        }
        Assert.True(checkedObjects >= 10);
    }

    [Fact]
    public void TexturedObjectInteriorsKeepTheirHue()
    {
        // Pattern colours are shades/tints of the object colour, so hue survives texture (the nuisance variable).
        int objects = 0;
        foreach (var s in Scenes)
            foreach (var o in s.Objects.Where(o => o.Texture != ObjectTexture.Solid))
            {
                double hue = Hue(o.Rgb);
                var inner = Erode(o.Mask, 2);
                int exact = 0, total = 0;
                for (int y = 0; y < inner.Height; y++)
                    for (int x = 0; x < inner.Width; x++)
                        if (inner[x, y])
                        {
                            var p = Pixel(s.Image, x, y);
                            total++;
                            if (p == o.Rgb) exact++;
                            Assert.True(HueDistance(Hue(p), hue) < 10, $"{o.ClassName} pixel {p} hue {Hue(p):F0} vs {hue:F0}");
                        }
                Assert.True(exact > total / 5, $"{o.ClassName} ({o.Texture}): only {exact}/{total} pixels in the object colour");
                objects++;
            }
        Assert.True(objects >= 20);
    }

    [Fact]
    public void BackgroundClutterIsNeverSaturatedLikeAClassColour()
    {
        foreach (var c in SceneColour.Defaults) Assert.True(Saturation((c.R, c.G, c.B)) > 0.7, c.Name);
        foreach (var s in Scenes)
        {
            var near = new byte[s.Image.Width * s.Image.Height];
            foreach (var o in s.Objects)
                for (int i = 0; i < near.Length; i++) near[i] |= o.Mask.Data[i];
            var background = Erode(new BinaryMask(s.Image.Width, s.Image.Height, near.Select(v => (byte)(1 - v)).ToArray()), 2);
            for (int y = 0; y < background.Height; y++)
                for (int x = 0; x < background.Width; x++)
                    if (background[x, y])
                        Assert.True(Saturation(Pixel(s.Image, x, y)) < 0.5, $"scene {s.Index} ({x},{y}) {Pixel(s.Image, x, y)}");
        }
    }

    [Fact]
    public void ClassIndexAndNamesRoundTrip()
    {
        var v = SceneVocabulary.Default;
        Assert.Equal(36, v.ClassCount);
        Assert.Equal("red circle", v.ClassName(0));
        Assert.Equal("/m/syn_red_circle", v.LabelName(0));
        Assert.Equal(36, v.ClassNames.Distinct().Count());
        for (int i = 0; i < v.ClassCount; i++)
        {
            Assert.Equal(i, v.ClassIndexOfName(v.ClassName(i)));
            Assert.Equal(i, v.ClassIndexOfLabel(v.LabelName(i)));
            var (c, s) = v.Split(i);
            Assert.Equal(i, v.ClassIndex(c, s));
            Assert.Equal($"{v.Colours[c].Name} {SceneVocabulary.ShapeName(v.Shapes[s])}", v.ClassName(i));
        }
        Assert.Throws<KeyNotFoundException>(() => v.ClassIndexOfName("red hexagon"));

        var custom = new SceneVocabulary([ShapeKind.Hexagon, ShapeKind.Heart], [new SceneColour("teal", 0, 160, 160), SceneColour.Red]);
        Assert.Equal(4, custom.ClassCount);
        Assert.Equal("red heart", custom.ClassName(3));
        var scene = new SceneGenerator(1, new SceneOptions { Vocabulary = custom, MinObjects = 4, MaxObjects = 4 }).Generate(0);
        Assert.Equal(new[] { 0, 1, 2, 3 }, scene.Objects.Select(o => o.ClassIndex).Order());
        Assert.All(scene.Objects, o => Assert.Equal(custom.ClassName(o.ClassIndex), o.ClassName));
    }

    [Fact]
    public void CaptionsNameEveryObject()
    {
        foreach (var s in Scenes)
        {
            foreach (var o in s.Objects)
            {
                Assert.Equal(1, CountOf(s.Caption, SceneCaption.WithArticle(o.ClassName)));
                Assert.Equal(SceneCaption.ForClass(o.ClassName), o.Caption);
            }
            Assert.Equal(s.Objects.Count - 1, CountOf(s.Caption, ", ") + CountOf(s.Caption, " and "));
        }
        Assert.Equal("a photo of an orange star.", SceneCaption.ForClass("orange star"));
        Assert.Equal("a red circle, a blue star and a green ring", SceneCaption.ForScene(["red circle", "blue star", "green ring"]));
        Assert.Equal("a red circle", SceneCaption.ForScene(["red circle"]));
        // Mention order is randomised, not drawing order.
        Assert.Contains(Scenes.Where(s => s.Objects.Count >= 3),
            s => s.Caption != SceneCaption.ForScene(s.Objects.Select(o => o.ClassName).ToArray()));
    }

    [Fact]
    public void InvalidOptionsAreRejected()
    {
        Assert.Throws<ArgumentException>(() => new SceneGenerator(0, new SceneOptions { MinObjects = 3, MaxObjects = 2 }));
        Assert.Throws<ArgumentException>(() => new SceneGenerator(0, new SceneOptions { MinSizeFraction = 0.5, MaxSizeFraction = 0.4 }));
        Assert.Throws<ArgumentException>(() => new SceneGenerator(0, new SceneOptions { Textures = [] }));
        Assert.Throws<ArgumentException>(() => new SceneVocabulary([ShapeKind.Star], [new SceneColour("dark_red", 1, 2, 3)]));
    }

    static int CountOf(string text, string part)
    {
        int n = 0;
        for (int i = text.IndexOf(part, StringComparison.Ordinal); i >= 0; i = text.IndexOf(part, i + 1, StringComparison.Ordinal)) n++;
        return n;
    }

    static (byte R, byte G, byte B) Pixel(RgbImage img, int x, int y)
    {
        int i = 3 * (y * img.Width + x);
        return (img.Pixels[i], img.Pixels[i + 1], img.Pixels[i + 2]);
    }

    /// <summary>Keeps pixels whose whole (2r+1)² neighbourhood lies inside the mask and the image.</summary>
    internal static BinaryMask Erode(BinaryMask m, int r)
    {
        var d = new byte[m.Width * m.Height];
        for (int y = r; y < m.Height - r; y++)
            for (int x = r; x < m.Width - r; x++)
            {
                bool all = true;
                for (int dy = -r; dy <= r && all; dy++)
                    for (int dx = -r; dx <= r && all; dx++)
                        all = m[x + dx, y + dy];
                d[y * m.Width + x] = all ? (byte)1 : (byte)0;
            }
        return new BinaryMask(m.Width, m.Height, d);
    }

    static double Saturation((byte R, byte G, byte B) c)
    {
        int max = Math.Max(c.R, Math.Max(c.G, c.B)), min = Math.Min(c.R, Math.Min(c.G, c.B));
        return max == 0 ? 0 : (max - min) / (double)max;
    }

    static double Hue((byte R, byte G, byte B) c)
    {
        double r = c.R, g = c.G, b = c.B, max = Math.Max(r, Math.Max(g, b)), min = Math.Min(r, Math.Min(g, b)), d = max - min;
        if (d == 0) return 0;
        double h = max == r ? (g - b) / d % 6 : max == g ? (b - r) / d + 2 : (r - g) / d + 4;
        return (h * 60 + 360) % 360;
    }

    static double HueDistance(double a, double b) => Math.Min(Math.Abs(a - b), 360 - Math.Abs(a - b));
}
