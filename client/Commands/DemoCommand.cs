using System.CommandLine;
using MaskInversion.Core.Datasets;
using MaskInversion.Core.Pipeline;
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
    /// <summary>The demo's model until trained MiniCLIP weights land: a seeded random tiny CLIP. Replacing it with
    /// real weights is passing --model/--weights/--tokenizer (or changing these defaults).</summary>
    public static TinyModelFiles WriteDefaultModel(string folder) =>
        TinyModelFiles.Write(Path.Combine(folder, "model"), SyntheticDataset.Classes.Select(c => c.Name), imageSize: 64, patch: 8, width: 64, layers: 2, embed: 32);

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

    public static Command Create()
    {
        var folder = new Option<string>("--data") { Description = "Dataset folder (generated when absent).", DefaultValueFactory = _ => "./out/demo-data" };
        var images = new Option<int>("--images") { Description = "Images to generate.", DefaultValueFactory = _ => 8 };
        var masks = new Option<int>("--masks-per-image") { Description = "Masks per image.", DefaultValueFactory = _ => 3 };
        var iterations = new Option<int>("--iterations") { Description = "MaskInversion steps K.", DefaultValueFactory = _ => 10 };
        var methods = new Option<string>("--methods") { Description = "Methods (see submit).", DefaultValueFactory = _ => "maskinversion,baselines" };
        var output = new Option<string>("--output") { Description = "Jobs folder.", DefaultValueFactory = _ => "./out/demo-jobs" };
        var model = new Option<string?>("--model") { Description = "Model name or config JSON (default: the tiny random demo model)." };
        var weights = new Option<string?>("--weights") { Description = "Safetensors weights (default: none, seeded random)." };
        var tokenizer = new Option<string?>("--tokenizer") { Description = "Tokenizer (default: the demo's vocabulary built from the class names)." };
        var size = new Option<int>("--image-size") { Description = "Input side (default: the demo model's 64).", DefaultValueFactory = _ => 64 };
        var cmd = new Command("demo", "Run a whole job in this process on a small generated dataset and print the metrics.")
        {
            folder, images, masks, iterations, methods, output, model, weights, tokenizer, size,
        };
        cmd.SetAction(async (r, ct) =>
        {
            var data = EnsureDataset(r.GetValue(folder)!, r.GetValue(images), r.GetValue(masks));
            var tiny = WriteDefaultModel(data.Root);
            var id = $"demo-{DateTime.UtcNow:yyyyMMdd-HHmmss}";
            var spec = new JobSpec
            {
                Format = "openimages", DatasetRoot = data.Root, Split = data.Split, DatasetName = "synthetic-openimages",
                Model = r.GetValue(model) ?? tiny.ConfigPath, Weights = r.GetValue(weights), Tokenizer = r.GetValue(tokenizer) ?? tiny.TokenizerFolder,
                Templates = "single", ImageSize = r.GetValue(size), Iterations = r.GetValue(iterations),
                Methods = RegionMethods.ParseList(r.GetValue(methods)!).Select(m => m.Name()).ToArray(),
                OutputFolder = Path.GetFullPath(Path.Combine(r.GetValue(output)!, id)), OverlaySamples = 6, MaxInFlight = 4,
            };
            AnsiConsole.MarkupLine($"Dataset: [bold]{Markup.Escape(data.Root)}[/] ({data.Images} images, {data.Masks} masks, {SyntheticDataset.Classes.Count} classes)");
            AnsiConsole.MarkupLine($"Model: {Markup.Escape(spec.Model ?? "")} (random weights: {spec.Weights is null})");
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
