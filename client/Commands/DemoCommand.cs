using System.CommandLine;
using MaskInversion.Client.Jobs;
using MaskInversion.Core.Models;
using MaskInversion.Core.Referring;
using MaskInversion.Core.Synthetic;
using MaskInversion.Core.Training;
using MaskInversion.Grains;
using Spectre.Console;

namespace MaskInversion.Client.Commands;

/// <summary>
/// <c>client demo</c>: one command, no cluster, no network, no GPU. Hosts a silo in this process, writes (or reuses)
/// held-out MiniCLIP scenes in OpenImages layout, runs MaskInversion and the baselines over them with the bundled
/// MiniCLIP and prints the metrics. With <c>--referring</c> the job is referring-expression retrieval on the synthetic
/// referring world written as a RefCOCO folder.
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

    /// <summary>Scenes of the synthetic referring world (3–4 objects, one expression per object; the seed and scene
    /// options of <c>client eval referring</c>) as a RefCOCO folder, unless the folder already holds them.</summary>
    public static ReferringDatasetSummary EnsureReferringDataset(string folder, int scenes, int imageSize)
    {
        var marker = Path.Combine(folder, $"referring-{scenes}-{imageSize}.txt");
        if (File.Exists(marker))
        {
            var counts = File.ReadAllLines(marker)[0].Split(' ').Select(v => int.Parse(v, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
            return new ReferringDatasetSummary(Path.GetFullPath(folder), "val", scenes, counts[0], counts[1]);
        }
        if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        var world = new ReferringWorldOptions();
        var summary = ReferringDataset.WriteRefCoco(folder, scenes, world.Seed, ReferringWorld.Options(MiniClip.Scenes(imageSize), world.MinObjects, world.MaxObjects));
        File.WriteAllText(marker, $"{summary.Candidates} {summary.Expressions}\nSynthetic referring world (RefCOCO layout) written by `client demo --referring`.\n");
        return summary;
    }

    /// <summary>The bundled MiniCLIP folder, or a clear error.</summary>
    public static string Bundle() => MiniClip.Locate() ?? throw new FileNotFoundException(
        $"The bundled MiniCLIP ({MiniClip.WeightsFile}) was not found beside the client or under core/Models/{MiniClip.FolderName}: rebuild, or pass --model, --weights and --tokenizer.");

    public static Command Create()
    {
        var settings = new JobSettingsOptions(JobSettingsOptions.Groups.Methods);
        var referring = new Option<bool>("--referring")
        {
            Description = "Run a referring-expression job instead: the synthetic referring world (3–4 objects per scene, each named once, " +
                "\"a photo of a red star.\") written as a RefCOCO folder; Acc@1/5/10, mIoU, oIoU; α = 5 unless --alpha.",
        };
        var folder = new Option<string>("--data") { Description = "Dataset folder (generated when absent; default ./out/demo-data, ./out/demo-referring with --referring).", DefaultValueFactory = _ => "./out/demo-data" };
        var images = new Option<int>("--images") { Description = "Held-out scenes to generate.", DefaultValueFactory = _ => 24 };
        var output = new Option<string>("--output") { Description = "Jobs folder.", DefaultValueFactory = _ => "./out/demo-jobs" };
        var model = new Option<string?>("--model") { Description = "Model name or config JSON (default: the bundled MiniCLIP)." };
        var weights = new Option<string?>("--weights") { Description = "Safetensors weights (default: the bundled MiniCLIP's)." };
        var tokenizer = new Option<string?>("--tokenizer") { Description = "Tokenizer (default: the bundled MiniCLIP vocabulary)." };
        var size = new Option<int?>("--image-size") { Description = "Input side (default: the model's own, 96 for MiniCLIP)." };
        var cmd = new Command("demo", "Run a whole job in this process on held-out generated scenes and print the metrics.")
        {
            referring, folder, images, output, model, weights, tokenizer, size,
        };
        settings.AddTo(cmd);
        cmd.SetAction(async (r, ct) =>
        {
            EmbeddedCluster.BeforeFirstTensor();
            var customModel = r.GetValue(model);
            var bundle = customModel is not null && r.GetValue(tokenizer) is not null ? MiniClip.Locate() : Bundle();
            int imageSize = r.GetValue(size) ?? (bundle is not null ? ClipConfig.FromFile(Path.Combine(bundle, MiniClip.ConfigFile)).Vision.ImageSize : new JobSettings().ImageSize);
            bool refer = r.GetValue(referring);
            var dataFolder = r.GetResult(folder) is { Implicit: false } || !refer ? r.GetValue(folder)! : "./out/demo-referring";
            string root, split, format, datasetName;
            int imageCount, maskCount;
            if (refer)
            {
                var written = EnsureReferringDataset(dataFolder, r.GetValue(images), imageSize);
                (root, split, format, datasetName, imageCount, maskCount) = (written.Root, written.Split, "refcoco", "synthetic-referring", written.Images, written.Candidates);
            }
            else
            {
                (root, split, imageCount, maskCount) = EnsureSceneDataset(dataFolder, r.GetValue(images), imageSize);
                (format, datasetName) = ("openimages", "miniclip-scenes-heldout");
            }
            var id = $"demo-{DateTime.UtcNow:yyyyMMdd-HHmmss}";
            var job = settings.Bind(r, id, new JobSettings
            {
                Format = format, DatasetRoot = root, Split = split, DatasetName = datasetName,
                Model = customModel ?? Path.Combine(bundle!, MiniClip.ConfigFile),
                Weights = r.GetValue(weights) ?? (customModel is null ? Path.Combine(bundle!, MiniClip.WeightsFile) : null),
                Tokenizer = r.GetValue(tokenizer) ?? bundle, Templates = "single", ImageSize = imageSize,
                OutputFolder = Path.GetFullPath(Path.Combine(r.GetValue(output)!, id)), OverlaySamples = 6, MaxInFlight = 4,
            });
            AnsiConsole.MarkupLine($"Dataset: [bold]{Markup.Escape(root)}[/] ({format}: {imageCount} images, {maskCount} masks{(refer ? ", α = " + job.Alpha.ToString(System.Globalization.CultureInfo.InvariantCulture) : "")})");
            AnsiConsole.MarkupLine($"Model: {Markup.Escape(job.Model ?? "")} ({(job.Weights is null ? "seeded random weights" : Markup.Escape(job.Weights))}), {imageSize} px");
            AnsiConsole.WriteLine("Starting an in-process silo …");
            await using var cluster = await EmbeddedCluster.StartAsync(new ComputeOptions(), EmbeddedCluster.PathsFor(root, r.GetValue(output)!), ct);
            var grain = cluster.Job(id);
            await grain.SubmitAsync(job);
            await JobView.WatchAsync(grain, ct);
            var results = await grain.GetResultsAsync();
            JobView.Results(results);
            AnsiConsole.MarkupLine($"Outputs: [bold]{Markup.Escape(job.OutputFolder)}[/] (metrics.json, masks/*.parquet, {(refer ? "expressions/*.parquet, " : "")}overlays/*.png)");
            return results.Progress.State == JobState.Completed ? 0 : 1;
        });
        return cmd;
    }
}
