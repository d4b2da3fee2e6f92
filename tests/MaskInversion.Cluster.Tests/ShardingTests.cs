using System.Globalization;
using System.Text.RegularExpressions;
using MaskInversion.Core.Output;
using MaskInversion.Grains;

namespace MaskInversion.Cluster.Tests;

/// <summary>
/// A job split over coordinator shards ("jobId/shard", each over every Shards-th dataset record) gives exactly the
/// unsharded job's outputs: the same metrics.json, results and per-mask rows to the last bit, bad items included —
/// the shards' counters and metric totals add up exactly (#9).
/// </summary>
public sealed class ShardingTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    [Fact]
    public async Task Sharded_job_equals_the_unsharded_job_exactly()
    {
        using var data = new JobFixtureData(images: 8, faults: true);
        var one = await RunAsync("job-shards-1", data.Settings("one") with { Shards = 1 });
        var three = await RunAsync("job-shards-3", data.Settings("three") with { Shards = 3 });

        Assert.Equal(JobState.Completed, three.Progress.State);
        Assert.Equal(one.Progress with { JobId = "", OutputFolder = "", MasksPerSecond = 0 }, three.Progress with { JobId = "", OutputFolder = "", MasksPerSecond = 0 });
        Assert.Equal(8, three.Progress.ImagesTotal);
        Assert.Equal(data.Dataset.Masks, three.Progress.MasksTotal);
        Assert.Equal(one.Results, three.Results);
        Assert.Equal(one.Metrics, three.Metrics);
        Assert.Equal(one.Rows, three.Rows);
        Assert.Equal(data.Dataset.Masks - 3, three.Progress.MasksDone);   // the bad items are errors in both

        // Each shard wrote its own parts; the unsharded job's parts keep their plain names.
        var parts = Directory.GetFiles(Path.Combine(data.Folder, "three", "masks"), "part-*.parquet").Select(Path.GetFileName).ToList();
        Assert.All(parts, p => Assert.Matches(@"^part-\d{5}-shard00[0-2]\.parquet$", p));
        Assert.Equal(3, parts.Select(p => p![^11..]).Distinct().Count());
        Assert.All(Directory.GetFiles(Path.Combine(data.Folder, "one", "masks"), "part-*.parquet").Select(Path.GetFileName),
            p => Assert.Matches(@"^part-\d{5}\.parquet$", p));
        // The overlay budget (2) is split, not multiplied: each shard's first masks, fewer where one is on the undecodable image.
        Assert.InRange(Directory.GetFiles(Path.Combine(data.Folder, "three", "overlays"), "*_mask.png").Length, 1, 2);

        // The dashboard's view adds the shards' up: both failed items, every image on the compute silos.
        var monitor = await fixture.Cluster.Client.GetGrain<IJobCoordinatorGrain>("job-shards-3").GetMonitorAsync();
        Assert.Equal(2, monitor.FailuresSeen);
        Assert.Equal(8, monitor.Silos.Sum(s => s.Images));
    }

    [Fact]
    public async Task More_shards_than_images_in_flight_is_refused()
    {
        using var data = new JobFixtureData(images: 2, faults: false);
        var result = await fixture.Cluster.Client.GetGrain<IJobCoordinatorGrain>("job-shards-refused")
            .TrySubmitAsync(data.Settings("refused") with { Shards = 8, MaxInFlight = 4 });
        Assert.False(result.Accepted);
        Assert.Contains(result.Problems, p => p.Contains("MaxInFlight (4) must be at least Shards (8)", StringComparison.Ordinal));
    }

    sealed record Outputs(JobProgress Progress, string Results, string Metrics, List<string> Rows);

    async Task<Outputs> RunAsync(string id, JobSettings job)
    {
        var grain = fixture.Cluster.Client.GetGrain<IJobCoordinatorGrain>(id);
        await grain.SubmitAsync(job);
        var done = await TestCluster.WaitAsync(grain, TimeSpan.FromMinutes(2));
        var results = await grain.GetResultsAsync();
        var rows = new List<string>();
        foreach (var part in Directory.GetFiles(Path.Combine(job.OutputFolder, "masks"), "part-*.parquet"))
            await foreach (var r in PerMaskResultsParquet.ReadAsync(part)) rows.Add(Canonical(r));
        rows.Sort(StringComparer.Ordinal);
        var metrics = Regex.Replace(await File.ReadAllTextAsync(Path.Combine(job.OutputFolder, "metrics.json")), "\"created\": \"[^\"]*\"", "");
        return new Outputs(done, System.Text.Json.JsonSerializer.Serialize(results with { Progress = done with { JobId = "", OutputFolder = "", MasksPerSecond = 0 } }),
            metrics, rows);
    }

    static string Canonical(PerMaskResult r)
    {
        static string F(float f) => BitConverter.SingleToInt32Bits(f).ToString("x8", CultureInfo.InvariantCulture);
        return string.Join(" | ", r.ImageId, r.MaskId, r.Method, r.Label ?? "∅", string.Join(',', r.Top10), string.Join(',', r.Top10Scores.Select(F)),
            r.DiceLoss is { } d ? F(d) : "∅", r.Error ?? "∅");
    }
}
