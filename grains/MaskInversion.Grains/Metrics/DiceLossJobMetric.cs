using MaskInversion.Core.Datasets;
using MaskInversion.Core.Output;

namespace MaskInversion.Grains;

/// <summary>Mean final Dice loss (1 − soft Dice) between each inversion's LeGrad map and its mask: how far the
/// optimisation stayed from its target, lower is better. Totals: [sum, count]. In results and in metrics.json
/// (metrics.mean_dice_loss).</summary>
public sealed class DiceLossJobMetric : IJobMetric
{
    public string Name => "dice_loss";

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
                    if (r.DiceLoss is not { } d) continue;
                    if (!byMethod.TryGetValue(r.Method, out var seen)) byMethod[r.Method] = seen = new();
                    seen.TryAdd((outcome.ImageId, mask.MaskId), d);
                }
            }
        }

        public IReadOnlyDictionary<string, MetricTotals> Totals() => byMethod.ToDictionary(kv => kv.Key,
            kv => new MetricTotals { Sums = [kv.Value.Values.Sum(d => (double)d), kv.Value.Count] });
    }

    public MethodSummary Summarise(MethodSummary summary, MetricTotals totals, int images) =>
        totals.Sums is [var sum, var count, ..] && count > 0 ? summary with { MeanDiceLoss = sum / count } : summary;

    public MethodMetrics Report(MethodMetrics entry, MetricTotals totals, int images) =>
        totals.Sums is [var sum, var count, ..] && count > 0 ? entry with { MeanDiceLoss = sum / count } : entry;
}
