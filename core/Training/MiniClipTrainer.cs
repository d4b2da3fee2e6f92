using System.Diagnostics;
using System.Globalization;
using System.Runtime;
using System.Text.Json;
using MaskInversion.Core.Imaging;
using MaskInversion.Core.Inversion;
using MaskInversion.Core.Models;
using MaskInversion.Core.Synthetic;
using MaskInversion.Core.Text;
using MaskInversion.Core.Torch;
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
    /// <summary>With <see cref="Steps"/>: the step where the cosine decay starts (default 80 % of the steps).</summary>
    public int? DecayStart { get; init; }
    public int BatchSize { get; init; } = 64;
    public double LearningRate { get; init; } = 5e-4; // 2e-3 stalled at colour-only accuracy
    public double WeightDecay { get; init; } = 0.1;
    public int WarmupSteps { get; init; } = 60;
    /// <summary>Probability that an image is paired with its whole-scene caption rather than one object's prompt.</summary>
    public double SceneCaptionProbability { get; init; } = 0.5;
    /// <summary>Weight of a second contrastive term on the mean-pooled embedding proj(ln_post(mean_i x_i)) — the
    /// feature LeGrad's score reads (DESIGN.md §1) — beside the class-token one. Large CLIPs align the two spaces;
    /// a small model trained on the class token alone does not, and then a direction that moves the LeGrad map says
    /// little about the class. 0 trains the class token only.</summary>
    public double PooledLossWeight { get; init; } = 0;
    /// <summary>Weight of <see cref="DenseAlignmentLoss"/>: a multiple-instance contrastive term that asks each
    /// class named by the image's caption to be matched by some patch's last-block value feature — the feature whose
    /// dot product with a direction u is LeGrad's map. Supervision stays image-level (the caption's classes, no
    /// masks). 0 trains without it; 1 is the bundled model's recipe.</summary>
    public double DenseLossWeight { get; init; } = 1;
    /// <summary>Torch intra-op threads; 0 keeps the library default.</summary>
    public int Threads { get; init; } = 0;
    /// <summary>Held-out zero-shot check every this many steps (0: never).</summary>
    public int MonitorEvery { get; init; } = 100;
    public int MonitorScenes { get; init; } = 144;
    /// <summary>Save the weights every this many steps (0: only at the end), so a long run always leaves a model.</summary>
    public int CheckpointEvery { get; init; } = 500;
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
/// By default a second, dense term (<see cref="DenseAlignmentLoss"/>) aligns the last block's patch values with
/// the classes the caption names, which LeGrad's maps and so MaskInversion depend on.
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
        using var optimizer = new ParameterOptimizer(model.parameters(), decay, o.LearningRate, o.WeightDecay);

        var sceneOptions = MiniClip.Scenes(config.Vision.ImageSize);
        var preprocessor = new Preprocessor(config.Vision.ImageSize);
        var monitor = MonitorSet(config.Vision.ImageSize, o.MonitorScenes);
        var classNames = SceneVocabulary.Default.ClassNames.ToArray();
        using var batches = new TrainingBatches(o.Seed, sceneOptions, o.BatchSize, o.SceneCaptionProbability);
        // The class prompts the evaluation classifies with, for the dense term.
        using var classPrompts = o.DenseLossWeight > 0
            ? torch.tensor(tokenizer.TokenizeBatch(classNames.Select(c => PromptTemplates.Fill(PromptTemplates.Single[0], c)).ToArray(), config.Text.ContextLength))
            : null;

        var csv = new List<string> { "step,loss,lr,logit_scale,seconds,images_per_second,heldout_acc1,live_tensors" };
        var losses = new List<(int Step, double Loss)>();
        var accuracies = new List<(int Step, double Acc)>();
        var live = new List<long>();
        var clock = Stopwatch.StartNew();
        // Warmup–stable–decay schedule: constant peak after warmup, cosine to zero over the last stretch. In
        // time mode the decay starts once 80 % of the budget is spent and lasts the remaining 20 % at the speed
        // then measured, so a machine whose load changes still gets its whole budget; the two integers it picks
        // are printed and saved, and --steps/--decay-start replays the run exactly.
        int total = o.Steps ?? int.MaxValue;
        int? decayStart = o.Steps is { } fixedSteps ? o.DecayStart ?? (int)(0.8 * fixedSteps) : null;
        var recent = new Queue<double>();
        double lastAccuracy = double.NaN;
        double dataWait = 0; // seconds the trainer waited for scenes: rendering is the bottleneck when this grows

        for (int step = 0; step < total; step++)
        {
            double lr = LearningRate(step, o.WarmupSteps, o.LearningRate, decayStart, total);
            optimizer.LearningRate = lr;
            double stepStart = clock.Elapsed.TotalSeconds;
            var waitStart = clock.Elapsed;
            var batch = batches.Next();
            bool noGc = StartNoGcRegion();
            dataWait += (clock.Elapsed - waitStart).TotalSeconds;
            double loss, scale;
            using (var scope = torch.NewDisposeScope())
            {
                var pixels = Pixels(batch.Images, config.Vision.ImageSize);
                var tokens = torch.tensor(tokenizer.TokenizeBatch(batch.Captions, config.Text.ContextLength));
                Tensor tokensOut;
                Tensor? values = null;
                if (o.DenseLossWeight > 0)
                    (tokensOut, values) = model.visual.LastBlock.ForwardWithValues(model.visual.TokensBefore(pixels, model.visual.Layers - 1));
                else
                    tokensOut = model.visual.TokensBefore(pixels, model.visual.Layers);
                var image = nn.functional.normalize(model.visual.Head(tokensOut), p: 2, dim: -1);
                var text = nn.functional.normalize(model.EncodeText(tokens), p: 2, dim: -1);
                var positives = Positives(batch.ImageClasses, batch.CaptionClasses);
                var total_loss = ContrastiveLoss(model.logit_scale.exp(), image, text, positives);
                if (o.PooledLossWeight > 0)
                {
                    var pooled = nn.functional.normalize(model.visual.MeanPooledHead(tokensOut), p: 2, dim: -1);
                    using var weight = o.PooledLossWeight.ToScalar();
                    using var norm = (1 + o.PooledLossWeight).ToScalar();
                    total_loss = total_loss.Plus(weight * ContrastiveLoss(model.logit_scale.exp(), pooled, text, positives)) / norm;
                }
                if (values is not null)
                {
                    var classText = nn.functional.normalize(model.EncodeText(classPrompts!), p: 2, dim: -1);
                    using var weight = o.DenseLossWeight.ToScalar();
                    total_loss = total_loss.Plus(weight * DenseAlignmentLoss(model.visual, values, classText, Present(batch.ImageClasses, classNames.Length)));
                }
                model.zero_grad();
                total_loss.backward();
                optimizer.Step();
                using (torch.no_grad())
                using (var min = 0.0.ToScalar())
                using (var max = Math.Log(100).ToScalar())
                    model.logit_scale.clamp_(min, max);
                loss = total_loss.item<float>();
                scale = model.logit_scale.exp().item<float>();
            }
            if (noGc && GCSettings.LatencyMode == GCLatencyMode.NoGCRegion) GC.EndNoGCRegion();
            live.Add(torch.Tensor.TotalCount);
            losses.Add((step, loss));

            recent.Enqueue(clock.Elapsed.TotalSeconds - stepStart);
            if (recent.Count > 50) recent.Dequeue();
            if (o.Steps is null && decayStart is null && clock.Elapsed.TotalMinutes >= 0.8 * o.Minutes)
            {
                double perStep = recent.Average();
                decayStart = step + 1;
                total = decayStart.Value + Math.Max(1, (int)(0.2 * o.Minutes * 60 / perStep));
                o.Progress?.WriteLine($"\n{perStep:F2} s/step lately: decaying from step {decayStart} to {total} (replay with --steps {total} --decay-start {decayStart}).");
            }
            // The machine is shared: if it slows down during the decay, stop past 1.25× the budget rather than overrun.
            if (o.Steps is null && clock.Elapsed.TotalMinutes > 1.25 * o.Minutes && step + 1 < total)
            {
                o.Progress?.WriteLine($"\nStopping at step {step + 1} of {total}: past 1.25× the {o.Minutes} minute budget.");
                total = step + 1;
            }
            if (o.CheckpointEvery > 0 && (step + 1) % o.CheckpointEvery == 0) MiniClip.Save(model, output, output);
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
            double fraction = total != int.MaxValue ? (step + 1.0) / total : seconds / (60 * o.Minutes);
            double etaSeconds = total != int.MaxValue ? seconds / (step + 1) * (total - step - 1) : 60 * o.Minutes - seconds;
            o.Progress?.Write(ProgressLine(step + 1, total, fraction, etaSeconds, loss, lr, scale, rate, lastAccuracy, dataWait / seconds));
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
            warmup_steps = o.WarmupSteps, decay_start = decayStart, scene_caption_probability = o.SceneCaptionProbability, pooled_loss_weight = o.PooledLossWeight, dense_loss_weight = o.DenseLossWeight, final_loss = finalLoss,
            heldout_single_object_acc1 = lastAccuracy, threads = torch.get_num_threads(), shape = o.Shape,
        }, new JsonSerializerOptions { WriteIndented = true }));
        return new TrainingResult(steps, minutes, finalLoss, lastAccuracy, output, live);
    }

    /// <summary>Symmetric multi-positive InfoNCE: each softmax's target mass is spread evenly over its positives.</summary>
    static Tensor ContrastiveLoss(Tensor scale, Tensor image, Tensor text, Tensor positives)
    {
        var logits = scale * torch.matmul(image, text.t());
        var rowTargets = positives / positives.sum(1, keepdim: true);
        var columnTargets = positives / positives.sum(0, keepdim: true);
        var imageToText = (rowTargets * logits.log_softmax(1)).sum(1).mean().neg();
        var textToImage = (columnTargets * logits.log_softmax(0)).sum(0L).mean().neg();
        return torch.stack([imageToText, textToImage]).mean();
    }

    /// <summary>Logit scale of the dense term's class softmax (cosines in [−1, 1]).</summary>
    const double DenseLogitScale = 20;
    /// <summary>Temperature of the soft maximum over patches (0 would be the hard max, 1 the log-sum).</summary>
    const double PatchPoolTemperature = 0.1;
    // Rooted for the process (see Torch/Scalars).
    static readonly Scalar patchPoolTemperature = PatchPoolTemperature.ToScalar(), denseScale = (PatchPoolTemperature * DenseLogitScale).ToScalar(),
        minusInfinity = double.NegativeInfinity.ToScalar();

    /// <summary>
    /// Multiple-instance alignment of the last block's patch value features with the class prompts. LeGrad's map
    /// at patch j is a ReLU of u·G·W_o·v_j (DESIGN.md §2), so MaskInversion can only steer u toward a region's class
    /// if W_o·v_j, read through ln_post's scale and proj (the linear part of G), points at the class of the object
    /// under patch j. Per image, each present class's score is a soft maximum over patches of
    /// cos(f_j, t_c), f_j = proj(γ ⊙ centre(W_o v_j)), and must beat every absent class in a softmax; present classes
    /// do not compete with each other. Only image-level labels are used: the classes a whole-scene caption names.
    /// </summary>
    public static Tensor DenseAlignmentLoss(VisionTransformer visual, Tensor values, Tensor classText, Tensor present)
    {
        using var scope = torch.NewDisposeScope();
        var cosines = torch.matmul(PatchValueFeatures(visual, values), classText.t()); // (B, n−1, C)
        var logits = (cosines / patchPoolTemperature).logsumexp(1) * denseScale; // (B, C)
        var absent = logits.masked_fill(present, minusInfinity).logsumexp(1, keepdim: true);
        var perPair = torch.logaddexp(logits, absent) - logits; // −log p(c | {c} ∪ absent)
        return (perPair.masked_select(present).mean()).MoveToOuterDisposeScope();
    }

    /// <summary>Unit features (B, n−1, E) of the patch tokens' last-block values: proj(γ_post ⊙ centre(W_o v_j)), the
    /// linear part of ∂ẑ/∂A_{·,j} (the out-projection's bias does not depend on A, and LN's 1/σ only scales).</summary>
    public static Tensor PatchValueFeatures(VisionTransformer visual, Tensor values)
    {
        using var scope = torch.NewDisposeScope();
        var (b, n) = (values.shape[0], values.shape[2]);
        var mixed = nn.functional.linear(values.transpose(1, 2).reshape(b, n, -1), visual.LastBlock.attn.out_proj.weight);
        var patches = mixed.narrow(1, 1, n - 1);
        var centred = patches - patches.mean([-1], keepdim: true);
        return nn.functional.normalize(torch.matmul(centred * visual.ln_post.weight, visual.proj), p: 2, dim: -1).MoveToOuterDisposeScope();
    }

    /// <summary>(B, C) bool: class c is in image b.</summary>
    public static Tensor Present(ulong[] imageClasses, int classes)
    {
        var data = new bool[imageClasses.Length * classes];
        for (int i = 0; i < imageClasses.Length; i++)
            for (int c = 0; c < classes; c++)
                data[i * classes + c] = (imageClasses[i] >> c & 1) == 1;
        return torch.tensor(data).reshape(imageClasses.Length, classes);
    }

    /// <summary>
    /// No garbage collection during a step's tensor work. TorchSharp passes implicit Scalars (every <c>a + b</c>
    /// carries alpha = 1) to native calls without keeping them alive, so a GC in the middle of a call can
    /// finalize one while libtorch reads it: two Release-build runs died after 200–500 steps with "Unknown scalar
    /// type" / "Expected false to be true" from c10::Scalar. Collecting only between steps means everything a
    /// finalizer frees belongs to calls that have already returned.
    /// </summary>
    /// <summary>torch.optim.AdamW's update (β = 0.9, 0.98, ε = 1e-6; decay only on <paramref name="decayed"/>) as one core
    /// <see cref="AdamW"/> per parameter: TorchSharp's optimizer hands libtorch implicit Scalars that the finalizer can
    /// free mid-call (see Torch/Scalars).</summary>
    sealed class ParameterOptimizer : IDisposable
    {
        readonly List<(TorchSharp.Modules.Parameter Parameter, AdamW Optimizer)> parts;

        public ParameterOptimizer(IEnumerable<TorchSharp.Modules.Parameter> parameters, IReadOnlyCollection<TorchSharp.Modules.Parameter> decayed,
            double learningRate, double weightDecay) =>
            parts = parameters.Select(p => (p, new AdamW(p, learningRate, beta1: 0.9, beta2: 0.98, eps: 1e-6,
                weightDecay: decayed.Contains(p) ? weightDecay : 0))).ToList();

        public double LearningRate { set { foreach (var (_, o) in parts) o.LearningRate = value; } }

        public void Step()
        {
            foreach (var (parameter, optimizer) in parts)
            {
                using var grad = parameter.grad; // a fresh alias per read: disposed here
                if (grad is not null) optimizer.Step(parameter, grad);
            }
        }

        public void Dispose()
        {
            foreach (var (_, o) in parts) o.Dispose();
        }
    }

    static bool StartNoGcRegion()
    {
        try { return GC.TryStartNoGCRegion(192L << 20); }
        catch (ArgumentOutOfRangeException) { return false; }
        catch (InvalidOperationException) { return false; } // already in a region
    }

    /// <summary>Linear warmup to <paramref name="peak"/>, constant, then cosine decay to zero from
    /// <paramref name="decayStart"/> to <paramref name="total"/> (constant while the decay start is unknown).</summary>
    public static double LearningRate(int step, int warmup, double peak, int? decayStart, int total)
    {
        if (step < warmup) return peak * (step + 1) / warmup;
        if (decayStart is not { } d || step < d || total <= d) return peak;
        double progress = Math.Min(1.0, (double)(step - d) / (total - d));
        return 0.5 * peak * (1 + Math.Cos(Math.PI * progress));
    }

    /// <summary>Scenes are rendered at the input size, so preprocessing is only OpenAI's mean/std: done here in one
    /// pass into one tensor. (Per-image tensor ops with implicit scalar arguments crashed a Release-build run once
    /// with "Unknown scalar type"; this path creates no Scalars at all.)</summary>
    static Tensor Pixels(IReadOnlyList<RgbImage> images, int size)
    {
        var data = new float[images.Count * 3 * size * size];
        var mean = Preprocessor.OpenAIMean;
        var std = Preprocessor.OpenAIStd;
        int plane = size * size;
        for (int b = 0; b < images.Count; b++)
        {
            var img = images[b];
            if (img.Width != size || img.Height != size) throw new ArgumentException($"Training images must be {size}×{size}, got {img.Width}×{img.Height}.");
            for (int c = 0; c < 3; c++)
            {
                int offset = (b * 3 + c) * plane;
                for (int i = 0; i < plane; i++) data[offset + i] = (img.Pixels[3 * i + c] / 255f - mean[c]) / std[c];
            }
        }
        return torch.tensor(data, dtype: ScalarType.Float32).reshape(images.Count, 3, size, size);
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
        var image = nn.functional.normalize(model.EncodeImage(Pixels(scenes.Select(s => s.Image).ToList(), preprocessor.ImageSize)), p: 2, dim: -1);
        var predicted = torch.matmul(image, classes.t()).argmax(1).data<long>().ToArray();
        return (double)scenes.Where((s, i) => s.Objects[0].ClassIndex == predicted[i]).Count() / scenes.Length;
    }

    static string ProgressLine(int step, int total, double fraction, double etaSeconds, double loss, double lr, double scale, double rate, double acc, double waitFraction)
    {
        const int width = 24;
        int filled = (int)Math.Round(width * Math.Clamp(fraction, 0, 1));
        var bar = new string('#', filled) + new string('.', width - filled);
        var eta = TimeSpan.FromSeconds(Math.Max(0, etaSeconds)).ToString(@"mm\:ss", CultureInfo.InvariantCulture);
        var totalText = total == int.MaxValue ? "?" : total.ToString(CultureInfo.InvariantCulture);
        var accText = double.IsNaN(acc) ? "  -  " : $"{100 * acc,5:F1}";
        return string.Create(CultureInfo.InvariantCulture,
            $"\r[{bar}] step {step}/{totalText} loss {loss:F3} lr {lr:E1} T {scale:F1} {rate:F0} img/s (data wait {100 * waitFraction:F0}%) zs@1 {accText} ETA {eta} ");
    }

    static string F(double v) => double.IsNaN(v) ? "" : v.ToString("G6", CultureInfo.InvariantCulture);
}
