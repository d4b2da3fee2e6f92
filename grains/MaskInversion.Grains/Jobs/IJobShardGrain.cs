using Orleans.Concurrency;

namespace MaskInversion.Grains;

/// <summary>One shard of a job (key "jobId/shard", <see cref="JobShardKeys"/>): the records whose dataset ordinal %
/// shards == shard. Called by the job's coordinator only; a silo-internal interface, not the client's.</summary>
public interface IJobShardGrain : IGrainWithStringKey
{
    /// <summary>Starts the shard (its settings and number are persisted), or resumes it; idempotent.</summary>
    Task<ShardReport> StartAsync(JobSettings job, int shard, int shards);

    /// <summary>The shard's counters and state; with its metric totals (settled so far) and class list when asked.</summary>
    [AlwaysInterleave] Task<ShardReport> GetReportAsync(bool withTotals);

    [AlwaysInterleave] Task<JobMonitorView> GetMonitorAsync();

    /// <summary>Stops dispatching; images in flight finish and are counted, then the shard ends Cancelled.</summary>
    [AlwaysInterleave] Task<ShardReport> CancelAsync();
}

/// <summary>What shards tell their job's coordinator (implemented by <see cref="JobCoordinatorGrain"/>, key: job id).</summary>
public interface IJobShardEvents : IGrainWithStringKey
{
    /// <summary>The shard has ended and its outputs and totals are committed.</summary>
    Task ShardEndedAsync(int shard);

    /// <summary>The shard committed a checkpoint (for the cluster's job list).</summary>
    [OneWay, AlwaysInterleave] Task ShardCheckpointed(int shard, JobProgress progress);
}

/// <summary>A shard's state as its coordinator sees it.</summary>
/// <param name="State">A copy of the shard's state; its metric totals and class list only when asked for.</param>
/// <param name="Ended">The shard's run is over and its verdict, outputs and totals are committed.</param>
/// <param name="MasksPerSecond">Over the shard's current run.</param>
[GenerateSerializer]
public sealed record ShardReport(
    [property: Id(0)] int Shard,
    [property: Id(1)] JobShardState State,
    [property: Id(2)] bool Ended,
    [property: Id(3)] long InFlight,
    [property: Id(4)] double MasksPerSecond);

public static class JobShardKeys
{
    public static string Of(string jobId, int shard) => jobId + "/" + shard.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
