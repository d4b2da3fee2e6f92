using MaskInversion.Core.Datasets;
using MaskInversion.Core.Output;

namespace MaskInversion.Grains;

/// <summary>Mean final Dice loss (1 − soft Dice) between each inversion's LeGrad map and its mask: how far the
/// optimisation stayed from its target, lower is better. In results and in metrics.json (metrics.mean_dice_loss).
/// Totals: Counts[0] = [Σ round(loss·2⁴⁰), count], a fixed-point sum, so checkpoints, resumes and shards that add the
/// same masks in another order give the same mean to the last bit (a float sum would depend on the order).</summary>
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
            kv => new MetricTotals { Counts = { [0] = [kv.Value.Values.Sum(ToFixed), kv.Value.Count] } });
    }

    // A loss is in [0, 1]; 2⁴⁰ keeps 40 fractional bits (more than a float's 24) and room for 2²³ masks in a long.
    const double Scale = 1L << 40;

    static long ToFixed(float loss) => (long)Math.Round(loss * Scale);

    static double? Mean(MetricTotals totals) =>
        totals.Counts.TryGetValue(0, out var t) && t is [var sum, var count, ..] && count > 0 ? sum / Scale / count : null;

    public MethodSummary Summarise(MethodSummary summary, MetricTotals totals, int images) =>
        Mean(totals) is { } mean ? summary with { MeanDiceLoss = mean } : summary;

    public MethodMetrics Report(MethodMetrics entry, MetricTotals totals, int images) =>
        Mean(totals) is { } mean ? entry with { MeanDiceLoss = mean } : entry;
}
