using MaskInversion.Core.Metrics;
using MaskInversion.Core.Tests.Datasets;

namespace MaskInversion.Core.Tests.Metrics;

public class ReferringAccumulatorTests
{
    [Fact]
    public void MaskIoUCountsPixels()
    {
        var a = TestMasks.Rect(10, 10, 0, 0, 4, 4);   // 16 px
        var b = TestMasks.Rect(10, 10, 2, 2, 6, 6);   // 16 px, overlap 2×2
        Assert.Equal((4L, 28L), MaskIoU.Counts(a, b));
        Assert.Equal(4 / 28.0, MaskIoU.IoU(a, b), 12);
        Assert.Equal(1.0, MaskIoU.IoU(TestMasks.Rect(3, 3, 0, 0, 0, 0), TestMasks.Rect(3, 3, 0, 0, 0, 0)));
        Assert.Throws<ArgumentException>(() => MaskIoU.Counts(a, TestMasks.Rect(5, 10, 0, 0, 1, 1)));
    }

    [Fact]
    public void HandComputedReferringMetrics()
    {
        var big = TestMasks.Rect(10, 10, 0, 0, 4, 4);      // 16
        var shifted = TestMasks.Rect(10, 10, 2, 2, 6, 6);  // 16, overlap with big 4
        var tiny = TestMasks.Rect(10, 10, 8, 8, 10, 10);   // 4, disjoint from big
        var acc = new ReferringAccumulator();
        // e1: correct mask ranked first, predicted == truth → IoU 1 (16/16)
        Assert.True(acc.Add("img", "e1", "A", ["A", "B", "C"], big, big));
        // e2: correct mask ranked second; predicted B overlaps truth A: 4/28
        Assert.True(acc.Add("img", "e2", "A", ["B", "A", "C"], shifted, big));
        // e3: correct mask not ranked; predicted tiny vs truth big: 0/20
        Assert.True(acc.Add("img2", "e3", "Z", ["C"], tiny, big));
        Assert.False(acc.Add("img", "e1", "A", ["A"], big, big));   // idempotent

        var m = acc.Compute();
        Assert.Equal(3, m.Expressions);
        Assert.Equal(2, m.Images);
        Assert.Equal(1 / 3.0, m.Acc1, 12);
        Assert.Equal(2 / 3.0, m.Acc5, 12);
        Assert.Equal(2 / 3.0, m.Acc10, 12);
        Assert.Equal((1 + 4 / 28.0 + 0) / 3, m.MIoU, 12);
        Assert.Equal((16 + 4 + 0) / (16.0 + 28 + 20), m.OIoU, 12);

        var half = new ReferringAccumulator();
        half.Add("img", new ReferringOutcome("e1", 0, 16, 16));
        half.Merge(acc);
        half.Merge(ReferringAccumulator.FromImageRecords(acc.ImageRecords()));
        Assert.Equal(m, half.Compute());
    }

    /// <summary>A coordinator folds outcomes into totals in whatever order images settle, in checkpoint-sized groups,
    /// and shards would add theirs: the figures must not move by a bit. A double sum of IoUs would (its rounding
    /// depends on the order); the exact sum does not.</summary>
    [Fact]
    public void TotalsAddExactlyInAnyOrderAndGrouping()
    {
        var rng = new Random(5);
        var outcomes = Enumerable.Range(0, 2000).Select(i =>
        {
            long union = rng.Next(1, 5_000_000);
            return (Image: $"img{i / 7}", Outcome: new ReferringOutcome($"e{i}", rng.Next(-1, 12), rng.NextInt64(0, union + 1), union));
        }).ToList();
        var one = new ReferringAccumulator();
        foreach (var (image, o) in outcomes) one.Add(image, o);
        var expected = one.Compute();

        // The same outcomes image by image in a shuffled order, in random groups, the groups' totals added up.
        var byImage = outcomes.GroupBy(t => t.Image).OrderBy(_ => rng.Next()).ToList();
        var sum = new ReferringTotals();
        for (int i = 0; i < byImage.Count;)
        {
            var part = new ReferringAccumulator();
            foreach (var g in byImage.Skip(i).Take(1 + rng.Next(9)))
                foreach (var (image, o) in g.OrderBy(_ => rng.Next())) part.Add(image, o);
            i += part.ImageCount;
            sum.Add(ReferringTotals.FromCounts(part.Totals().ToCounts()));   // persisted and read back as the coordinator does
        }
        Assert.Equal(expected, sum.Compute());
        Assert.Equal(outcomes.Average(t => MaskIoU.IoU(t.Outcome.Intersection, t.Outcome.Union)), expected.MIoU, 12);

        // Element-wise addition of the counter vectors is the merge (what MetricTotals does).
        var a = one.Totals().ToCounts();
        var doubled = ReferringTotals.FromCounts(a.Zip(a, (x, y) => x + y).ToArray());
        Assert.Equal((expected.Acc1, expected.MIoU, expected.OIoU, 2 * expected.Expressions), (doubled.Compute().Acc1, doubled.Compute().MIoU, doubled.Compute().OIoU, doubled.Compute().Expressions));
        Assert.Throws<ArgumentException>(() => ReferringTotals.FromCounts([1, 2, 3]));
    }
}
