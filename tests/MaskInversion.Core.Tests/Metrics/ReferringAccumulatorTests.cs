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
}
