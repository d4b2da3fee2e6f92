using System.CommandLine;
using MaskInversion.Core.Datasets;
using MaskInversion.Core.Pipeline;
using MaskInversion.Core.Synthetic;
using MaskInversion.Core.Training;
using MaskInversion.Grains;
using MaskInversion.Grains.Demo;
using Spectre.Console;

namespace MaskInversion.Client.Commands;

/// <summary>
/// <c>client demo</c>: one command, no cluster, no network, no GPU. Hosts a silo in this process, writes (or reuses)
/// a small OpenImages-format dataset, runs MaskInversion and the baselines over it and prints the metrics.
/// </summary>
public static class DemoCommand
{
    /// <summary>A seeded random tiny CLIP (the cluster benchmark's model, and the demo's fallback when the bundled
    /// MiniCLIP is missing).</summary>
    public static TinyModelFiles WriteDefaultModel(string folder) =>
        TinyModelFiles.Write(Path.Combine(folder, "model"), SyntheticDataset.Classes.Select(c => c.Name), imageSize: 64, patch: 8, width: 64, layers: 2, embed: 32);

    static int ClipConfigSize(string configPath) => MaskInversion.Core.Models.ClipConfig.FromFile(configPath).Vision.ImageSize;

    /// <summary>Writes the dataset unless the folder already holds one with the same shape.</summary>
    public static SyntheticDataset.Info EnsureDataset(string folder, int images, int masksPerImage)
    {
        var marker = Path.Combine(folder, $"generated-{images}x{masksPerImage}.txt");
        if (File.Exists(marker))
            return new SyntheticDataset.Info(Path.GetFullPath(folder), "validation", images, images * masksPerImage, null, null);
        if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        var info = SyntheticDataset.Write(folder, images, masksPerImage, seed: 1);
        File.WriteAllText(marker, "Synthetic OpenImages-format dataset written by `client demo`.\n");
        return info;
    }

    /// <summary>Held-out MiniCLIP scenes (2–4 objects, the generator seed training never used) in OpenImages layout,
    /// unless the folder already holds them.</summary>
    public static (string Root, string Split, int Images, int Masks) EnsureSceneDataset(string folder, int images, int imageSize)
    {
        var marker = Path.Combine(folder, $"scenes-{images}-{imageSize}.txt");
        if (File.Exists(marker))
        {
            var lines = File.ReadAllLines(marker);
            return (Path.GetFullPath(folder), "validation", images, int.Parse(lines[0], System.Globalization.CultureInfo.InvariantCulture));
        }
        if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        var summary = SceneDataset.WriteOpenImages(folder, "validation", images, MiniClip.HeldOutSceneSeed, MiniClip.Scenes(imageSize, minObjects: 2));
        File.WriteAllText(marker, $"{summary.Objects}\nHeld-out MiniCLIP scenes written by `client demo`.\n");
        return (Path.GetFullPath(folder), "validation", summary.Images, summary.Objects);
    }

