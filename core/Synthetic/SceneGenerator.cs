using MaskInversion.Core.Imaging;
using SkiaSharp;

namespace MaskInversion.Core.Synthetic;

/// <summary>
/// Procedural scenes of coloured shapes on cluttered backgrounds, with exact visible-region masks.
/// Scene <c>i</c> depends only on (seed, i, options): any scene can be regenerated alone, on any thread.
/// <para>
/// Backgrounds are a two-stop gradient between low-saturation colours (saturation ≤ 0.2), grey per-pixel
/// noise, and distractor blobs and lines that are grey or muted brown (saturation ≤ 0.35). Class colours
/// are saturated (≥ 0.7), so clutter adds difficulty without creating confusions with any class.
/// </para>
/// <para>
/// Objects are drawn in order with antialiasing, later over earlier. Each object's full mask is a separate
/// aliased fill of the same path (pixel centre inside the outline); its visible mask is that minus the full
/// masks of all later objects. A placement is rejected if it would leave any earlier object with less than
/// <see cref="SceneOptions.MinVisibleFraction"/> of its full area visible.
/// </para>
/// </summary>
public sealed class SceneGenerator
{
    public int Seed { get; }
    public SceneOptions Options { get; }
    public SceneVocabulary Vocabulary => Options.Vocabulary;

    const int MaxRestarts = 200;

    public SceneGenerator(int seed, SceneOptions? options = null)
    {
        Seed = seed;
        Options = options ?? new SceneOptions();
        Options.Validate();
    }

