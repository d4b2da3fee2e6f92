namespace MaskInversion.Grains;

/// <summary>
/// Additive totals of one metric under one method, as the coordinator persists them: counter vectors per key
/// (retrieval: class index → count, hits@1, @5, @10) and real-valued sums (Dice: sum, count). Totals of disjoint
/// sets of masks add element-wise — what checkpoints rely on, and what summing coordinator shards would.
/// Size is keys × counters, independent of the dataset's size.
/// </summary>
[GenerateSerializer]
public sealed class MetricTotals
{
    [Id(0)] public Dictionary<int, long[]> Counts { get; set; } = new();
    [Id(1)] public double[] Sums { get; set; } = [];

    public void Add(MetricTotals other)
    {
        foreach (var (key, values) in other.Counts)
        {
            if (!Counts.TryGetValue(key, out var mine)) Counts[key] = mine = new long[values.Length];
            if (mine.Length < values.Length) Array.Resize(ref mine, values.Length);
            for (int i = 0; i < values.Length; i++) mine[i] += values[i];
            Counts[key] = mine;
        }
        if (Sums.Length < other.Sums.Length)
        {
            var grown = Sums;
            Array.Resize(ref grown, other.Sums.Length);
            Sums = grown;
        }
        for (int i = 0; i < other.Sums.Length; i++) Sums[i] += other.Sums[i];
    }

    public MetricTotals Copy() => new()
    {
        Counts = Counts.ToDictionary(kv => kv.Key, kv => (long[])kv.Value.Clone()),
        Sums = (double[])Sums.Clone(),
    };
}
