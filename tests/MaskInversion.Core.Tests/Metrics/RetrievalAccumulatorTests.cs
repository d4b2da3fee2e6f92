using MaskInversion.Core.Metrics;

namespace MaskInversion.Core.Tests.Metrics;

public class RetrievalAccumulatorTests
{
    static int[] Top(params int[] first)
    {
        // Pad with classes 100+ so every list has 10 entries, like real top-10 predictions.
        var l = first.ToList();
        for (int c = 100; l.Count < 10; c++) l.Add(c);
        return l.ToArray();
    }

    static RetrievalAccumulator Sample()
    {
        var acc = new RetrievalAccumulator();
        acc.Add("i1", "m1", 0, Top(0, 1, 2));                        // class 0: rank 0
        acc.Add("i1", "m2", 0, Top(1, 2, 3, 4, 0));                  // class 0: rank 4
        acc.Add("i2", "m1", 1, Top(0, 2, 3, 4, 5, 6, 7, 8, 9, 1));   // class 1: rank 9
        acc.Add("i2", "m2", 1, Top(2));                              // class 1: miss
        acc.Add("i3", "m1", 2, Top(2));                              // class 2: rank 0
        return acc;
    }

    [Fact]
    public void HandComputedAccuracies()
    {
        var m = Sample().Compute();
        Assert.Equal(5, m.Masks);
        Assert.Equal(3, m.Images);
        Assert.Equal(2 / 5.0, m.Acc1, 12);     // ranks 0, 0
        Assert.Equal(3 / 5.0, m.Acc5, 12);     // + rank 4
        Assert.Equal(4 / 5.0, m.Acc10, 12);    // + rank 9
        Assert.Equal(0.5, m.PerClass[0].Acc1, 12);
        Assert.Equal(0.0, m.PerClass[1].Acc1, 12);
        Assert.Equal(1.0, m.PerClass[2].Acc1, 12);
        Assert.Equal(new ClassRetrieval(2, 0, 0, 1), m.PerClass[1]);
        Assert.Equal((0.5 + 0 + 1) / 3, m.MeanPerClassRecall, 12);
    }

    [Fact]
    public void RepeatedAddIsNotCountedTwice()
    {
        var acc = Sample();
        Assert.False(acc.Add("i1", "m1", 0, Top(0, 1, 2)));
        Assert.False(acc.Add("i1", "m2", 0, Top(0)));          // a conflicting retry keeps the first outcome
        Assert.Equal(1, acc.Conflicts);
        Assert.True(acc.Add("i9", "m1", 0, Top(0)));           // same mask id on another image is a new key
        var m = acc.Compute();
        Assert.Equal(6, m.Masks);
        Assert.Equal(3 / 6.0, m.Acc1, 12);
    }

    [Fact]
    public void MergeWithOverlapCountsEachMaskOnce()
    {
        var a = new RetrievalAccumulator();
        a.Add("i1", "m1", 0, Top(0, 1, 2));
        a.Add("i1", "m2", 0, Top(1, 2, 3, 4, 0));
        a.Add("i2", "m1", 1, Top(0, 2, 3, 4, 5, 6, 7, 8, 9, 1));
        var b = new RetrievalAccumulator();
        b.Add("i2", "m1", 1, Top(0, 2, 3, 4, 5, 6, 7, 8, 9, 1));   // overlaps a
        b.Add("i2", "m2", 1, Top(2));
        b.Add("i3", "m1", 2, Top(2));
        a.Merge(b);
        a.Merge(b);                                                  // merging again changes nothing
        Assert.Equal(Sample().Compute() with { PerClass = null! }, a.Compute() with { PerClass = null! });
        Assert.Equal(Sample().Compute().PerClass, a.Compute().PerClass);
    }

    [Fact]
    public void TotalsAreRecomputableFromPerImageRecords()
    {
        var records = Sample().ImageRecords().ToList();
        Assert.Equal(3, records.Count);
        Assert.Equal(2, records.Single(r => r.ImageId == "i1").Masks.Count);
        var rebuilt = RetrievalAccumulator.FromImageRecords(records.Concat(records));
        Assert.Equal(5, rebuilt.MaskCount);
        Assert.Equal(Sample().Compute().Acc10, rebuilt.Compute().Acc10);
    }

    [Fact]
    public void EmptyAccumulatorGivesZeros()
    {
        var m = new RetrievalAccumulator().Compute();
        Assert.Equal(0, m.Acc1);
        Assert.Equal(0, m.MeanPerClassRecall);
        Assert.Empty(m.PerClass);
    }
}