    /// <summary>Generates scenes <paramref name="start"/> … start+count−1 in parallel; result order is by index.</summary>
    public Scene[] Generate(long start, int count, int maxDegreeOfParallelism = -1)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var scenes = new Scene[count];
        Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = maxDegreeOfParallelism },
            i => scenes[i] = Generate(start + i));
        return scenes;
    }

    public Scene Generate(long index)
    {
        var rng = new Random(SceneSeed.RandomSeed(Seed, index));
        var (placements, owner) = Layout(rng);
        var styles = placements.Select(p => SampleStyle(rng, p.ClassIndex)).ToArray();
        var image = Render(rng, placements, styles);

        int w = Options.Width, h = Options.Height;
        var data = new byte[placements.Count][];
        var visible = new int[placements.Count];
        for (int k = 0; k < data.Length; k++) data[k] = new byte[w * h];
        for (int i = 0; i < owner.Length; i++)
            if (owner[i] >= 0) { data[owner[i]][i] = 1; visible[owner[i]]++; }
        var objects = new SceneObject[placements.Count];
        for (int k = 0; k < placements.Count; k++)
        {
            var p = placements[k];
            var mask = new BinaryMask(w, h, data[k]);
            var box = mask.BoundingBox() ?? throw new InvalidOperationException("A placed object has no visible pixels.");
            objects[k] = new SceneObject(p.ClassIndex, Vocabulary.ClassName(p.ClassIndex), Vocabulary.ShapeOf(p.ClassIndex),
                Vocabulary.ColourOf(p.ClassIndex), styles[k].Texture, styles[k].Rgb, mask, box, p.FullArea, visible[k],
                p.Cx, p.Cy, p.Size, p.Rotation);
        }

        // Mention objects in random order so captions do not encode drawing (depth) order.
        var order = Enumerable.Range(0, objects.Length).ToArray();
        rng.Shuffle(order);
        var caption = SceneCaption.ForScene(order.Select(k => objects[k].ClassName).ToArray());
        return new Scene(Seed, index, image, objects, caption);
    }

    sealed record Placement(int ClassIndex, float Cx, float Cy, float Size, float Rotation, int FullArea);

    readonly record struct Style(ObjectTexture Texture, (byte R, byte G, byte B) Rgb, (byte R, byte G, byte B) Second,
        float Period, float DotFraction, float Angle, float Phase);

    /// <summary>Places objects one by one; returns them with the per-pixel index of the topmost object (−1: background).</summary>
    (List<Placement>, int[]) Layout(Random rng)
    {
        int w = Options.Width, h = Options.Height, side = Math.Min(w, h);
        using var bitmap = new SKBitmap(new SKImageInfo(w, h, SKColorType.Alpha8, SKAlphaType.Premul));
        using var canvas = new SKCanvas(bitmap);
        using var paint = new SKPaint { IsAntialias = false, Color = SKColors.White, Style = SKPaintStyle.Fill };
        var full = new byte[w * h];
        var owner = new int[w * h];

        for (int restart = 0; restart < MaxRestarts; restart++)
        {
            int n = rng.Next(Options.MinObjects, Options.MaxObjects + 1);
            var classes = SampleClasses(rng, n);
            Array.Fill(owner, -1);
            var placed = new List<Placement>(n);
            var visible = new int[n];
            var loss = new int[n];
            foreach (int cls in classes)
            {
                bool ok = false;
                for (int attempt = 0; attempt < Options.PlacementAttempts && !ok; attempt++)
                {
                    float size = (float)(side * (Options.MinSizeFraction + rng.NextDouble() * (Options.MaxSizeFraction - Options.MinSizeFraction)));
                    float r = size / 2;
                    float cx = (float)(r + rng.NextDouble() * (w - size));
                    float cy = (float)(r + rng.NextDouble() * (h - size));
                    float rot = (float)(rng.NextDouble() * 360);
                    // Only the bounding square of the shape's circle can be covered; loops stay inside it.
                    var bounds = new Rect(Math.Max(0, (int)(cx - r) - 1), Math.Max(0, (int)(cy - r) - 1),
                        Math.Min(w, (int)(cx + r) + 2), Math.Min(h, (int)(cy + r) + 2));
                    int area = RenderMask(canvas, bitmap, paint, Vocabulary.ShapeOf(cls), cx, cy, size, rot, bounds, full);
                    if (area == 0) continue;

                    Array.Clear(loss);
                    for (int y = bounds.Y0; y < bounds.Y1; y++)
                        for (int i = y * w + bounds.X0; i < y * w + bounds.X1; i++)
                            if (full[i] != 0 && owner[i] >= 0) loss[owner[i]]++;
                    ok = true;
                    for (int k = 0; k < placed.Count && ok; k++)
                        ok = visible[k] - loss[k] >= Options.MinVisibleFraction * placed[k].FullArea;
                    if (!ok) continue;

                    int j = placed.Count;
                    for (int y = bounds.Y0; y < bounds.Y1; y++)
                        for (int i = y * w + bounds.X0; i < y * w + bounds.X1; i++)
                            if (full[i] != 0) owner[i] = j;
                    for (int k = 0; k < j; k++) visible[k] -= loss[k];
                    visible[j] = area;
                    placed.Add(new Placement(cls, cx, cy, size, rot, area));
                }
                if (!ok) break;
            }
            if (placed.Count == n) return (placed, owner);
        }
        throw new InvalidOperationException(
            $"Could not place {Options.MinObjects}–{Options.MaxObjects} objects in {MaxRestarts} tries; the options ask for too crowded a scene.");
    }

    int[] SampleClasses(Random rng, int n)
    {
        if (Options.ClassMix == ClassMix.SharedAttributes)
        {
            var colours = Pick(rng, Vocabulary.Colours.Count, 2);
            var shapes = Pick(rng, Vocabulary.Shapes.Count, 2);
            var grid = new[] { (0, 0), (0, 1), (1, 0), (1, 1) }.Select(p => Vocabulary.ClassIndex(colours[p.Item1], shapes[p.Item2])).ToArray();
            rng.Shuffle(grid);
            return grid[..n];
        }
        if (!Options.DistinctClasses) return Enumerable.Range(0, n).Select(_ => rng.Next(Vocabulary.ClassCount)).ToArray();
        var all = Enumerable.Range(0, Vocabulary.ClassCount).ToArray();
        for (int i = 0; i < n; i++) // partial Fisher–Yates
        {
            int j = rng.Next(i, all.Length);
            (all[i], all[j]) = (all[j], all[i]);
        }
        return all[..n];
    }

    /// <summary><paramref name="k"/> distinct values of 0…n−1 in random order.</summary>
    static int[] Pick(Random rng, int n, int k)
    {
        var all = Enumerable.Range(0, n).ToArray();
        rng.Shuffle(all);
        return all[..k];
    }

    readonly record struct Rect(int X0, int Y0, int X1, int Y1);

    /// <summary>
    /// Aliased fill of the shape into <paramref name="into"/> (0/1) inside <paramref name="bounds"/>, which must
    /// contain the shape; entries outside are left stale. Returns the pixel count.
    /// </summary>
    static int RenderMask(SKCanvas canvas, SKBitmap bitmap, SKPaint paint, ShapeKind shape, float cx, float cy, float size, float rot, Rect bounds, byte[] into)
    {
        canvas.Clear(SKColors.Transparent);
        using (var path = ShapePath.Build(shape, cx, cy, size, rot)) canvas.DrawPath(path, paint);
        ReadOnlySpan<byte> px = bitmap.GetPixelSpan();
        int w = bitmap.Width, stride = bitmap.RowBytes, area = 0;
        for (int y = bounds.Y0; y < bounds.Y1; y++)
        {
            var row = px.Slice(y * stride, w);
            for (int x = bounds.X0; x < bounds.X1; x++)
            {
                byte v = row[x] != 0 ? (byte)1 : (byte)0;
                into[y * w + x] = v;
                area += v;
            }
        }
        return area;
    }

    Style SampleStyle(Random rng, int classIndex)
    {
        var texture = Options.Textures[rng.Next(Options.Textures.Count)];
        var colour = Vocabulary.ColourOf(classIndex);
        var rgb = (Jitter(rng, colour.R), Jitter(rng, colour.G), Jitter(rng, colour.B));
        // The pattern's second colour is a shade or tint of the same hue, so the colour family stays unambiguous.
        var second = rng.NextDouble() < 0.5 ? Scale(rgb, 0.45 + rng.NextDouble() * 0.15) : Tint(rgb, 0.35 + rng.NextDouble() * 0.15);
        return new Style(texture, rgb, second,
            Period: (float)(0.28 + rng.NextDouble() * 0.22),
            DotFraction: (float)(0.22 + rng.NextDouble() * 0.12),
            Angle: (float)(rng.NextDouble() * 180),
            Phase: (float)rng.NextDouble());
    }

    RgbImage Render(Random rng, List<Placement> placements, Style[] styles)
    {
        int w = Options.Width, h = Options.Height, side = Math.Min(w, h);
        using var bitmap = new SKBitmap(new SKImageInfo(w, h, SKColorType.Rgba8888, SKAlphaType.Premul));
        using var canvas = new SKCanvas(bitmap);

        // Background: gradient between two muted colours in a random direction. Filled here rather than with a
        // Skia gradient shader, which costs ~3 ms per 224² image on this raster backend.
        FillGradient(bitmap, (float)(rng.NextDouble() * w), (float)(rng.NextDouble() * h), (float)(rng.NextDouble() * w),
            (float)(rng.NextDouble() * h), MutedColour(rng, 0.2, 0.25, 0.92), MutedColour(rng, 0.2, 0.25, 0.92));

        // Distractors: small grey/brown blobs and strokes.
        int distractors = rng.Next(Options.MinDistractors, Options.MaxDistractors + 1);
        using (var paint = new SKPaint { IsAntialias = true })
            for (int d = 0; d < distractors; d++)
            {
                paint.Color = DistractorColour(rng);
                float x = (float)(rng.NextDouble() * w), y = (float)(rng.NextDouble() * h);
                if (rng.NextDouble() < 0.55)
                {
                    paint.Style = SKPaintStyle.Fill;
                    float rx = (float)(side * (0.012 + rng.NextDouble() * 0.045)), ry = (float)(side * (0.012 + rng.NextDouble() * 0.045));
                    canvas.Save();
                    canvas.Translate(x, y);
                    canvas.RotateDegrees((float)(rng.NextDouble() * 180));
                    canvas.DrawOval(0, 0, rx, ry, paint);
                    canvas.Restore();
                }
                else
                {
                    paint.Style = SKPaintStyle.Stroke;
                    paint.StrokeWidth = (float)(1 + rng.NextDouble() * 2.5);
                    paint.StrokeCap = SKStrokeCap.Round;
                    double len = side * (0.08 + rng.NextDouble() * 0.3), a = rng.NextDouble() * Math.PI;
                    canvas.DrawLine(x, y, (float)(x + len * Math.Cos(a)), (float)(y + len * Math.Sin(a)), paint);
                }
            }

        AddNoise(bitmap, Options.BackgroundNoise, (uint)rng.Next() | 1);

        for (int k = 0; k < placements.Count; k++)
            DrawObject(canvas, Vocabulary.ShapeOf(placements[k].ClassIndex), placements[k], styles[k]);

        ReadOnlySpan<byte> px = bitmap.GetPixelSpan();
        var rgbBytes = new byte[w * h * 3];
        int stride = bitmap.RowBytes;
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                int s = y * stride + 4 * x, t = 3 * (y * w + x);
                rgbBytes[t] = px[s];
                rgbBytes[t + 1] = px[s + 1];
                rgbBytes[t + 2] = px[s + 2];
            }
        return new RgbImage(w, h, rgbBytes);
    }

    static void DrawObject(SKCanvas canvas, ShapeKind shape, Placement p, Style style)
    {
        using var path = ShapePath.Build(shape, p.Cx, p.Cy, p.Size, p.Rotation);
        using var paint = new SKPaint { IsAntialias = true, Style = SKPaintStyle.Fill, Color = new SKColor(style.Rgb.R, style.Rgb.G, style.Rgb.B) };
        canvas.DrawPath(path, paint);
        if (style.Texture == ObjectTexture.Solid) return;

        // The pattern lives in the object's own frame (so it rotates with it) and is clipped to the outline.
        canvas.Save();
        canvas.ClipPath(path, SKClipOperation.Intersect, antialias: true);
        canvas.Translate(p.Cx, p.Cy);
        canvas.RotateDegrees(p.Rotation + style.Angle);
        paint.Color = new SKColor(style.Second.R, style.Second.G, style.Second.B);
        float r = p.Size / 2, period = Math.Max(4f, style.Period * r), off = style.Phase * period;
        int n = (int)Math.Ceiling(r / period) + 1;
        for (int i = -n; i <= n; i++)
            switch (style.Texture)
            {
                case ObjectTexture.Stripes:
                    canvas.DrawRect(i * period + off, -r - period, period / 2, 2 * (r + period), paint);
                    break;
                case ObjectTexture.Dots:
                    for (int j = -n; j <= n; j++)
                        canvas.DrawCircle(i * period + off, j * period + off, style.DotFraction * period, paint);
                    break;
                case ObjectTexture.Checker:
                    for (int j = -n; j <= n; j++)
                        if (((i + j) & 1) == 0)
                            canvas.DrawRect(i * period + off, j * period + off, period, period, paint);
                    break;
            }
        canvas.Restore();
    }

    /// <summary>Linear gradient from <paramref name="a"/> at (x0, y0) to <paramref name="b"/> at (x1, y1), clamped beyond.</summary>
    static void FillGradient(SKBitmap bitmap, float x0, float y0, float x1, float y1, SKColor a, SKColor b)
    {
        Span<byte> px = bitmap.GetPixelSpan();
        int w = bitmap.Width, h = bitmap.Height, stride = bitmap.RowBytes;
        float dx = x1 - x0, dy = y1 - y0, len2 = Math.Max(dx * dx + dy * dy, 1e-3f);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                float t = Math.Clamp(((x + 0.5f - x0) * dx + (y + 0.5f - y0) * dy) / len2, 0f, 1f);
                int s = y * stride + 4 * x;
                px[s] = (byte)(a.Red + (b.Red - a.Red) * t + 0.5f);
                px[s + 1] = (byte)(a.Green + (b.Green - a.Green) * t + 0.5f);
                px[s + 2] = (byte)(a.Blue + (b.Blue - a.Blue) * t + 0.5f);
                px[s + 3] = 255;
            }
    }

    /// <summary>Adds the same uniform delta in [−amplitude, amplitude] to R, G and B (grey noise keeps hue).</summary>
    static void AddNoise(SKBitmap bitmap, int amplitude, uint state)
    {
        if (amplitude == 0) return;
        Span<byte> px = bitmap.GetPixelSpan();
        int w = bitmap.Width, h = bitmap.Height, stride = bitmap.RowBytes, span = 2 * amplitude + 1;
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                state ^= state << 13; state ^= state >> 17; state ^= state << 5; // xorshift32: cheap per-pixel noise
                int delta = (int)(((state >> 8) * (ulong)span) >> 24) - amplitude;
                int s = y * stride + 4 * x;
                for (int c = 0; c < 3; c++) px[s + c] = (byte)Math.Clamp(px[s + c] + delta, 0, 255);
            }
    }

    byte Jitter(Random rng, byte v) => (byte)Math.Clamp(v + rng.Next(-Options.ColourJitter, Options.ColourJitter + 1), 0, 255);

    static (byte, byte, byte) Scale((byte R, byte G, byte B) c, double f) => ((byte)(c.R * f), (byte)(c.G * f), (byte)(c.B * f));

    static (byte, byte, byte) Tint((byte R, byte G, byte B) c, double f) =>
        ((byte)(c.R + (255 - c.R) * f), (byte)(c.G + (255 - c.G) * f), (byte)(c.B + (255 - c.B) * f));

    static SKColor MutedColour(Random rng, double maxSaturation, double minValue, double maxValue) =>
        FromHsv(rng.NextDouble() * 360, rng.NextDouble() * maxSaturation, minValue + rng.NextDouble() * (maxValue - minValue));

    /// <summary>Grey or muted brown (hue 20–40°, saturation ≤ 0.35): clutter that no class colour resembles.</summary>
    static SKColor DistractorColour(Random rng) => rng.NextDouble() < 0.5
        ? FromHsv(0, rng.NextDouble() * 0.06, 0.2 + rng.NextDouble() * 0.6)
        : FromHsv(20 + rng.NextDouble() * 20, 0.15 + rng.NextDouble() * 0.2, 0.25 + rng.NextDouble() * 0.45);

    static SKColor FromHsv(double hue, double sat, double val)
    {
        double c = val * sat, hp = hue / 60 % 6, x = c * (1 - Math.Abs(hp % 2 - 1)), m = val - c;
        var (r, g, b) = (int)hp switch
        {
            0 => (c, x, 0.0), 1 => (x, c, 0.0), 2 => (0.0, c, x), 3 => (0.0, x, c), 4 => (x, 0.0, c), _ => (c, 0.0, x),
        };
        return new SKColor((byte)Math.Round(255 * (r + m)), (byte)Math.Round(255 * (g + m)), (byte)Math.Round(255 * (b + m)));
    }
}
