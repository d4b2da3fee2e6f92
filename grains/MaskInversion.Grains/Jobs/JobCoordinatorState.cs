namespace MaskInversion.Grains;

/// <summary>The coordinator's durable state: settings, counters, per-metric per-method totals, and which stream
/// ordinals are settled. Its size does not grow with the dataset (see deploy/ARCHITECTURE.md).</summary>
[GenerateSerializer]
public sealed class JobCoordinatorState
{
    [Id(0)] public JobSettings? Settings { get; set; }
    [Id(1)] public JobState State { get; set; }
    [Id(2)] public string? Error { get; set; }
    /// <summary>Every dataset record with an ordinal below this is settled (counted and written).</summary>
    [Id(3)] public long Watermark { get; set; }
    /// <summary>Settled ordinals above the watermark: fewer than <see cref="SettledWindow"/>.</summary>
    [Id(4)] public HashSet<long> SettledAbove { get; set; } = [];
    [Id(5)] public long ImagesDone { get; set; }
    [Id(6)] public long ImagesFailed { get; set; }
    [Id(7)] public long MasksDone { get; set; }
    [Id(8)] public long MasksFailed { get; set; }
    [Id(9)] public long ReadErrors { get; set; }
    [Id(10)] public long Retries { get; set; }
    [Id(11)] public long? ImagesTotal { get; set; }
    [Id(12)] public long? MasksTotal { get; set; }
    /// <summary>Metric name → method → totals, as of the last checkpoint (see <see cref="JobMetrics"/>).</summary>
    [Id(13)] public Dictionary<string, Dictionary<string, MetricTotals>> Metrics { get; set; } = new();
    /// <summary>Parquet parts (masks/, embeddings/) whose rows are counted; higher-numbered parts are discarded on resume.</summary>
    [Id(14)] public int PartsCommitted { get; set; }
    [Id(15)] public int OverlaysAssigned { get; set; }
    [Id(16)] public string[] ClassNames { get; set; } = [];
    [Id(17)] public string[] ClassIds { get; set; } = [];
    [Id(18)] public DateTimeOffset SubmittedAt { get; set; }
    /// <summary>The job's first item error, as reported and with the item's names blanked (<see cref="JobVerdict"/>).</summary>
    [Id(19)] public string? FirstItemError { get; set; }
    [Id(20)] public string? FirstItemErrorPattern { get; set; }
    /// <summary>Some item failed differently from the first.</summary>
    [Id(21)] public bool ItemErrorsDiffer { get; set; }

    /// <summary>How far past the watermark the coordinator dispatches: it bounds <see cref="SettledAbove"/>, the one
    /// collection in this state indexed by dataset position, so the state's size does not grow with the dataset even
    /// while one image retries for minutes.</summary>
    public static int SettledWindow(int maxInFlight) => Math.Max(256, 16 * maxInFlight);

    /// <summary>Marks a dataset ordinal settled and advances the watermark over the settled prefix.</summary>
    public void Settle(long ordinal)
    {
        SettledAbove.Add(ordinal);
        while (SettledAbove.Remove(Watermark)) Watermark++;
    }
}
