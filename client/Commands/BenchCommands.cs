using System.CommandLine;
using MaskInversion.Core.Inversion;
using MaskInversion.Core.Models;

namespace MaskInversion.Client.Commands;

/// <summary><c>client bench …</c>: performance measurements that print figures.</summary>
public static class BenchCommands
{
    public static Command Create()
    {
        var bench = new Command("bench", "Benchmarks that print measured figures as JSON lines.");
        bench.Subcommands.Add(Decomposition());
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

    static List<T> ParseList<T>(string text, Func<string, T> parse) =>
        text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(parse).ToList();
}
