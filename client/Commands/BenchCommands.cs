using System.CommandLine;
using MaskInversion.Client.Jobs;
using MaskInversion.Core.Inversion;
using MaskInversion.Core.Models;
using MaskInversion.Grains;

namespace MaskInversion.Client.Commands;

/// <summary><c>client bench …</c>: performance measurements that print figures.</summary>
public static class BenchCommands
{
    public static Command Create()
    {
        var bench = new Command("bench", "Benchmarks that print measured figures as JSON lines.");
        bench.Subcommands.Add(Decomposition());
        bench.Subcommands.Add(Cluster());
        bench.Subcommands.Add(Coordinator());
        bench.Subcommands.Add(Load());
        return bench;
    }

    static Command Decomposition()
    {
        var model = new Option<string>("--model") { Description = "Model name (ViT-B-32, ViT-B-16, ViT-L-14, ViT-H-14) or an OpenCLIP config JSON.", DefaultValueFactory = _ => "ViT-B-16" };
        var size = new Option<int>("--image-size") { Description = "Input side in pixels.", DefaultValueFactory = _ => 224 };
        var masks = new Option<string>("--masks") { Description = "Comma-separated mask counts.", DefaultValueFactory = _ => "5,10,50,100" };
        var iterations = new Option<int>("--iterations") { Description = "Optimisation steps K.", DefaultValueFactory = _ => 10 };
        var paths = new Option<string>("--paths") { Description = "Comma-separated paths: vanilla,explicit,implicit,auto (vanilla first gives ratios).", DefaultValueFactory = _ => "vanilla,explicit,implicit,auto" };
        var threads = new Option<int>("--threads") { Description = "Torch threads (0 = library default).", DefaultValueFactory = _ => 0 };
        var cmd = new Command("decomposition", "Vanilla vs decomposed MaskInversion on one image (random weights).")
        {
            model, size, masks, iterations, paths, threads,
        };
        cmd.SetAction(r =>
        {
            var name = r.GetValue(model)!;
            var cfg = File.Exists(name) ? ClipConfig.FromFile(name) : ClipConfig.Named(name);
            cfg = cfg with { Vision = cfg.Vision with { ImageSize = r.GetValue(size) } };
            var settings = new DecompositionBenchmark.Settings(cfg, r.GetValue(size),
                ParseList(r.GetValue(masks)!, int.Parse), r.GetValue(iterations),
                ParseList(r.GetValue(paths)!, p => Enum.Parse<InversionPath>(p, ignoreCase: true)), r.GetValue(threads), Seed: 0);
            return DecompositionBenchmark.Run(settings, Console.Out, Console.Error);
        });
        return cmd;
    }

    static Command Cluster()
    {
        var job = new JobSettingsOptions(JobSettingsOptions.Groups.Methods | JobSettingsOptions.Groups.Dispatch,
            new JobSettings { Methods = ["maskinversion"], MaxInFlight = 4 });
        var data = new Option<string>("--data") { Description = "Dataset folder (held-out MiniCLIP scenes, generated when absent).", DefaultValueFactory = _ => "./out/bench-data" };
        var images = new Option<int>("--images") { Description = "Images (scenes of 2–4 objects, one mask each).", DefaultValueFactory = _ => 24 };
        var model = new Option<string>("--model")
        {
            Description = "A named OpenCLIP architecture with seeded random weights (ViT-B-16, …), or 'miniclip' for the bundled 96 px model, whose per-image work is so small that messaging dominates.",
            DefaultValueFactory = _ => "ViT-B-16",
        };
        var size = new Option<int>("--image-size") { Description = "Input side for a named model.", DefaultValueFactory = _ => 224 };
        var cmd = new Command("cluster", "The same masks through an in-process cluster and directly through RegionEngine: throughputs and their ratio.")
        {
            data, images, model, size,
        };
        job.AddTo(cmd);
        cmd.SetAction((r, ct) => ClusterBenchmark.RunAsync(new ClusterBenchmark.Settings(r.GetValue(data)!, r.GetValue(images), r.GetValue(model)!,
            r.GetValue(size), job.Bind(r, "bench")), ct));
        return cmd;
    }

    static Command Coordinator()
    {
        var job = new JobSettingsOptions(JobSettingsOptions.Groups.Methods | JobSettingsOptions.Groups.Dispatch,
            new JobSettings { Methods = ["maskinversion"], MaxInFlight = 64 });
        var data = new Option<string>("--data") { Description = "Folder for the synthetic manifest (written once per size).", DefaultValueFactory = _ => "./out/bench-coordinator-data" };
        var images = new Option<int>("--images") { Description = "Synthetic images (dataset items).", DefaultValueFactory = _ => 1_000_000 };
        var masks = new Option<int>("--masks-per-image") { Description = "Masks per synthetic image.", DefaultValueFactory = _ => 1 };
        var every = new Option<double>("--sample-seconds") { Description = "Seconds between printed samples.", DefaultValueFactory = _ => 10 };
        var cmd = new Command("coordinator", "The coordinator's bookkeeping (stream, dispatch window, metrics, Parquet parts, checkpoints) over synthetic items with canned outcomes instead of compute: images/s, persisted state bytes, managed heap and RSS.")
        {
            data, images, masks, every,
        };
        job.AddTo(cmd);
        cmd.SetAction((r, ct) => CoordinatorBenchmark.RunAsync(new CoordinatorBenchmark.Settings(r.GetValue(data)!, r.GetValue(images), r.GetValue(masks),
            r.GetValue(every), job.Bind(r, "bench")), ct));
        return cmd;
    }

    static Command Load()
    {
        var job = new JobSettingsOptions(JobSettingsOptions.Groups.Methods | JobSettingsOptions.Groups.Dispatch,
            new JobSettings { Methods = ["maskinversion"] });
        var data = new Option<string>("--data") { Description = "Dataset folder (held-out MiniCLIP scenes, generated when absent).", DefaultValueFactory = _ => "./out/bench-load-data" };
        var masks = new Option<int>("--masks") { Description = "At least this many masks (scenes of 2–4 objects are generated to cover them).", DefaultValueFactory = _ => 10_000 };
        var every = new Option<double>("--sample-seconds") { Description = "Seconds between memory samples.", DefaultValueFactory = _ => 15 };
        var cmd = new Command("load", "One large job on the bundled model through an in-process silo, sampling RSS, managed heap and grain activations: the memory curve.")
        {
            data, masks, every,
        };
        job.AddTo(cmd);
        cmd.SetAction((r, ct) => LoadBenchmark.RunAsync(new LoadBenchmark.Settings(r.GetValue(data)!, r.GetValue(masks), r.GetValue(every), job.Bind(r, "bench")), ct));
        return cmd;
    }

    static List<T> ParseList<T>(string text, Func<string, T> parse) =>
        text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(parse).ToList();
}
