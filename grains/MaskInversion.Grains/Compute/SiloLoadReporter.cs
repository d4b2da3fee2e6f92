using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace MaskInversion.Grains;

/// <summary>
/// Every <see cref="Period"/>, reads this compute silo's executor (queue depth, cache bytes, masks evaluated) into
/// <see cref="Current"/> (the silo's /metrics reads it) and reports it to the cluster's <see cref="ISiloLoadGrain"/>
/// (the dashboard's job page reads that). Best effort: a failed report is retried next period.
/// </summary>
public sealed class SiloLoadReporter(ComputeExecutor executor, IGrainFactory grains, ILocalSiloDetails silo, ILogger<SiloLoadReporter> logger)
    : BackgroundService
{
    public static readonly TimeSpan Period = TimeSpan.FromSeconds(2);
    // masks/s over the last few periods, so one batch does not read as a burst and a gap as a stall.
    const int RateWindowPeriods = 5;
    readonly Queue<(DateTimeOffset At, long Masks)> recent = new();
    volatile SiloLoad? current;

    /// <summary>How silos are named on the dashboard: their silo endpoint, unique in the cluster.</summary>
    public static string NameOf(ILocalSiloDetails silo) => silo.SiloAddress.Endpoint.ToString();

    /// <summary>The latest reading (taken now when none was taken yet).</summary>
    public SiloLoad Current => current ?? Read();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Period);
        bool warned = false;
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            var load = Read();
            try
            {
                await grains.GetGrain<ISiloLoadGrain>(ISiloLoadGrain.Key).ReportAsync(load);
                warned = false;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // Starting up, or no coordinator silo reachable: the next period tries again; say so once.
                if (!warned) logger.LogWarning("Silo load not reported ({Error}); retrying every {Period}", ex.Message, Period);
                warned = true;
            }
        }
    }

    SiloLoad Read()
    {
        var now = DateTimeOffset.UtcNow;
        long masks = executor.MasksEvaluated;
        double rate = 0;
        lock (recent)
        {
            recent.Enqueue((now, masks));
            while (recent.Count > RateWindowPeriods + 1) recent.Dequeue();
            var (at, first) = recent.Peek();
            double seconds = (now - at).TotalSeconds;
            if (seconds > 0) rate = (masks - first) / seconds;
        }
        var load = new SiloLoad(NameOf(silo), now, executor.QueueDepth, executor.CachedBytes, executor.CacheBudgetBytes, masks, rate, executor.Forwards);
        current = load;
        return load;
    }
}

/// <summary>The compute silos' latest reports, in memory (see <see cref="ISiloLoadGrain"/>).</summary>
public sealed class SiloLoadGrain : Grain, ISiloLoadGrain
{
    static readonly TimeSpan Stale = TimeSpan.FromSeconds(30);
    readonly Dictionary<string, SiloLoad> silos = new(StringComparer.Ordinal);

    public Task ReportAsync(SiloLoad load)
    {
        silos[load.Silo] = load;
        return Task.CompletedTask;
    }

    public Task<SiloLoad[]> ListAsync()
    {
        var cutoff = DateTimeOffset.UtcNow - Stale;
        foreach (var gone in silos.Values.Where(s => s.At < cutoff).Select(s => s.Silo).ToList()) silos.Remove(gone);
        return Task.FromResult(silos.Values.OrderBy(s => s.Silo, StringComparer.Ordinal).ToArray());
    }
}
