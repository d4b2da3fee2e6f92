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
        var registry = new JobMetricRegistry([new RetrievalJobMetric(), new DiceLossJobMetric()]);
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
        Assert.Equal(diceSum / diceCount, closed.Single(s => s.Method == "maskinversion").MeanDiceLoss!.Value, 9);
        Assert.Null(closed.Single(s => s.Method == "clip").MeanDiceLoss);
        Assert.Equal(["dice_loss", "retrieval"], persisted.Keys.Order());
    }

    /// <summary>Referring outcomes folded at random checkpoints give exactly what one core accumulator gives over them
    /// all (the IoU sum included); errors and class-only outcomes count nothing; retrieval reports nothing in a
    /// referring job.</summary>
    [Fact]
    public void Referring_totals_equal_one_accumulator_over_the_whole_job()
    {
        var registry = new JobMetricRegistry([new RetrievalJobMetric(), new DiceLossJobMetric(), new ReferringJobMetric()]);
        var metrics = new JobMetrics(registry, new Dictionary<string, Dictionary<string, MetricTotals>>());
        string[] methods = ["maskinversion", "crop"];
        var expected = methods.ToDictionary(m => m, _ => new ReferringAccumulator());
        var rng = new Random(3);
        for (int i = 0; i < 60; i++)
        {
            var imageId = $"img{i}";
            var expressions = Enumerable.Range(0, 1 + rng.Next(4)).Select(k =>
            {
                if (k == 3) return new ExpressionRecord($"e{k}", "m0", [], "its mask m0 could not be read");
                var results = methods.Select(method =>
                {
                    long union = rng.Next(1, 100_000);
                    var r = new ExpressionResult(method, rng.Next(0, 6), $"m{rng.Next(4)}", rng.NextInt64(0, union + 1), union);
                    expected[method].Add(imageId, new ReferringOutcome($"e{k}", r.Rank, r.Intersection, r.Union, r.PredictedMaskId));
                    return r;
                }).ToArray();
                return new ExpressionRecord($"e{k}", "m0", results, null);
            }).ToArray();
            var masks = new[] { new MaskRecord("m0", -1, [new MethodResult("maskinversion", [], [], 0.5f, null)], null) };
            var outcome = new ImageOutcome(imageId, masks, null, expressions);
            metrics.Add(new DatasetImage(imageId, "", []), outcome);
            if (i % 3 == 0) metrics.Add(new DatasetImage(imageId, "", []), outcome);   // a repeat in the same segment counts once
            if (rng.Next(5) == 0) metrics.Checkpoint();
        }
        // A class job's outcomes (no expressions) add nothing to the referring totals.
        metrics.Add(new DatasetImage("class", "", []), new ImageOutcome("class", [new MaskRecord("c", 1, [new MethodResult("crop", [1], [1f], null, null)], null)], null));
        metrics.Checkpoint();

        foreach (var s in metrics.Summaries(methods, 61))
        {
            var e = expected[s.Method].Compute();
            var r = s.Referring!;
            Assert.True(e.Expressions > 60);
            Assert.Equal((e.Acc1, e.Acc5, e.Acc10, e.MIoU, e.OIoU, e.Expressions, (long)e.Images), (r.Acc1, r.Acc5, r.Acc10, r.MIoU, r.OIoU, r.Expressions, r.Images));
        }
        // Only the class outcome fed retrieval: crop has it, maskinversion reports none.
        Assert.Null(metrics.Summaries(["maskinversion"], 61)[0].Retrieval);
        Assert.Equal(1, metrics.Summaries(["crop"], 61)[0].Retrieval!.Masks);
    }
}
