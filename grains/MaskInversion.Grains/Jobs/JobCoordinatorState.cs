namespace MaskInversion.Grains;

/// <summary>A job's durable state at its coordinator: the settings, the job's state and verdict, and once it has ended
/// the sum of its shards (<see cref="JobShardState.Sum"/>) that metrics.json and later queries read. While it runs the
/// figures live in the shards' states.</summary>
[GenerateSerializer]
public sealed class JobCoordinatorState
{
    [Id(0)] public JobSettings? Settings { get; set; }
    [Id(1)] public JobState State { get; set; }
    [Id(2)] public string? Error { get; set; }
    [Id(3)] public DateTimeOffset SubmittedAt { get; set; }
    /// <summary>The shards added up, written when the job ends.</summary>
    [Id(4)] public JobShardState? Final { get; set; }
}
