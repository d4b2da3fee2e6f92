using System.Diagnostics;
using System.Text.Json;
using MaskInversion.Core.Inversion;
using MaskInversion.Core.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace MaskInversion.Client.Commands;

/// <summary>Times vanilla vs decomposed MaskInversion on one image with M masks (random weights are
/// fine for timing), printing one JSON line per (masks, path), and the machine's matmul rate.</summary>
public static class DecompositionBenchmark
{
    public sealed record Settings(ClipConfig Model, int ImageSize, IReadOnlyList<int> MaskCounts, int Iterations,
        IReadOnlyList<InversionPath> Paths, int Threads, long Seed);

    public static int Run(Settings s, TextWriter output, TextWriter progress)
    {
        if (s.Threads > 0) torch.set_num_threads(s.Threads);
        using var model = ClipModel.CreateRandom(s.Model, s.Seed);
        using var inverter = new MaskInverter(model.visual);
        double matmul = MatmulGflops();
        progress.WriteLine($"model {s.Model.Name} at {s.ImageSize}px, {torch.get_num_threads()} threads, matmul {matmul:F1} GFLOP/s");
        output.WriteLine(JsonSerializer.Serialize(new { kind = "machine", matmul_gflops = Math.Round(matmul, 2), threads = torch.get_num_threads() }));

        using var pixels = torch.randn(1, 3, s.ImageSize, s.ImageSize, generator: new Generator((ulong)s.Seed));
        Warmup(model, inverter, pixels, s.Paths);
        foreach (var m in s.MaskCounts)
        {
            using var masks = RandomMasks(m, s.ImageSize, s.Seed + m);
            double? vanillaSeconds = null, vanillaFlops = null;
            foreach (var path in s.Paths)
            {
                progress.WriteLine($"  {m} masks, {path} …");
                var sw = Stopwatch.StartNew();
                InversionPath used;
                double flops;
                using (var f = inverter.Prepare(pixels))
                using (var result = inverter.Invert(f, masks, new InversionOptions { Iterations = s.Iterations, Path = path, ReturnMaps = false }))
                {
                    used = result.Path;
                    flops = InversionCost.Of(f).TotalFlops(used, m, s.Iterations);
                }
                double seconds = sw.Elapsed.TotalSeconds;
                if (path == InversionPath.Vanilla) (vanillaSeconds, vanillaFlops) = (seconds, flops);
                output.WriteLine(JsonSerializer.Serialize(new
                {
                    masks = m,
                    path = path.ToString().ToLowerInvariant(),
                    used = used.ToString().ToLowerInvariant(),
                    seconds = Math.Round(seconds, 4),
                    ratio_vanilla_over_this = vanillaSeconds is double v ? Math.Round(v / seconds, 3) : (double?)null,
                    gflop = Math.Round(flops / 1e9, 2),
                    // The ratio the arithmetic alone allows: the speed-up this path would show at vanilla's FLOP rate.
                    flop_ratio_vanilla_over_this = vanillaFlops is double vf ? Math.Round(vf / flops, 3) : (double?)null,
                    achieved_gflops = Math.Round(flops / 1e9 / seconds, 2),
                    matmul_gflops = Math.Round(matmul, 2),
                }));
                output.Flush();
            }
        }
        return 0;
    }

    static void Warmup(ClipModel model, MaskInverter inverter, Tensor pixels, IReadOnlyList<InversionPath> paths)
    {
        using var masks = RandomMasks(2, (int)pixels.shape[2], 1);
        foreach (var p in paths)
        {
            using var f = inverter.Prepare(pixels);
            using var r = inverter.Invert(f, masks, new InversionOptions { Iterations = 1, Path = p == InversionPath.Auto ? InversionPath.Implicit : p, ReturnMaps = false });
        }
    }

    /// <summary>Best of a few 1024×1024×1024 float32 products: the machine's attainable GEMM rate.</summary>
    public static double MatmulGflops(int n = 1024, int repeats = 5)
    {
        using var scope = torch.NewDisposeScope();
        var a = torch.randn(n, n);
        var b = torch.randn(n, n);
        torch.matmul(a, b).Dispose();
        double best = double.MaxValue;
        for (int i = 0; i < repeats; i++)
        {
            var sw = Stopwatch.StartNew();
            torch.matmul(a, b).Dispose();
            best = Math.Min(best, sw.Elapsed.TotalSeconds);
        }
        return 2.0 * n * n * n / best / 1e9;
    }

    static Tensor RandomMasks(int m, int size, long seed)
    {
        var rng = new Random((int)seed);
        var data = new float[(long)m * size * size];
        for (int k = 0; k < m; k++)
        {
            int x0 = rng.Next(size / 2), y0 = rng.Next(size / 2);
            int w = rng.Next(size / 8, size / 2), h = rng.Next(size / 8, size / 2);
            for (int y = y0; y < Math.Min(size, y0 + h); y++)
                for (int x = x0; x < Math.Min(size, x0 + w); x++)
                    data[(long)k * size * size + y * size + x] = 1;
        }
        return torch.tensor(data, [m, size, size]);
    }
}
