using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using MaskInversion.Core.Imaging;
using MaskInversion.Core.Models;
using MaskInversion.Core.Synthetic;
using MaskInversion.Core.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace MaskInversion.Core.Training;

public sealed record TrainingOptions
{
    public required string OutputDirectory { get; init; }
    public int Seed { get; init; } = 0;
    /// <summary>Wall-clock budget; the step count is fixed from the measured speed early on (see <see cref="Steps"/>).</summary>
    public double Minutes { get; init; } = 40;
    /// <summary>Exact number of steps; when set, <see cref="Minutes"/> is ignored and a rerun reproduces the run.</summary>
    public int? Steps { get; init; }
    public int BatchSize { get; init; } = 128;
    public double LearningRate { get; init; } = 1e-3;
    public double WeightDecay { get; init; } = 0.1;
    public int WarmupSteps { get; init; } = 60;
    /// <summary>Probability that an image is paired with its whole-scene caption rather than one object's prompt.</summary>
    public double SceneCaptionProbability { get; init; } = 0.5;
    /// <summary>Torch intra-op threads; 0 keeps the library default.</summary>
    public int Threads { get; init; } = 0;
    /// <summary>Held-out zero-shot check every this many steps (0: never).</summary>
    public int MonitorEvery { get; init; } = 100;
    public int MonitorScenes { get; init; } = 144;
    public MiniClipShape Shape { get; init; } = new();
    /// <summary>Progress bar and messages; null is silent.</summary>
    public TextWriter? Progress { get; init; }
}

public sealed record TrainingResult(int Steps, double Minutes, double FinalLoss, double HeldOutAccuracy, string Directory,
    IReadOnlyList<long> LiveTensorsAfterStep);

