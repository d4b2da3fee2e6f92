using MaskInversion.Core.Datasets;
using MaskInversion.Core.Metrics;
using MaskInversion.Grains;

namespace MaskInversion.Cluster.Tests;

/// <summary>The coordinator's metrics merge (registry metrics, segments folded at checkpoints) gives the figures
/// one accumulator gives over all the masks.</summary>
public sealed class JobMetricsTests
{
    [Fact]
    public void Checkpointed_totals_equal_one_accumulator_over_the_whole_job()
    {
        var registry = new JobMetricRegistry([new RetrievalJobMetric(), new DiceJobMetric()]);
        var persisted = new Dictionary<string, Dictionary<string, MetricTotals>>();
        var metrics = new JobMetrics(registry, persisted);
        var expected = new Dictionary<string, RetrievalAccumulator> { ["maskinversion"] = new(), ["clip"] = new() };
        double diceSum = 0;
        int diceCount = 0;
        var rng = new Random(11);
        for (int i = 0; i < 40; i++)
        {
            var imageId = $"img{i}";
            var masks = Enumerable.Range(0, 1 + rng.Next(3)).Select(k =>
            {
                int cls = rng.Next(-1, 5);   // −1: no class (not counted)
                if (k == 2) return new MaskRecord($"m{k}", cls, [], "IOException: missing");
                var results = expected.Keys.Select(method =>
                {
                    var top = Enumerable.Range(0, 5).OrderBy(_ => rng.Next()).ToArray();
                    float? dice = method == "maskinversion" ? (float)rng.NextDouble() : null;
                    if (cls >= 0) expected[method].Add(imageId, $"m{k}", cls, top);
                    if (dice is { } d) { diceSum += d; diceCount++; }
                    return new MethodResult(method, top, new float[5], dice, null);
                }).ToArray();
                return new MaskRecord($"m{k}", cls, results, null);
            }).ToArray();
            metrics.Add(new DatasetImage(imageId, "", []), new ImageOutcome(imageId, masks, null));
            if (i % 7 == 6) metrics.Checkpoint();
        }

        // Results include the open segment; after the last checkpoint the persisted totals alone hold everything.
        var open = metrics.Summaries(["maskinversion", "clip"], 40);
        metrics.Checkpoint();
        var closed = metrics.Summaries(["maskinversion", "clip"], 40);
        foreach (var summaries in new[] { open, closed })
            foreach (var s in summaries)
            {
                var e = expected[s.Method].Compute();
                var r = s.Retrieval!;
                Assert.True(e.Masks > 10);
                Assert.Equal((e.Masks, e.Acc1, e.Acc5, e.Acc10, e.MeanPerClassRecall), (r.Masks, r.Acc1, r.Acc5, r.Acc10, r.MeanPerClassRecall));
                Assert.Equal(e.PerClass.Select(kv => (kv.Key, kv.Value.Count, kv.Value.Hits1, kv.Value.Hits5, kv.Value.Hits10)),
                    r.PerClass.Select(c => (c.ClassIndex, c.Count, c.Hits1, c.Hits5, c.Hits10)));
            }
        Assert.Equal(diceSum / diceCount, closed.Single(s => s.Method == "maskinversion").MeanDice!.Value, 9);
        Assert.Null(closed.Single(s => s.Method == "clip").MeanDice);
        Assert.Equal(["dice", "retrieval"], persisted.Keys.Order());
    }
}
