using MaskInversion.Core.Datasets;
using MaskInversion.Core.Metrics;
using MaskInversion.Core.Output;

namespace MaskInversion.Grains;

/// <summary>Class retrieval (Acc@1/5/10, mean per-class recall) of every method on masks with a known class.
/// Segments are core's <see cref="RetrievalAccumulator"/>s; totals are per-class counters; figures come from
/// <see cref="RetrievalMetrics.FromCounts"/>, the same function the accumulator uses.</summary>
public sealed class RetrievalJobMetric : IJobMetric
{
    public string Name => "retrieval";

    public IJobMetricSegment StartSegment() => new Segment();

    sealed class Segment : IJobMetricSegment
    {
        readonly Dictionary<string, RetrievalAccumulator> byMethod = new(StringComparer.Ordinal);

        public void Add(DatasetImage image, ImageOutcome outcome)
        {
            foreach (var mask in outcome.Masks)
            {
                if (mask.Error is not null || mask.ClassIndex < 0) continue;
                foreach (var r in mask.Results)
                {
                    if (!byMethod.TryGetValue(r.Method, out var acc)) byMethod[r.Method] = acc = new RetrievalAccumulator();
                    acc.Add(outcome.ImageId, mask.MaskId, mask.ClassIndex, r.TopClasses);
                }
            }
        }

        public IReadOnlyDictionary<string, MetricTotals> Totals() => byMethod.ToDictionary(kv => kv.Key, kv => new MetricTotals
        {
            Counts = kv.Value.Compute().PerClass.ToDictionary(c => c.Key, c => new[] { c.Value.Count, c.Value.Hits1, c.Value.Hits5, c.Value.Hits10 }),
        });
    }

    public static RetrievalMetrics Metrics(MetricTotals totals, int images) =>
        RetrievalMetrics.FromCounts(totals.Counts.Select(kv => KeyValuePair.Create(kv.Key, new ClassRetrieval(kv.Value[0], kv.Value[1], kv.Value[2], kv.Value[3]))), images);

    public MethodSummary Summarise(MethodSummary summary, MetricTotals totals, int images)
    {
        // Nothing counted (a referring job's masks have no class, or no mask settled yet): no retrieval figures.
        if (totals.Counts.Count == 0) return summary;
        var m = Metrics(totals, images);
        return summary with
        {
            Retrieval = new RetrievalSummary(m.Acc1, m.Acc5, m.Acc10, m.MeanPerClassRecall, m.Masks,
                m.PerClass.Select(kv => new ClassCounts(kv.Key, kv.Value.Count, kv.Value.Hits1, kv.Value.Hits5, kv.Value.Hits10)).ToArray()),
        };
    }

    public MethodMetrics Report(MethodMetrics entry, MetricTotals totals, int images) =>
        totals.Counts.Count == 0 ? entry : entry with { Retrieval = Metrics(totals, images) };
}