    public static Command Create()
    {
        var folder = new Option<string>("--data") { Description = "Dataset folder (generated when absent).", DefaultValueFactory = _ => "./out/demo-data" };
        var images = new Option<int>("--images") { Description = "Images to generate.", DefaultValueFactory = _ => 24 };
        var masks = new Option<int>("--masks-per-image") { Description = "Masks per image.", DefaultValueFactory = _ => 3 };
        var iterations = new Option<int>("--iterations") { Description = "MaskInversion steps K.", DefaultValueFactory = _ => 10 };
        var methods = new Option<string>("--methods") { Description = "Methods (see submit).", DefaultValueFactory = _ => "maskinversion,baselines" };
        var output = new Option<string>("--output") { Description = "Jobs folder.", DefaultValueFactory = _ => "./out/demo-jobs" };
        var model = new Option<string?>("--model") { Description = "Model name or config JSON (default: the bundled MiniCLIP)." };
        var weights = new Option<string?>("--weights") { Description = "Safetensors weights (default: the bundled MiniCLIP's)." };
        var tokenizer = new Option<string?>("--tokenizer") { Description = "Tokenizer (default: the bundled MiniCLIP vocabulary)." };
        var size = new Option<int?>("--image-size") { Description = "Input side (default: the model's own, 96 for MiniCLIP)." };
        var cmd = new Command("demo", "Run a whole job in this process on a small generated dataset and print the metrics.")
        {
            folder, images, masks, iterations, methods, output, model, weights, tokenizer, size,
        };
        cmd.SetAction(async (r, ct) =>
        {
            // Default: the bundled MiniCLIP on held-out scenes of its own world; a seeded random tiny CLIP on noise
            // images only if the bundle is missing.
            var bundle = MiniClip.Locate();
            string root, split, modelPath, tokenizerPath;
            string? weightsPath;
            int imageSize, imageCount, maskCount;
            if (bundle is not null)
            {
                imageSize = r.GetValue(size) ?? ClipConfigSize(Path.Combine(bundle, MiniClip.ConfigFile));
                (root, split, imageCount, maskCount) = EnsureSceneDataset(r.GetValue(folder)!, r.GetValue(images), imageSize);
                (modelPath, weightsPath, tokenizerPath) = (Path.Combine(bundle, MiniClip.ConfigFile), Path.Combine(bundle, MiniClip.WeightsFile), bundle);
            }
            else
            {
                AnsiConsole.MarkupLine("[yellow]The bundled MiniCLIP was not found: using a seeded random tiny CLIP (metrics are chance).[/]");
                var synthetic = EnsureDataset(r.GetValue(folder)!, r.GetValue(images), r.GetValue(masks));
                var tinyModel = WriteDefaultModel(synthetic.Root);
                (root, split, imageCount, maskCount) = (synthetic.Root, synthetic.Split, synthetic.Images, synthetic.Masks);
                (modelPath, weightsPath, tokenizerPath, imageSize) = (tinyModel.ConfigPath, null, tinyModel.TokenizerFolder, r.GetValue(size) ?? 64);
            }
            var id = $"demo-{DateTime.UtcNow:yyyyMMdd-HHmmss}";
            var spec = new JobSpec
            {
                Format = "openimages", DatasetRoot = root, Split = split, DatasetName = bundle is null ? "synthetic-openimages" : "miniclip-scenes-heldout",
                Model = r.GetValue(model) ?? modelPath, Weights = r.GetValue(weights) ?? (r.GetValue(model) is null ? weightsPath : null),
                Tokenizer = r.GetValue(tokenizer) ?? tokenizerPath,
                Templates = "single", ImageSize = imageSize, Iterations = r.GetValue(iterations),
                Methods = RegionMethods.ParseList(r.GetValue(methods)!).Select(m => m.Name()).ToArray(),
                OutputFolder = Path.GetFullPath(Path.Combine(r.GetValue(output)!, id)), OverlaySamples = 6, MaxInFlight = 4,
            };
            AnsiConsole.MarkupLine($"Dataset: [bold]{Markup.Escape(root)}[/] ({imageCount} images, {maskCount} masks)");
            AnsiConsole.MarkupLine($"Model: {Markup.Escape(spec.Model ?? "")} ({(spec.Weights is null ? "seeded random weights" : Markup.Escape(spec.Weights))}), {imageSize} px");
            AnsiConsole.WriteLine("Starting an in-process silo …");
            await using var cluster = await ClusterConnection.StartEmbeddedAsync(new ComputeOptions(), ct);
            var job = cluster.Grains.GetGrain<IJobCoordinatorGrain>(id);
            await job.SubmitAsync(spec);
            await JobView.WatchAsync(job, ct);
            var results = await job.GetResultsAsync();
            JobView.Results(results);
            AnsiConsole.MarkupLine($"Outputs: [bold]{Markup.Escape(spec.OutputFolder)}[/] (metrics.json, masks/*.parquet, overlays/*.png)");
            return results.Progress.State == JobState.Completed ? 0 : 1;
        });
        return cmd;
    }
}
