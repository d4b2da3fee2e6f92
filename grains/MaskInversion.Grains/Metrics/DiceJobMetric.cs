using MaskInversion.Core.Datasets;
using MaskInversion.Core.Output;

namespace MaskInversion.Grains;

/// <summary>Mean final soft Dice between each inversion's LeGrad map and its mask: how well the optimisation
/// reached its target. Totals: [sum, count]. Shown in results; metrics.json keeps CLIP_benchmark's fields only.</summary>
public sealed class DiceJobMetric : IJobMetric
{
    public string Name => "dice";

    public IJobMetricSegment StartSegment() => new Segment();

    sealed class Segment : IJobMetricSegment
    {
        readonly Dictionary<string, Dictionary<(string Image, string Mask), float>> byMethod = new(StringComparer.Ordinal);

        public void Add(DatasetImage image, ImageOutcome outcome)
        {
            foreach (var mask in outcome.Masks)
            {
                if (mask.Error is not null) continue;
                foreach (var r in mask.Results)
                {
                    if (r.Dice is not { } d) continue;
                    if (!byMethod.TryGetValue(r.Method, out var seen)) byMethod[r.Method] = seen = new();
                    seen.TryAdd((outcome.ImageId, mask.MaskId), d);
                }
            }
        }

        public IReadOnlyDictionary<string, MetricTotals> Totals() => byMethod.ToDictionary(kv => kv.Key,
            kv => new MetricTotals { Sums = [kv.Value.Values.Sum(d => (double)d), kv.Value.Count] });
    }

    public MethodSummary Summarise(MethodSummary summary, MetricTotals totals, int images) =>
        totals.Sums is [var sum, var count, ..] && count > 0 ? summary with { MeanDice = sum / count } : summary;

    public MethodMetrics Report(MethodMetrics entry, MetricTotals totals, int images) => entry;
}
