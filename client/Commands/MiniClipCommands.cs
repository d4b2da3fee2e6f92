using System.CommandLine;
using System.Globalization;
using MaskInversion.Core.Output;
using MaskInversion.Core.Pipeline;
using MaskInversion.Core.Referring;
using MaskInversion.Core.Training;
using Spectre.Console;

namespace MaskInversion.Client.Commands;

/// <summary><c>client train miniclip</c> and <c>client eval miniclip</c>: the project's own small CLIP.</summary>
public static class MiniClipCommands
{
    public static Command Train()
    {
        var train = new Command("train", "Train models.");
        var minutes = new Option<double>("--minutes") { Description = "Wall-clock budget: the cosine decay starts at 80 % of it and is sized to end with it.", DefaultValueFactory = _ => 40 };
        var steps = new Option<int?>("--steps") { Description = "Exact step count (overrides --minutes; reproduces a run)." };
        var decayStart = new Option<int?>("--decay-start") { Description = "With --steps: step where the cosine decay begins (default 80 %)." };
        var seed = new Option<int>("--seed") { Description = "Seed of the weight init and of the scene stream.", DefaultValueFactory = _ => 0 };
        var output = new Option<string>("--out") { Description = "Output folder for weights, config, vocabulary and loss curve.", DefaultValueFactory = _ => "miniclip-run" };
        var batch = new Option<int>("--batch") { Description = "Images (and captions) per step.", DefaultValueFactory = _ => 64 };
        var lr = new Option<double>("--lr") { Description = "Peak learning rate.", DefaultValueFactory = _ => 5e-4 };
        var width = new Option<int>("--width") { Description = "Image tower width.", DefaultValueFactory = _ => new MiniClipShape().VisionWidth };
        var layers = new Option<int>("--layers") { Description = "Image tower depth.", DefaultValueFactory = _ => new MiniClipShape().VisionLayers };
        var imageSize = new Option<int>("--image-size") { Description = "Input side in pixels (patch 8).", DefaultValueFactory = _ => new MiniClipShape().ImageSize };
        var sceneCaptions = new Option<double>("--scene-captions") { Description = "Probability of the whole-scene caption instead of one object's prompt.", DefaultValueFactory = _ => 0.5 };
        var threads = new Option<int>("--threads") { Description = "Torch threads (0 = library default).", DefaultValueFactory = _ => 0 };
        var pooled = new Option<double>("--pooled-loss-weight") { Description = "Weight of the contrastive term on the mean-pooled embedding LeGrad reads (0 = class token only).", DefaultValueFactory = _ => 0.0 };
        var dense = new Option<double>("--dense-loss-weight") { Description = "Weight of the multiple-instance term aligning last-block patch values with the caption's class prompts (0 = off; 1 = the bundled model's recipe).", DefaultValueFactory = _ => new TrainingOptions { OutputDirectory = "" }.DenseLossWeight };
        var cmd = new Command("miniclip", "Train MiniCLIP contrastively on generated scenes.")
        {
            minutes, steps, decayStart, seed, output, batch, lr, width, layers, imageSize, sceneCaptions, threads, pooled, dense,
        };
        cmd.SetAction(r =>
        {
            var result = MiniClipTrainer.Train(new TrainingOptions
            {
                OutputDirectory = r.GetValue(output)!,
                Minutes = r.GetValue(minutes),
                Steps = r.GetValue(steps),
                DecayStart = r.GetValue(decayStart),
                Seed = r.GetValue(seed),
                BatchSize = r.GetValue(batch),
                LearningRate = r.GetValue(lr),
                SceneCaptionProbability = r.GetValue(sceneCaptions),
                PooledLossWeight = r.GetValue(pooled),
                DenseLossWeight = r.GetValue(dense),
                Threads = r.GetValue(threads),
                Shape = new MiniClipShape { VisionWidth = r.GetValue(width), VisionLayers = r.GetValue(layers), ImageSize = r.GetValue(imageSize) },
                Progress = Console.Error,
            });
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"trained {result.Steps} steps in {result.Minutes:F1} min: final loss {result.FinalLoss:F3}, held-out zero-shot acc@1 {100 * result.HeldOutAccuracy:F1} % → {result.Directory}"));
            return 0;
        });
        train.Subcommands.Add(cmd);
        return train;
    }

    public static Command Eval()
    {
        var eval = new Command("eval", "Evaluate models.");
        var scenes = new Option<int>("--scenes") { Description = "Held-out scenes to evaluate (every object is one query mask).", DefaultValueFactory = _ => 200 };
        var minObjects = new Option<int>("--min-objects") { Description = "Fewest objects per scene (≥ 2: the global embedding cannot know which one a mask means).", DefaultValueFactory = _ => 2 };
        var maxObjects = new Option<int>("--max-objects") { Description = "Most objects per scene.", DefaultValueFactory = _ => 4 };
        var iterations = new Option<int>("--iterations") { Description = "MaskInversion steps K.", DefaultValueFactory = _ => 10 };
        var lr = new Option<double>("--lr") { Description = "MaskInversion learning rate.", DefaultValueFactory = _ => 0.1 };
        var seed = new Option<int>("--seed") { Description = "Held-out scene seed (training streams use small seeds).", DefaultValueFactory = _ => MiniClip.HeldOutSceneSeed };
        var model = new Option<string?>("--model-dir") { Description = "Folder with miniclip.safetensors, miniclip.json, vocab.json, merges.txt (default: the bundled model)." };
        var grid = new Option<int>("--grid-rows") { Description = "Rows of the explainability-map grid PNG.", DefaultValueFactory = _ => 6 };
        var output = new Option<string>("--out") { Description = "Output folder for metrics.json and maps.png.", DefaultValueFactory = _ => "miniclip-eval" };
        var imageSize = new Option<int>("--image-size") { Description = "Input side for every method (0 = the model's training size; the paper runs CLIP at twice its training size).", DefaultValueFactory = _ => 0 };
        var cmd = new Command("miniclip", "Region classification on held-out scenes: MaskInversion vs the global embedding, crops, visual prompts and mask ablations.")
        {
            scenes, minObjects, maxObjects, iterations, lr, seed, model, grid, output, imageSize,
        };
        cmd.SetAction(r =>
        {
            var options = new MiniClipEvalOptions
            {
                Scenes = r.GetValue(scenes), MinObjects = r.GetValue(minObjects), MaxObjects = r.GetValue(maxObjects),
                Iterations = r.GetValue(iterations), LearningRate = r.GetValue(lr), Seed = r.GetValue(seed), GridRows = r.GetValue(grid),
                ImageSize = r.GetValue(imageSize),
            };
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var report = MiniClipEvaluation.Run(options, r.GetValue(model),
                new Progress<int>(n => Console.Error.Write($"\rscene {n}/{options.Scenes}")));
            Console.Error.WriteLine();
            var outDir = Path.GetFullPath(r.GetValue(output)!);
            Directory.CreateDirectory(outDir);
            var classNames = MaskInversion.Core.Synthetic.SceneVocabulary.Default.ClassNames.ToArray();
            MetricsJson.Write(Path.Combine(outDir, "metrics.json"), $"miniclip_scenes_seed{options.Seed}_{options.MinObjects}to{options.MaxObjects}obj",
                MiniClip.ModelName, "bundled", report.Methods.Select(m => new MethodMetrics(m.Method.Name, m.Metrics, MeanDiceLoss: m.MeanDiceLoss)).ToList(), classNames);
            if (report.Samples.Count > 0) MiniClipEvaluation.WriteGrid(Path.Combine(outDir, "maps.png"), report.Samples);

            var table = new Table().AddColumns("method", "Acc@1", "Acc@5", "Acc@10", "mean per-class recall", "mean Dice loss");
            foreach (var m in report.Methods)
                table.AddRow(m.Method.Name, Pct(m.Metrics.Acc1), Pct(m.Metrics.Acc5), Pct(m.Metrics.Acc10), Pct(m.Metrics.MeanPerClassRecall),
                    m.MeanDiceLoss is { } d ? d.ToString("F3", CultureInfo.InvariantCulture) : "");
            table.Caption($"{report.Scenes} held-out scenes, {report.Masks} masks, {options.MinObjects}–{options.MaxObjects} objects, K = {options.Iterations}, {clock.Elapsed.TotalSeconds:F0} s");
            AnsiConsole.Write(table);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"class prompts' LeGrad maps on their own object (among the scene's): {100 * report.PromptMapLocalisation:F1} %"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"MaskInversion − global CLIP Acc@1 margin: {100 * report.Margin:F1} points → {outDir}"));
            return 0;
        });
        eval.Subcommands.Add(cmd);
        eval.Subcommands.Add(Referring());
        return eval;
    }

    /// <summary><c>client eval referring</c>: the synthetic referring world (ReferringWorld) on MiniCLIP.</summary>
    static Command Referring()
    {
        var defaults = new ReferringWorldOptions();
        var scenes = new Option<int>("--scenes") { Description = "Scenes (3–4 objects each, one expression per object).", DefaultValueFactory = _ => defaults.Scenes };
        var alpha = new Option<double>("--alpha") { Description = "MaskInversion's α (the paper's 5 for referring expressions).", DefaultValueFactory = _ => defaults.Alpha };
        var iterations = new Option<int>("--iterations") { Description = "MaskInversion steps K.", DefaultValueFactory = _ => defaults.Iterations };
        var lr = new Option<double>("--lr") { Description = "MaskInversion learning rate.", DefaultValueFactory = _ => defaults.LearningRate };
        var seed = new Option<int>("--seed") { Description = "Scene seed.", DefaultValueFactory = _ => defaults.Seed };
        var methods = new Option<string>("--methods") { Description = "Methods (see submit).", DefaultValueFactory = _ => "maskinversion,baselines" };
        var model = new Option<string?>("--model-dir") { Description = "MiniCLIP folder (default: the bundled model)." };
        var cmd = new Command("referring", "Referring-expression retrieval in the synthetic referring world: which of a scene's objects does \"a photo of a red star.\" name?")
        {
            scenes, alpha, iterations, lr, seed, methods, model,
        };
        cmd.SetAction(r =>
        {
            var o = new ReferringWorldOptions
            {
                Scenes = r.GetValue(scenes), Alpha = r.GetValue(alpha), Iterations = r.GetValue(iterations), LearningRate = r.GetValue(lr),
                Seed = r.GetValue(seed), Methods = RegionMethods.ParseList(r.GetValue(methods)!),
            };
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var metrics = ReferringWorldEvaluation.Run(o, r.GetValue(model), new Progress<int>(n => Console.Error.Write($"\rscene {n}/{o.Scenes}")));
            Console.Error.WriteLine();
            var table = new Table().AddColumns("method", "Acc@1", "Acc@5", "mIoU", "oIoU");
            foreach (var (method, m) in metrics) table.AddRow(method.Name, Pct(m.Acc1), Pct(m.Acc5), Pct(m.MIoU), Pct(m.OIoU));
            AnsiConsole.Write(table);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{o.Scenes} scenes, {metrics.Values.First().Expressions} expressions, α = {o.Alpha}, K = {o.Iterations}, lr {o.LearningRate}, {clock.Elapsed.TotalSeconds:F0} s"));
            return 0;
        });
        return cmd;
    }

    static string Pct(double v) => (100 * v).ToString("F1", CultureInfo.InvariantCulture);
}
