using MaskInversion.Core.Metrics;
using MaskInversion.Grains;

namespace MaskInversion.Cluster.Tests;

static class Expect
{
    /// <summary>Per method and class, the cluster's counters equal the direct run's exactly.</summary>
    public static void SameCounts(IReadOnlyDictionary<string, RetrievalMetrics> expected, JobResults actual)
    {
        Assert.Equal(expected.Keys.Order(), actual.Methods.Select(m => m.Method).Order());
        foreach (var method in actual.Methods)
        {
            var e = expected[method.Method];
            var m = method.Retrieval!;
            Assert.True(e.Masks > 0, $"{method.Method}: the direct run has no masks");
            Assert.Equal(e.Masks, m.Masks);
            Assert.Equal(e.PerClass.Keys.Order(), m.PerClass.Select(c => c.ClassIndex).Order());
            foreach (var c in m.PerClass)
            {
                var ec = e.PerClass[c.ClassIndex];
                Assert.Equal((ec.Count, ec.Hits1, ec.Hits5, ec.Hits10), (c.Count, c.Hits1, c.Hits5, c.Hits10));
            }
            Assert.Equal(e.Acc1, m.Acc1, 12);
            Assert.Equal(e.MeanPerClassRecall, m.MeanPerClassRecall, 12);
        }
    }
}
