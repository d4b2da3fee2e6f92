using MaskInversion.Core.Metrics;
using MaskInversion.Core.Output;

namespace MaskInversion.Grains;

/// <summary>Persisted per-method counters: per class (count, hits@1, @5, @10) plus the Dice sum of inversions.
/// Size is methods × classes, independent of the dataset's size.</summary>
[GenerateSerializer]
public sealed class MethodCounters
{
    [Id(0)] public Dictionary<int, long[]> PerClass { get; set; } = new();
    [Id(1)] public double DiceSum { get; set; }
    [Id(2)] public long DiceCount { get; set; }

    public void Add(RetrievalMetrics delta)
    {
        foreach (var (cls, c) in delta.PerClass)
        {
            if (!PerClass.TryGetValue(cls, out var v)) PerClass[cls] = v = new long[4];
            v[0] += c.Count; v[1] += c.Hits1; v[2] += c.Hits5; v[3] += c.Hits10;
        }
    }

    public MethodCounters Plus(RetrievalAccumulator? pending, double diceSum, long diceCount)
    {
        var copy = new MethodCounters
        {
            PerClass = PerClass.ToDictionary(kv => kv.Key, kv => (long[])kv.Value.Clone()),
            DiceSum = DiceSum + diceSum, DiceCount = DiceCount + diceCount,
        };
        if (pending is not null) copy.Add(pending.Compute());
        return copy;
    }

    /// <summary>The same figures RetrievalAccumulator.Compute gives over the same masks.</summary>
    public RetrievalMetrics ToMetrics(int images)
    {
        long n = 0, h1 = 0, h5 = 0, h10 = 0;
        double recall = 0;
        var classes = new Dictionary<int, ClassRetrieval>();
        foreach (var (cls, c) in PerClass.OrderBy(kv => kv.Key))
        {
            n += c[0]; h1 += c[1]; h5 += c[2]; h10 += c[3];
            var cr = new ClassRetrieval(c[0], c[1], c[2], c[3]);
            classes[cls] = cr;
            recall += cr.Acc1;
        }
        double Frac(long h) => n == 0 ? 0 : (double)h / n;
        return new RetrievalMetrics(Frac(h1), Frac(h5), Frac(h10), classes.Count == 0 ? 0 : recall / classes.Count, classes, n, images);
    }

    public MethodSummary ToSummary(string method, int images)
    {
        var m = ToMetrics(images);
        return new MethodSummary(method, m.Acc1, m.Acc5, m.Acc10, m.MeanPerClassRecall, m.Masks,
            DiceCount == 0 ? null : DiceSum / DiceCount,
            m.PerClass.Select(kv => new ClassCounts(kv.Key, kv.Value.Count, kv.Value.Hits1, kv.Value.Hits5, kv.Value.Hits10)).ToArray());
    }

    public static void WriteMetricsJson(string path, JobSpec spec, IReadOnlyDictionary<string, MethodCounters> methods, int images, IReadOnlyList<string> classNames) =>
        MetricsJson.Write(path, spec.DatasetName, spec.Model ?? Path.GetFileName(spec.Weights ?? "unknown"), spec.PretrainedTag ?? (spec.Weights is null ? "random" : "custom"),
            methods.Select(kv => new MethodMetrics(kv.Key, kv.Value.ToMetrics(images))).ToList(), classNames);
}
