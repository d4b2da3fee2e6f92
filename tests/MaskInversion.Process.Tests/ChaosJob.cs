using System.Diagnostics;

namespace MaskInversion.Process.Tests;

/// <summary>
/// The job every chaos test runs (64 held-out MiniCLIP scenes, MaskInversion and the global CLIP baseline on the
/// bundled MiniCLIP) and the outputs of one clean run on a healthy 3-silo Redis cluster, which every run under faults
/// must reproduce exactly.
/// </summary>
public sealed class ChaosJob : IAsyncLifetime
{
    public const int Images = 64;

    internal Scenes Data { get; private set; } = null!;
    public int Masks => Data.Masks;
    internal JobOutputs Clean { get; private set; } = null!;
    public TimeSpan CleanDuration { get; private set; }
    internal CleanRunFacts Facts { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Data = new Scenes(Images);
        using var cluster = await ProcessCluster.StartRedisAsync("clean");
        try
        {
            await cluster.StartAsync(cluster.Spec("control", SiloRole.Control), cluster.Spec("compute-1", SiloRole.Compute), cluster.Spec("compute-2", SiloRole.Compute));
            var clock = Stopwatch.StartNew();
            await cluster.SubmitAsync(Data, "clean");
            await cluster.WaitForMetricsAsync("clean", TimeSpan.FromMinutes(3));
            CleanDuration = clock.Elapsed;
            Clean = await JobOutputs.ReadAsync(cluster.JobFolder("clean"));
            Facts = await CleanRunFacts.CollectAsync(cluster, "clean");
            Figures.Record("clean", new() { ["job_s"] = Math.Round(CleanDuration.TotalSeconds, 2), ["masks"] = Masks, ["images"] = Images });
        }
        catch (Exception ex)
        {
            cluster.Keep = true;
            throw new InvalidOperationException($"The clean reference run failed: {ex.Message}\n{cluster.Describe()}", ex);
        }
    }

    public Task DisposeAsync()
    {
        Data?.Dispose();
        return Task.CompletedTask;
    }
}

[CollectionDefinition(Name)]
public sealed class ProcessCollection : ICollectionFixture<ChaosJob>
{
    /// <summary>The chaos tests share the clean run. All process tests run one after another (two cores).</summary>
    public const string Name = "process";
}
