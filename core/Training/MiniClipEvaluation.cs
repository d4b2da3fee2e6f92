using MaskInversion.Core.Imaging;
using MaskInversion.Core.Inversion;
using MaskInversion.Core.Metrics;
using MaskInversion.Core.Pipeline;
using MaskInversion.Core.Synthetic;
using SkiaSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace MaskInversion.Core.Training;

public sealed record MiniClipEvalOptions
{
    public int Scenes { get; init; } = 200;
    public int MinObjects { get; init; } = 2;
    public int MaxObjects { get; init; } = 4;
    /// <summary>Scene generator seed; the default is one no training run uses.</summary>
    public int Seed { get; init; } = MiniClip.HeldOutSceneSeed;
    public int Iterations { get; init; } = 10;
    public double LearningRate { get; init; } = new InversionOptions().LearningRate;
    public IReadOnlyList<RegionMethod> Methods { get; init; } = RegionMethods.All;
    /// <summary>Masks kept for the map grid (one per scene, from the first scenes).</summary>
    public int GridRows { get; init; } = 0;
    /// <summary>Input side in pixels for every method; 0 = the model's training size. The paper runs a 224-px CLIP at 448
    /// (positional embedding resampled), so twice the training size is its protocol in miniature.</summary>
    public int ImageSize { get; init; } = 0;
}

public sealed record MethodScore(RegionMethod Method, RetrievalMetrics Metrics, double? MeanDiceLoss);

/// <summary>One grid row: the scene, the query mask, LeGrad maps (S×S) of the image's own embedding (LET₀) and of
/// the inverted token, and the top-1 classes of MaskInversion and of the global embedding.</summary>
public sealed record GridSample(RgbImage Image, BinaryMask Mask, float[] InitialMap, float[] FinalMap, int MapSize,
    string TrueClass, string MaskInversionTop1, string ClipTop1, double InitialDice, double FinalDice);

/// <param name="PromptMapLocalisation">Fraction of objects whose class prompt's LeGrad map fits that object's mask
/// best (soft Dice) among the scene's objects: whether the model's maps know the classes at all, which MaskInversion
/// relies on to steer its token toward a region's class. Chance is one over the objects per scene (≈ 1/3).</param>
public sealed record MiniClipEvalReport(IReadOnlyList<MethodScore> Methods, IReadOnlyList<GridSample> Samples, int Scenes, long Masks,
    double PromptMapLocalisation)
{
    public double Acc1(RegionMethod method) => Methods.First(m => m.Method == method).Metrics.Acc1;
    /// <summary>The paper's claim in one number: MaskInversion's Acc@1 minus the global embedding's.</summary>
    public double Margin => Acc1(RegionMethod.MaskInversion) - Acc1(RegionMethod.Clip);
}

/// <summary>
/// Region classification with MiniCLIP on held-out generated scenes (≥ 2 objects, so the global embedding
/// cannot know which object a mask means): every object's exact mask is classified among the 36 class prompts
/// by MaskInversion, its mask ablations and the paper's baselines, through the same <see cref="RegionEngine"/>
/// the cluster runs.
/// </summary>
public static class MiniClipEvaluation
{
    /// <summary>Loads the bundled model (or <paramref name="directory"/>'s), evaluates, and releases it.</summary>
    public static MiniClipEvalReport Run(MiniClipEvalOptions o, string? directory = null, IProgress<int>? progress = null)
    {
        if (o.Scenes < 1) throw new ArgumentOutOfRangeException(nameof(o), "At least one scene is needed.");
        var bundle = MiniClip.LoadBundled(directory);
        var settings = new EngineSettings
        {
            ImageSize = o.ImageSize > 0 ? o.ImageSize : bundle.ImageSize,
            ClassNames = bundle.ClassNames,
            Templates = "single",
            TopK = 10,
            Inversion = new InversionOptions { Iterations = o.Iterations, LearningRate = o.LearningRate },
        };
        using var engine = new RegionEngine(bundle.Model, bundle.Tokenizer, settings); // owns the model from here
        var generator = new SceneGenerator(o.Seed, MiniClip.Scenes(bundle.ImageSize, o.MinObjects, o.MaxObjects));
        var accumulators = o.Methods.ToDictionary(m => m, _ => new RetrievalAccumulator());
        var dice = o.Methods.Where(m => m.IsInversion).ToDictionary(m => m, _ => new List<double>());
        var samples = new List<GridSample>();
        int promptMapHits = 0, objects = 0;
        var methods = o.Methods.Contains(RegionMethod.Clip) ? o.Methods : [.. o.Methods, RegionMethod.Clip];

        for (int s = 0; s < o.Scenes; s++)
        {
            var scene = generator.Generate(s);
            var imageId = SceneSeed.ImageId(o.Seed, s);
            using var prepared = engine.Prepare(imageId, scene.Image);
            var masks = scene.Objects.Select((obj, k) => new MaskInput(k.ToString(System.Globalization.CultureInfo.InvariantCulture), obj.Mask)).ToList();
            var results = engine.Evaluate(prepared, masks, methods);
            foreach (var r in results)
            {
                if (!accumulators.TryGetValue(r.Method, out var acc)) continue;
                acc.Add(imageId, r.MaskId, scene.Objects[int.Parse(r.MaskId, System.Globalization.CultureInfo.InvariantCulture)].ClassIndex, r.TopClasses);
                if (r.DiceLoss is { } d && dice.TryGetValue(r.Method, out var list)) list.Add(d);
            }
            promptMapHits += PromptMapHits(engine, prepared, scene);
            objects += scene.Objects.Count;
            if (samples.Count < o.GridRows)
            {
                int k = s % scene.Objects.Count;
                string Top1(RegionMethod m) => results.First(r => r.Method == m && r.MaskId == masks[k].MaskId).TopClasses is [var c, ..] ? bundle.ClassNames[c] : "?";
                samples.Add(Sample(engine, prepared, scene, k, settings.Inversion, Top1(RegionMethod.MaskInversion), Top1(RegionMethod.Clip)));
            }
            progress?.Report(s + 1);
        }
        var scores = o.Methods.Select(m => new MethodScore(m, accumulators[m].Compute(),
            dice.TryGetValue(m, out var l) && l.Count > 0 ? l.Average() : null)).ToList();
        return new MiniClipEvalReport(scores, samples, o.Scenes, accumulators.Values.First().MaskCount, (double)promptMapHits / objects);
    }

