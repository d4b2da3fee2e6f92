using System.CommandLine;
using MaskInversion.Client.Jobs;
using MaskInversion.Core.Models;
using MaskInversion.Core.Synthetic;
using MaskInversion.Core.Training;
using MaskInversion.Grains;
using Spectre.Console;

namespace MaskInversion.Client.Commands;

/// <summary>
/// <c>client demo</c>: one command, no cluster, no network, no GPU. Hosts a silo in this process, writes (or reuses)
/// held-out MiniCLIP scenes in OpenImages layout, runs MaskInversion and the baselines over them with the bundled
/// MiniCLIP and prints the metrics.
/// </summary>
public static class DemoCommand
{
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

    /// <summary>The bundled MiniCLIP folder, or a clear error.</summary>
    public static string Bundle() => MiniClip.Locate() ?? throw new FileNotFoundException(
        $"The bundled MiniCLIP ({MiniClip.WeightsFile}) was not found beside the client or under core/Models/{MiniClip.FolderName}: rebuild, or pass --model, --weights and --tokenizer.");

    public static Command Create()
    {
        var settings = new JobSettingsOptions(JobSettingsOptions.Groups.Methods);
        var folder = new Option<string>("--data") { Description = "Dataset folder (generated when absent).", DefaultValueFactory = _ => "./out/demo-data" };
        var images = new Option<int>("--images") { Description = "Held-out scenes to generate.", DefaultValueFactory = _ => 24 };
        var output = new Option<string>("--output") { Description = "Jobs folder.", DefaultValueFactory = _ => "./out/demo-jobs" };
        var model = new Option<string?>("--model") { Description = "Model name or config JSON (default: the bundled MiniCLIP)." };
        var weights = new Option<string?>("--weights") { Description = "Safetensors weights (default: the bundled MiniCLIP's)." };
        var tokenizer = new Option<string?>("--tokenizer") { Description = "Tokenizer (default: the bundled MiniCLIP vocabulary)." };
        var size = new Option<int?>("--image-size") { Description = "Input side (default: the model's own, 96 for MiniCLIP)." };
        var cmd = new Command("demo", "Run a whole job in this process on held-out generated scenes and print the metrics.")
        {
            folder, images, output, model, weights, tokenizer, size,
        };
        settings.AddTo(cmd);
        cmd.SetAction(async (r, ct) =>
        {
            EmbeddedCluster.BeforeFirstTensor();
            var customModel = r.GetValue(model);
            var bundle = customModel is not null && r.GetValue(tokenizer) is not null ? MiniClip.Locate() : Bundle();
            int imageSize = r.GetValue(size) ?? (bundle is not null ? ClipConfig.FromFile(Path.Combine(bundle, MiniClip.ConfigFile)).Vision.ImageSize : new JobSettings().ImageSize);
            var (root, split, imageCount, maskCount) = EnsureSceneDataset(r.GetValue(folder)!, r.GetValue(images), imageSize);
            var id = $"demo-{DateTime.UtcNow:yyyyMMdd-HHmmss}";
            var job = settings.Bind(r, id, new JobSettings
            {
                Format = "openimages", DatasetRoot = root, Split = split, DatasetName = "miniclip-scenes-heldout",
                Model = customModel ?? Path.Combine(bundle!, MiniClip.ConfigFile),
                Weights = r.GetValue(weights) ?? (customModel is null ? Path.Combine(bundle!, MiniClip.WeightsFile) : null),
                Tokenizer = r.GetValue(tokenizer) ?? bundle, Templates = "single", ImageSize = imageSize,
                OutputFolder = Path.GetFullPath(Path.Combine(r.GetValue(output)!, id)), OverlaySamples = 6, MaxInFlight = 4,
            });
            AnsiConsole.MarkupLine($"Dataset: [bold]{Markup.Escape(root)}[/] ({imageCount} images, {maskCount} masks)");
            AnsiConsole.MarkupLine($"Model: {Markup.Escape(job.Model ?? "")} ({(job.Weights is null ? "seeded random weights" : Markup.Escape(job.Weights))}), {imageSize} px");
            AnsiConsole.WriteLine("Starting an in-process silo …");
            await using var cluster = await EmbeddedCluster.StartAsync(new ComputeOptions(), ct);
            var grain = cluster.Job(id);
            await grain.SubmitAsync(job);
            await JobView.WatchAsync(grain, ct);
            var results = await grain.GetResultsAsync();
            JobView.Results(results);
            AnsiConsole.MarkupLine($"Outputs: [bold]{Markup.Escape(job.OutputFolder)}[/] (metrics.json, masks/*.parquet, overlays/*.png)");
            return results.Progress.State == JobState.Completed ? 0 : 1;
        });
        return cmd;
    }
}
