namespace MaskInversion.Grains;

/// <summary>One shard's durable state: settings, counters, per-metric per-method totals, and which of its stream
/// ordinals are settled. Its size does not grow with the dataset (see deploy/ARCHITECTURE.md).</summary>
[GenerateSerializer]
public sealed class JobShardState
{
    [Id(0)] public JobSettings? Settings { get; set; }
    /// <summary>This shard's number and the job's shard count: it works the dataset ordinals with ordinal % Shards == Shard.</summary>
    [Id(22)] public int Shard { get; set; }
    [Id(23)] public int Shards { get; set; } = 1;
    [Id(1)] public JobState State { get; set; }
    [Id(2)] public string? Error { get; set; }
    /// <summary>Every dataset record of this shard with an ordinal below this is settled (counted and written).</summary>
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

    /// <summary>Marks one of this shard's dataset ordinals settled and advances the watermark over the settled prefix
    /// (ordinals of other shards are not this shard's to wait for: the watermark steps over them).</summary>
    public void Settle(long ordinal)
    {
        SettledAbove.Add(ordinal);
        while (true)
        {
            while (Watermark % Shards != Shard) Watermark++;
            if (!SettledAbove.Remove(Watermark)) break;
            Watermark++;
        }
    }

    /// <summary>A job's shards as one: counters, totals and metric totals added (exact: they are integer counts and
    /// fixed-point sums); the first item error is the lowest-numbered shard's, and errors differ when any shard saw
    /// differing ones or two shards' first errors differ. What the coordinator judges and reports the job by.</summary>
    public static JobShardState Sum(IReadOnlyList<JobShardState> shards)
    {
        var ordered = shards.OrderBy(s => s.Shard).ToList();
        var sum = new JobShardState
        {
            Settings = ordered.FirstOrDefault()?.Settings, Shards = 1,
            ImagesDone = ordered.Sum(s => s.ImagesDone), ImagesFailed = ordered.Sum(s => s.ImagesFailed),
            MasksDone = ordered.Sum(s => s.MasksDone), MasksFailed = ordered.Sum(s => s.MasksFailed),
            ReadErrors = ordered.Sum(s => s.ReadErrors), Retries = ordered.Sum(s => s.Retries),
            ImagesTotal = ordered.All(s => s.ImagesTotal is not null) ? ordered.Sum(s => s.ImagesTotal) : null,
            MasksTotal = ordered.All(s => s.MasksTotal is not null) ? ordered.Sum(s => s.MasksTotal) : null,
            PartsCommitted = ordered.Sum(s => s.PartsCommitted), OverlaysAssigned = ordered.Sum(s => s.OverlaysAssigned),
            Metrics = JobMetrics.Sum(ordered.Select(s => s.Metrics)),
        };
        var named = ordered.FirstOrDefault(s => s.ClassIds.Length > 0);
        (sum.ClassIds, sum.ClassNames) = named is null ? ([], []) : (named.ClassIds, named.ClassNames);
        var failing = ordered.Where(s => s.FirstItemError is not null).ToList();
        if (failing.Count > 0)
        {
            (sum.FirstItemError, sum.FirstItemErrorPattern) = (failing[0].FirstItemError, failing[0].FirstItemErrorPattern);
            sum.ItemErrorsDiffer = failing.Any(s => s.ItemErrorsDiffer || s.FirstItemErrorPattern != failing[0].FirstItemErrorPattern);
        }
        return sum;
    }
}
