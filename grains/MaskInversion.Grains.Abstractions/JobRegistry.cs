using Orleans.Concurrency;

namespace MaskInversion.Grains;

/// <summary>What the cluster knows of one job without activating its coordinator: for `client list` and the
/// dashboard's job list. Refreshed by the coordinator at submit, at checkpoints and when the job ends.</summary>
[GenerateSerializer, Immutable]
public sealed record JobListEntry(
    [property: Id(0)] string JobId,
    [property: Id(1)] JobState State,
    [property: Id(2)] DateTimeOffset SubmittedAt,
    [property: Id(3)] DateTimeOffset UpdatedAt,
    [property: Id(4)] string DatasetName,
    [property: Id(5)] string OutputFolder,
    [property: Id(6)] long MasksDone,
    [property: Id(7)] long MasksFailed,
    [property: Id(8)] long? MasksTotal,
    [property: Id(9)] string? Error);

/// <summary>The cluster's list of jobs (one grain, key <see cref="Key"/>; durable). One small entry per job ever
/// submitted, so its state grows with the number of jobs, not with their size.</summary>
public interface IJobRegistryGrain : IGrainWithStringKey
{
    const string Key = "jobs";

    /// <summary>Adds or replaces the job's entry (its first SubmittedAt is kept).</summary>
    Task UpsertAsync(JobListEntry entry);

    /// <summary>Every job, most recently submitted first.</summary>
    [AlwaysInterleave] Task<JobListEntry[]> ListAsync();

    /// <summary>The job's entry, or null for an id never submitted ("no such job").</summary>
    [AlwaysInterleave] Task<JobListEntry?> GetAsync(string jobId);
}