/// <summary>
/// CLIP's contrastive training of a fresh <see cref="MiniClip"/> on an endless stream of generated scenes:
/// symmetric InfoNCE with a learnable temperature (logit_scale clamped at ln 100 as OpenCLIP does), AdamW
/// with decoupled weight decay on matrices only, linear warmup then cosine decay. Because one caption may be
/// true of several images in a batch ("a photo of a red circle." fits every image holding a red circle), the
/// targets are multi-positive: image i and caption j match when every class the caption names is in image i,
/// and each softmax's target mass is spread evenly over its positives (plain CLIP would push true pairs apart).
/// </summary>
public static class MiniClipTrainer
{
    public static TrainingResult Train(TrainingOptions o)
    {
        if (o.BatchSize < 2) throw new ArgumentOutOfRangeException(nameof(o), "Contrastive training needs a batch of at least 2.");
        if (o.Threads > 0) torch.set_num_threads(o.Threads);
        var output = Path.GetFullPath(o.OutputDirectory);
        Directory.CreateDirectory(output);
        var tokenizer = VocabularyBuilder.Write(output);
        var config = MiniClip.Config(tokenizer.VocabSize, o.Shape);

        torch.random.manual_seed(o.Seed);
        using var model = new ClipModel(config);
        model.train();
        var decay = model.named_parameters().Where(p => p.parameter.dim() >= 2 && p.name != "positional_embedding" && !p.name.EndsWith("positional_embedding") && !p.name.Contains("token_embedding")).Select(p => p.parameter).ToList();
        var noDecay = model.parameters().Except(decay).ToList();
        using var optimizer = torch.optim.AdamW(
            [new TorchSharp.Modules.AdamW.ParamGroup(decay, new TorchSharp.Modules.AdamW.Options { weight_decay = o.WeightDecay }),
             new TorchSharp.Modules.AdamW.ParamGroup(noDecay, new TorchSharp.Modules.AdamW.Options { weight_decay = 0 })],
            lr: o.LearningRate, beta1: 0.9, beta2: 0.98, eps: 1e-6);

        var sceneOptions = MiniClip.Scenes(config.Vision.ImageSize);
        var preprocessor = new Preprocessor(config.Vision.ImageSize);
        var monitor = MonitorSet(config.Vision.ImageSize, o.MonitorScenes);
        var classNames = SceneVocabulary.Default.ClassNames.ToArray();
        using var batches = new TrainingBatches(o.Seed, sceneOptions, o.BatchSize, o.SceneCaptionProbability);

        var csv = new List<string> { "step,loss,lr,logit_scale,seconds,images_per_second,heldout_acc1,live_tensors" };
        var losses = new List<(int Step, double Loss)>();
        var accuracies = new List<(int Step, double Acc)>();
        var live = new List<long>();
        var clock = Stopwatch.StartNew();
        int total = o.Steps ?? int.MaxValue;
        const int calibrationSteps = 20;
        double lastAccuracy = double.NaN;
        double dataWait = 0; // seconds the trainer waited for scenes: rendering is the bottleneck when this grows

        for (int step = 0; step < total; step++)
        {
            double lr = LearningRate(step, total == int.MaxValue ? null : total, o.WarmupSteps, o.LearningRate);
            foreach (var group in optimizer.ParamGroups) group.LearningRate = lr;
            var waitStart = clock.Elapsed;
            var batch = batches.Next();
            dataWait += (clock.Elapsed - waitStart).TotalSeconds;
            double loss, scale;
            using (var scope = torch.NewDisposeScope())
            {
                var pixels = preprocessor.ToPixelsBatch(batch.Images);
                var tokens = torch.tensor(tokenizer.TokenizeBatch(batch.Captions, config.Text.ContextLength));
                var image = nn.functional.normalize(model.EncodeImage(pixels), p: 2, dim: -1);
                var text = nn.functional.normalize(model.EncodeText(tokens), p: 2, dim: -1);
                var logits = model.logit_scale.exp() * torch.matmul(image, text.t());
                var positives = Positives(batch.ImageClasses, batch.CaptionClasses);
                var rowTargets = positives / positives.sum(1, keepdim: true);
                var columnTargets = positives / positives.sum(0, keepdim: true);
                var rowLogProbs = logits.log_softmax(1);
                var columnLogProbs = logits.log_softmax(0);
                var imageToText = (rowTargets * rowLogProbs).sum(1).mean().neg();
                var textToImage = (columnTargets * columnLogProbs).sum(0L).mean().neg();
                var total_loss = (imageToText + textToImage) / 2;
                optimizer.zero_grad();
                total_loss.backward();
                optimizer.step();
                using (torch.no_grad()) model.logit_scale.clamp_(0, Math.Log(100));
                loss = total_loss.item<float>();
                scale = model.logit_scale.exp().item<float>();
            }
            live.Add(torch.Tensor.TotalCount);
            losses.Add((step, loss));

            if (o.Steps is null && step + 1 == calibrationSteps)
            {
                // Fix the schedule's length from the measured speed (with slack for monitoring and other load).
                double perStep = clock.Elapsed.TotalSeconds / calibrationSteps;
                total = Math.Max(calibrationSteps + 1, (int)(0.92 * o.Minutes * 60 / perStep));
                o.Progress?.WriteLine($"\n{perStep:F2} s/step measured: training for {total} steps (rerun with --steps {total} to reproduce).");
            }

            bool last = step + 1 == total;
            if (o.MonitorEvery > 0 && ((step + 1) % o.MonitorEvery == 0 || last))
            {
                lastAccuracy = HeldOutAccuracy(model, tokenizer, preprocessor, monitor, classNames);
                accuracies.Add((step + 1, lastAccuracy));
                model.train();
            }
            double seconds = clock.Elapsed.TotalSeconds;
            double rate = (step + 1) * o.BatchSize / seconds;
            csv.Add(string.Join(',', (step + 1).ToString(CultureInfo.InvariantCulture), F(loss), F(lr), F(scale), F(seconds), F(rate),
                accuracies.Count > 0 && accuracies[^1].Step == step + 1 ? F(lastAccuracy) : "", live[^1].ToString(CultureInfo.InvariantCulture)));
            o.Progress?.Write(ProgressLine(step + 1, total, loss, lr, scale, rate, seconds, lastAccuracy, dataWait / seconds));
        }
        o.Progress?.WriteLine();
        double minutes = clock.Elapsed.TotalMinutes;
        int steps = losses.Count;
        double finalLoss = losses.Skip(Math.Max(0, steps - 20)).Average(l => l.Loss);

        model.eval();
        MiniClip.Save(model, output, output);
        File.WriteAllLines(Path.Combine(output, "loss-curve.csv"), csv);
        LossCurvePlot.Save(Path.Combine(output, "loss-curve.png"), losses, accuracies);
        File.WriteAllText(Path.Combine(output, "training.json"), JsonSerializer.Serialize(new
        {
            seed = o.Seed, steps, minutes, batch_size = o.BatchSize, learning_rate = o.LearningRate, weight_decay = o.WeightDecay,
            warmup_steps = o.WarmupSteps, scene_caption_probability = o.SceneCaptionProbability, final_loss = finalLoss,
            heldout_single_object_acc1 = lastAccuracy, threads = torch.get_num_threads(), shape = o.Shape,
        }, new JsonSerializerOptions { WriteIndented = true }));
        return new TrainingResult(steps, minutes, finalLoss, lastAccuracy, output, live);
    }