    /// <summary>Objects whose class prompt's LeGrad map has its lowest Dice loss on a mask of that class.</summary>
    static int PromptMapHits(RegionEngine engine, PreparedImage prepared, Scene scene)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var classes = engine.Classifier!.ClassEmbeddings;
        var index = torch.tensor(scene.Objects.Select(obj => (long)obj.ClassIndex).ToArray(), device: classes.device);
        var maps = engine.Inverter.Maps(prepared.Features, classes.index_select(0, index).to(prepared.Features.Embedding.dtype), InversionPath.Implicit, createGraph: false);
        var masks = torch.stack(scene.Objects.Select(obj => MaskLoader.ToTensor(obj.Mask)).ToList()).to(maps.dtype, maps.device);
        int hits = 0;
        for (int k = 0; k < scene.Objects.Count; k++)
        {
            var losses = DiceLoss.Dice(DiceLoss.ResizeToMasks(maps[k].unsqueeze(0), masks).expand(masks.shape[0], -1, -1), masks);
            int best = (int)losses.argmin().item<long>();
            if (scene.Objects[best].ClassIndex == scene.Objects[k].ClassIndex) hits++;
        }
        return hits;
    }

    /// <summary>Maps of LET₀ (zero inversion steps) and of the K-step token for one object's mask.</summary>
    static GridSample Sample(RegionEngine engine, PreparedImage prepared, Scene scene, int k, InversionOptions inversion, string miTop1, string clipTop1)
    {
        using var scope = torch.NewDisposeScope();
        int size = engine.Preprocessor.ImageSize;
        var target = MaskLoader.ToTensor(scene.Objects[k].Mask).unsqueeze(0);
        using var initial = engine.Inverter.Invert(prepared.Features, target, inversion with { Iterations = 0, ReturnMaps = true });
        using var final = engine.Inverter.Invert(prepared.Features, target, inversion with { ReturnMaps = true });
        static float[] Flat(Tensor maps) => maps.detach().to(ScalarType.Float32).contiguous().data<float>().ToArray();
        return new GridSample(scene.Image, scene.Objects[k].Mask, Flat(initial.Maps!), Flat(final.Maps!), size,
            scene.Objects[k].ClassName, miTop1, clipTop1, 1 - initial.FinalDice.item<float>(), 1 - final.FinalDice.item<float>());
    }

    /// <summary>PNG grid, one row per sample: image, mask, LeGrad map of LET₀, LeGrad map after inversion
    /// (maps blended over the image in the jet colour map), with the classes and Dice written above.</summary>
    public static void WriteGrid(string path, IReadOnlyList<GridSample> samples, int cell = 192)
    {
        if (samples.Count == 0) throw new ArgumentException("No samples to draw.", nameof(samples));
        const int gap = 6, label = 34, header = 22;
        int width = 4 * cell + 5 * gap, height = header + samples.Count * (cell + label + gap) + gap;
        using var bitmap = new SKBitmap(width, height);
        using var canvas = new SKCanvas(bitmap);
        canvas.Clear(SKColors.White);
        using var font = new SKFont(SKTypeface.Default, 13);
        using var ink = new SKPaint { Color = SKColors.Black, IsAntialias = true };
        string[] titles = ["image", "query mask", "LeGrad map of LET0", "map after MaskInversion"];
        for (int c = 0; c < 4; c++) canvas.DrawText(titles[c], gap + c * (cell + gap), 16, SKTextAlign.Left, font, ink);
        var sampling = new SKSamplingOptions(SKFilterMode.Nearest);
        for (int r = 0; r < samples.Count; r++)
        {
            var s = samples[r];
            float y = header + r * (cell + label + gap);
            canvas.DrawText($"true: {s.TrueClass}   MaskInversion: {s.MaskInversionTop1}   global CLIP: {s.ClipTop1}", gap, y + 14, SKTextAlign.Left, font, ink);
            canvas.DrawText($"soft Dice of map vs mask: LET0 {s.InitialDice:F2} → inverted {s.FinalDice:F2}", gap, y + 30, SKTextAlign.Left, font, ink);
            byte[][] tiles =
            [
                PngWriter.Encode(s.Image), PngWriter.Encode(s.Mask),
                PngWriter.EncodeHeatMap(s.InitialMap, s.MapSize, s.MapSize, s.Image, 0.6f),
                PngWriter.EncodeHeatMap(s.FinalMap, s.MapSize, s.MapSize, s.Image, 0.6f),
            ];
            for (int c = 0; c < tiles.Length; c++)
            {
                using var tile = SKImage.FromEncodedData(tiles[c]);
                canvas.DrawImage(tile, SKRect.Create(gap + c * (cell + gap), y + label, cell, cell), sampling);
            }
        }
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        File.WriteAllBytes(path, data.ToArray());
    }
}
