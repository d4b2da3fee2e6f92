using MaskInversion.Core.Datasets;
using MaskInversion.Core.Metrics;
using MaskInversion.Core.Output;

namespace MaskInversion.Grains;

/// <summary>Referring-expression retrieval (Acc@1/5/10, mIoU, oIoU) of every method, from the expression outcomes of
/// referring jobs. Segments are core's <see cref="ReferringAccumulator"/>s (idempotent per image and expression);
/// totals are its <see cref="ReferringTotals"/> counters (hits, intersections, unions, counts and an exact IoU sum),
/// which add in any order, so checkpoints, resumes and shards give the figures one accumulator over all the outcomes
/// gives, to the last bit. Class jobs count nothing here and report nothing.</summary>
public sealed class ReferringJobMetric : IJobMetric
{
    public string Name => "referring";

    // The one counter vector of a method's totals (MetricTotals.Counts is keyed; referring needs a single key).
    const int Key = 0;

    public IJobMetricSegment StartSegment() => new Segment();

    sealed class Segment : IJobMetricSegment
    {
        readonly Dictionary<string, ReferringAccumulator> byMethod = new(StringComparer.Ordinal);

        public void Add(DatasetImage image, ImageOutcome outcome)
        {
            foreach (var e in outcome.Expressions ?? [])
            {
                if (e.Error is not null) continue;
                foreach (var r in e.Results)
                {
                    if (!byMethod.TryGetValue(r.Method, out var acc)) byMethod[r.Method] = acc = new ReferringAccumulator();
                    acc.Add(outcome.ImageId, new ReferringOutcome(e.ExpressionId, r.Rank, r.Intersection, r.Union, r.PredictedMaskId));
                }
            }
        }

        public IReadOnlyDictionary<string, MetricTotals> Totals() => byMethod.ToDictionary(kv => kv.Key,
            kv => new MetricTotals { Counts = { [Key] = kv.Value.Totals().ToCounts() } });
    }

    /// <summary>The figures of persisted totals; null when the method scored no expression.</summary>
    public static ReferringMetrics? Metrics(MetricTotals totals) =>
        totals.Counts.TryGetValue(Key, out var counts) ? ReferringTotals.FromCounts(counts).Compute() : null;

    public MethodSummary Summarise(MethodSummary summary, MetricTotals totals, int images) =>
        Metrics(totals) is { } m ? summary with { Referring = new ReferringSummary(m.Acc1, m.Acc5, m.Acc10, m.MIoU, m.OIoU, m.Expressions, m.Images) } : summary;

    public MethodMetrics Report(MethodMetrics entry, MetricTotals totals, int images) =>
        Metrics(totals) is { } m ? entry with { Referring = m } : entry;
}
