using Orleans.Concurrency;

namespace MaskInversion.Grains;

/// <summary>A mask (or a whole image, <paramref name="MaskId"/> null) that failed, with its error.</summary>
[GenerateSerializer, Immutable]
public sealed record FailedItem(
    [property: Id(0)] DateTimeOffset At,
    [property: Id(1)] string ImageId,
    [property: Id(2)] string? MaskId,
    [property: Id(3)] string Error);

/// <summary>What one silo computed for one job: images and masks it returned, and its recent rate.</summary>
/// <param name="Silo">The silo's endpoint (address:port), as in <see cref="SiloLoad.Silo"/>.</param>
[GenerateSerializer, Immutable]
public sealed record SiloThroughput(
    [property: Id(0)] string Silo,
    [property: Id(1)] long Images,
    [property: Id(2)] long Masks,
    [property: Id(3)] double MasksPerSecond);

/// <summary>One point of a job's masks/s history.</summary>
/// <param name="MasksSettled">Masks done + failed at that moment (this coordinator activation's run).</param>
[GenerateSerializer, Immutable]
public sealed record RateSample(
    [property: Id(0)] DateTimeOffset At,
    [property: Id(1)] double MasksPerSecond,
    [property: Id(2)] long MasksSettled);

/// <summary>What the dashboard's job page shows beyond <see cref="JobProgress"/>. Held in the coordinator's memory only
/// (a view, not the record): after a coordinator moves or restarts, the lists start again from empty.</summary>
/// <param name="Failures">The most recent failed items, newest first (bounded).</param>
/// <param name="FailuresSeen">All failed items this activation saw (the list keeps only the last ones).</param>
/// <param name="History">masks/s samples, oldest first (bounded ring).</param>
[GenerateSerializer, Immutable]
public sealed record JobMonitorView(
    [property: Id(0)] JobProgress Progress,
    [property: Id(1)] FailedItem[] Failures,
    [property: Id(2)] long FailuresSeen,
    [property: Id(3)] SiloThroughput[] Silos,
    [property: Id(4)] RateSample[] History);

/// <summary>A compute silo's executor as of its last report: queue, prepared-image cache, masks evaluated.</summary>
[GenerateSerializer, Immutable]
public sealed record SiloLoad(
    [property: Id(0)] string Silo,
    [property: Id(1)] DateTimeOffset At,
    [property: Id(2)] int QueueDepth,
    [property: Id(3)] long CachedBytes,
    [property: Id(4)] long CacheBudgetBytes,
    [property: Id(5)] long MasksEvaluated,
    [property: Id(6)] double MasksPerSecond,
    [property: Id(7)] long Forwards);

/// <summary>The cluster's compute silos and their load (one grain, key <see cref="Key"/>, on coordinator silos; in
/// memory: every compute silo reports every few seconds, so a new activation is full again after one period).</summary>
public interface ISiloLoadGrain : IGrainWithStringKey
{
    const string Key = "silos";

    Task ReportAsync(SiloLoad load);

    /// <summary>Silos that reported within the last 30 s, by name.</summary>
    [AlwaysInterleave] Task<SiloLoad[]> ListAsync();
}
