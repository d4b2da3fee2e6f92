namespace MaskInversion.Core.Metrics;

/// <summary>One mask's classification outcome, reduced to what the metrics need.</summary>
/// <param name="Rank">0-based position of the true class among the predictions, −1 when absent (a miss at every k ≤ 10).</param>
public sealed record MaskOutcome(string MaskId, int TrueClass, int Rank);

/// <summary>The partial result of one image: small, and what coordinators persist and merge keyed by image id.</summary>
public sealed record ImageMetricsRecord(string ImageId, IReadOnlyList<MaskOutcome> Masks);

/// <summary>Per-class counters; dataset totals are sums of these.</summary>
public sealed record ClassRetrieval(long Count, long Hits1, long Hits5, long Hits10)
{
    /// <summary>Acc@1 restricted to masks of this class (the class's recall).</summary>
    public double Acc1 => Count == 0 ? 0 : (double)Hits1 / Count;
}

/// <param name="MeanPerClassRecall">Mean of per-class Acc@1 over classes with at least one mask (CLIP_benchmark's definition).</param>
public sealed record RetrievalMetrics(
    double Acc1, double Acc5, double Acc10, double MeanPerClassRecall,
    IReadOnlyDictionary<int, ClassRetrieval> PerClass, long Masks, int Images)
{
    /// <summary>The figures of per-class counters: the one place they are derived, for an accumulator and for
    /// counters merged from many (a coordinator's checkpoints, shards).</summary>
    public static RetrievalMetrics FromCounts(IEnumerable<KeyValuePair<int, ClassRetrieval>> perClass, int images)
    {
        long n = 0, h1 = 0, h5 = 0, h10 = 0;
        var classes = new SortedDictionary<int, ClassRetrieval>();
        double recallSum = 0;
        foreach (var (cls, c) in perClass.OrderBy(kv => kv.Key))
        {
            n += c.Count; h1 += c.Hits1; h5 += c.Hits5; h10 += c.Hits10;
            classes[cls] = c;
            recallSum += c.Acc1;
        }
        double Frac(long h) => n == 0 ? 0 : (double)h / n;
        return new RetrievalMetrics(Frac(h1), Frac(h5), Frac(h10), classes.Count == 0 ? 0 : recallSum / classes.Count,
            classes, n, images);
    }
}

/// <summary>
/// Class-retrieval accuracy (Acc@1/5/10, per-class accuracy, mean per-class recall), mergeable and idempotent:
/// outcomes are keyed by (image id, mask id), so repeated adds and merges of overlapping partial results count
/// each mask once. Per-class counters are kept incrementally; they can always be recomputed from
/// <see cref="ImageRecords"/>, which is the compact form to persist or ship.
/// </summary>
public sealed class RetrievalAccumulator
{
    readonly KeyedOutcomes<MaskOutcome> outcomes = new();
    readonly SortedDictionary<int, long[]> perClass = new();   // count, hits@1, hits@5, hits@10

    public long MaskCount => outcomes.Count;
    public int ImageCount => outcomes.ImageCount;
    /// <summary>Repeats of a key with a different outcome (the first one was kept).</summary>
    public int Conflicts => outcomes.Conflicts;

    /// <summary>Position of <paramref name="trueClass"/> in <paramref name="predicted"/> (best first), −1 when absent.</summary>
    public static int RankOf(int trueClass, IReadOnlyList<int> predicted)
    {
        for (int i = 0; i < predicted.Count; i++) if (predicted[i] == trueClass) return i;
        return -1;
    }

    /// <param name="topPredicted">Predicted class indices, best first (normally the top 10).</param>
    /// <returns>False when this (image, mask) was already counted.</returns>
    public bool Add(string imageId, string maskId, int trueClass, IReadOnlyList<int> topPredicted) =>
        Add(imageId, new MaskOutcome(maskId, trueClass, RankOf(trueClass, topPredicted)));

    public bool Add(string imageId, MaskOutcome outcome)
    {
        if (!outcomes.TryAdd(imageId, outcome.MaskId, outcome)) return false;
        if (!perClass.TryGetValue(outcome.TrueClass, out var c)) perClass[outcome.TrueClass] = c = new long[4];
        c[0]++;
        if (outcome.Rank >= 0)
        {
            if (outcome.Rank < 1) c[1]++;
            if (outcome.Rank < 5) c[2]++;
            if (outcome.Rank < 10) c[3]++;
        }
        return true;
    }

    /// <returns>How many of the record's masks were new.</returns>
    public int Add(ImageMetricsRecord record)
    {
        int added = 0;
        foreach (var m in record.Masks) if (Add(record.ImageId, m)) added++;
        return added;
    }

    public void Merge(RetrievalAccumulator other)
    {
        foreach (var record in other.ImageRecords()) Add(record);
    }

    public IEnumerable<ImageMetricsRecord> ImageRecords() =>
        outcomes.Images().Select(i => new ImageMetricsRecord(i.ImageId, i.Items.ToList()));

    public static RetrievalAccumulator FromImageRecords(IEnumerable<ImageMetricsRecord> records)
    {
        var acc = new RetrievalAccumulator();
        foreach (var r in records) acc.Add(r);
        return acc;
    }

    public RetrievalMetrics Compute() =>
        RetrievalMetrics.FromCounts(perClass.Select(kv => KeyValuePair.Create(kv.Key, new ClassRetrieval(kv.Value[0], kv.Value[1], kv.Value[2], kv.Value[3]))), ImageCount);
}