    /// <summary>Linear warmup to <paramref name="peak"/>, then cosine decay to zero at <paramref name="total"/> (constant while unknown).</summary>
    public static double LearningRate(int step, int? total, int warmup, double peak)
    {
        if (step < warmup) return peak * (step + 1) / warmup;
        if (total is not { } t || t <= warmup) return peak;
        double progress = Math.Min(1.0, (double)(step - warmup) / (t - warmup));
        return 0.5 * peak * (1 + Math.Cos(Math.PI * progress));
    }

    /// <summary>(B, B) float: 1 where caption j names only classes present in image i.</summary>
    static Tensor Positives(ulong[] imageClasses, ulong[] captionClasses)
    {
        int b = imageClasses.Length;
        var data = new float[b * b];
        for (int i = 0; i < b; i++)
            for (int j = 0; j < b; j++)
                data[i * b + j] = (captionClasses[j] & ~imageClasses[i]) == 0 ? 1f : 0f;
        return torch.tensor(data, dtype: ScalarType.Float32).reshape(b, b);
    }

    /// <summary>Held-out single-object scenes (a seed training never uses): the zero-shot accuracy the run is watched by.</summary>
    static Scene[] MonitorSet(int imageSize, int count) =>
        count <= 0 ? [] : new SceneGenerator(MiniClip.HeldOutSceneSeed + 1, MiniClip.Scenes(imageSize, 1, 1)).Generate(0, count);

    static double HeldOutAccuracy(ClipModel model, ClipTokenizer tokenizer, Preprocessor preprocessor, Scene[] scenes, string[] classNames)
    {
        if (scenes.Length == 0) return double.NaN;
        model.eval();
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var classes = ZeroShotClassifier.BuildClassEmbeddings(model, tokenizer, classNames, PromptTemplates.Single);
        var image = nn.functional.normalize(model.EncodeImage(preprocessor.ToPixelsBatch(scenes.Select(s => s.Image).ToList())), p: 2, dim: -1);
        var predicted = torch.matmul(image, classes.t()).argmax(1).data<long>().ToArray();
        return (double)scenes.Where((s, i) => s.Objects[0].ClassIndex == predicted[i]).Count() / scenes.Length;
    }

    static string ProgressLine(int step, int total, double loss, double lr, double scale, double rate, double seconds, double acc, double waitFraction)
    {
        bool known = total != int.MaxValue;
        const int width = 24;
        int filled = known ? (int)Math.Round(width * (double)step / total) : 0;
        var bar = known ? new string('#', filled) + new string('.', width - filled) : new string('?', width);
        var eta = known ? TimeSpan.FromSeconds(seconds / step * (total - step)).ToString(@"mm\:ss", CultureInfo.InvariantCulture) : "--:--";
        var accText = double.IsNaN(acc) ? "  -  " : $"{100 * acc,5:F1}";
        return string.Create(CultureInfo.InvariantCulture,
            $"\r[{bar}] step {step}/{(known ? total.ToString(CultureInfo.InvariantCulture) : "?")} loss {loss:F3} lr {lr:E1} T {scale:F1} {rate:F0} img/s (data wait {100 * waitFraction:F0}%) zs@1 {accText} ETA {eta} ");
    }

    static string F(double v) => double.IsNaN(v) ? "" : v.ToString("G6", CultureInfo.InvariantCulture);
}
