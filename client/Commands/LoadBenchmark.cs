using System.Diagnostics;
using System.Globalization;
using MaskInversion.Client.Jobs;
using MaskInversion.Core.Models;
using MaskInversion.Core.Training;
using MaskInversion.Grains;
using Spectre.Console;

namespace MaskInversion.Client.Commands;

/// <summary>
/// <c>bench load</c>: one job of at least <c>--masks</c> masks on the bundled MiniCLIP model through an in-process silo
/// (the real grains, executor, storage and outputs), sampling this process's memory — it hosts the silo — every few
/// seconds: the curve (time, masks done, RSS, managed heap, grain activations) shows whether memory stays bounded.
/// </summary>
public static class LoadBenchmark
{
    public sealed record Settings(string DataFolder, int Masks, double SampleSeconds, JobSettings Job);

    // Held-out scenes hold 2–4 objects, one mask each.
    const double MasksPerScene = 3;

    public static async Task<int> RunAsync(Settings s, CancellationToken ct)
    {
        EmbeddedCluster.BeforeFirstTensor();
        var bundle = DemoCommand.Bundle();
        int imageSize = ClipConfig.FromFile(Path.Combine(bundle, MiniClip.ConfigFile)).Vision.ImageSize;
        int scenes = (int)Math.Ceiling(s.Masks / MasksPerScene * 1.05);
        var (root, split, _, masksInData) = DemoCommand.EnsureSceneDataset(s.DataFolder, scenes, imageSize);
        if (masksInData < s.Masks) throw new InvalidOperationException($"{scenes} scenes hold {masksInData} masks, fewer than {s.Masks}.");
        var job = s.Job with
        {
            Format = "openimages", DatasetRoot = root, Split = split, DatasetName = "miniclip-scenes-heldout",
            Model = Path.Combine(bundle, MiniClip.ConfigFile), Weights = Path.Combine(bundle, MiniClip.WeightsFile),
            Tokenizer = bundle, Templates = "single", ImageSize = imageSize, OverlaySamples = 0,
            OutputFolder = Path.GetFullPath(Path.Combine("out", "bench-load", DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture))),
        };

        var start = MemorySample.AfterFullGc();
        Console.WriteLine($"{{\"bench\":\"load\",\"phase\":\"start\",\"scenes\":{scenes},\"masks_in_data\":{masksInData},{start.Json}}}");
        await using var cluster = await EmbeddedCluster.StartAsync(new ComputeOptions(), EmbeddedCluster.PathsFor(root, Path.GetDirectoryName(job.OutputFolder)!), ct);
        var management = cluster.Grains.GetGrain<IManagementGrain>(0);
        var grain = cluster.Job($"bench-load-{Guid.NewGuid():N}");
        var clock = Stopwatch.StartNew();
        await grain.SubmitAsync(job);
        var rows = new List<(double T, long Masks, double Rate, MemorySample Memory, int Activations)>();
        var p = await JobSampler.UntilEndedAsync(grain, clock, TimeSpan.FromSeconds(s.SampleSeconds), p => p.MasksDone + p.MasksFailed,
            async (_, t, masks, rate) =>
            {
                int activations = (await management.GetSimpleGrainStatistics()).Sum(g => g.ActivationCount);
                var row = (t, masks, rate, MemorySample.Now(), activations);
                rows.Add(row);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{{\"bench\":\"load\",\"t_s\":{row.t:F0},\"masks\":{row.masks},\"masks_per_s\":{row.rate:F1},{row.Item4.Json},\"activations\":{row.activations}}}"));
            }, ct);
        double seconds = clock.Elapsed.TotalSeconds;
        if (p.State != JobState.Completed) throw new InvalidOperationException("Load job did not complete: " + JobView.Line(p));
        // Idle after the job until the last mask records have expired (EmbeddedCluster.MaskRecordLifetime, then a sweep):
        // what stays resident once the work is over.
        var idleUntil = clock.Elapsed + EmbeddedCluster.MaskRecordLifetime + TimeSpan.FromSeconds(30);
        while (clock.Elapsed < idleUntil)
        {
            await Task.Delay(TimeSpan.FromSeconds(s.SampleSeconds), ct);
            int activations = (await management.GetSimpleGrainStatistics()).Sum(g => g.ActivationCount);
            var row = (clock.Elapsed.TotalSeconds, p.MasksDone + p.MasksFailed, 0.0, MemorySample.Now(), activations);
            rows.Add(row);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{{\"bench\":\"load\",\"t_s\":{row.Item1:F0},\"masks\":{row.Item2},\"masks_per_s\":0,{row.Item4.Json},\"activations\":{row.activations},\"idle\":true}}"));
        }
        var end = MemorySample.AfterFullGc();
        var trimmed = MemorySample.AfterMallocTrim();

        var table = new Table().AddColumns("t (s)", "masks", "masks/s", "RSS MB", "managed MB", "GC committed MB", "RSS − GC committed", "activations");
        foreach (var r in rows)
            table.AddRow(F(r.T, "F0"), r.Masks.ToString(CultureInfo.InvariantCulture), F(r.Rate, "F1"), F(r.Memory.RssMb, "F0"), F(r.Memory.ManagedMb, "F0"),
                F(r.Memory.GcCommittedMb, "F0"), F(r.Memory.RssMb - r.Memory.GcCommittedMb, "F0"), r.Activations.ToString(CultureInfo.InvariantCulture));
        AnsiConsole.Write(table);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{{\"bench\":\"load\",\"phase\":\"end\",\"masks\":{p.MasksDone},\"failed\":{p.MasksFailed},\"seconds\":{seconds:F0},\"masks_per_s\":{p.MasksDone / seconds:F1},\"after_full_gc\":{{{end.Json}}},\"after_malloc_trim\":{{{trimmed.Json}}}}}"));
        return 0;
    }

    static string F(double v, string format) => v.ToString(format, CultureInfo.InvariantCulture);
}
