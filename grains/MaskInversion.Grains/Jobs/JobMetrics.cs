using MaskInversion.Core.Datasets;
using MaskInversion.Core.Output;

namespace MaskInversion.Grains;

/// <summary>
/// The coordinator's metrics merge, through the metric registry: one segment per <see cref="IJobMetric"/> gathers
/// the outcomes settled since the last checkpoint; <see cref="Checkpoint"/> folds the segments into the persisted
/// totals (metric → method → <see cref="MetricTotals"/>, owned by the coordinator's state). Results read totals
/// plus the open segment; metrics.json reads totals only (written after a checkpoint).
/// </summary>
sealed class JobMetrics
{
    readonly IReadOnlyList<IJobMetric> metrics;
    readonly Dictionary<string, Dictionary<string, MetricTotals>> totals;
    IJobMetricSegment[] segments;

    public JobMetrics(JobMetricRegistry registry, Dictionary<string, Dictionary<string, MetricTotals>> persisted)
    {
        metrics = registry.All;
        totals = persisted;
        segments = metrics.Select(m => m.StartSegment()).ToArray();
    }

    public void Add(DatasetImage image, ImageOutcome outcome)
    {
        foreach (var s in segments) s.Add(image, outcome);
    }

    /// <summary>Folds the open segments into the persisted totals and opens new ones.</summary>
    public void Checkpoint()
    {
        for (int i = 0; i < metrics.Count; i++)
        {
            if (!totals.TryGetValue(metrics[i].Name, out var byMethod)) totals[metrics[i].Name] = byMethod = new(StringComparer.Ordinal);
            foreach (var (method, t) in segments[i].Totals())
            {
                if (!byMethod.TryGetValue(method, out var mine)) byMethod[method] = mine = new MetricTotals();
                mine.Add(t);
            }
            segments[i] = metrics[i].StartSegment();
        }
    }

    /// <summary>Every method's figures so far, including the open segment.</summary>
    public MethodSummary[] Summaries(IReadOnlyList<string> methods, int images)
    {
        var open = segments.Select(s => s.Totals()).ToArray();
        return methods.Select(method =>
        {
            var summary = new MethodSummary(method);
            for (int i = 0; i < metrics.Count; i++)
            {
                var t = Persisted(metrics[i], method)?.Copy() ?? new MetricTotals();
                if (open[i].TryGetValue(method, out var pending)) t.Add(pending);
                summary = metrics[i].Summarise(summary, t, images);
            }
            return summary;
        }).ToArray();
    }

    /// <summary>metrics.json in CLIP_benchmark's shape, from the persisted totals.</summary>
    public void WriteJson(string path, JobSettings job, IReadOnlyList<string> classNames, int images)
    {
        var entries = job.Methods.Select(method =>
        {
            var entry = new MethodMetrics(method);
            foreach (var m in metrics) entry = m.Report(entry, Persisted(m, method) ?? new MetricTotals(), images);
            return entry;
        }).Where(e => e.Retrieval is not null || e.Referring is not null).ToList();
        MetricsJson.Write(path, job.DatasetName, job.Model ?? Path.GetFileName(job.Weights ?? "unknown"),
            job.PretrainedTag ?? (job.Weights is null ? "random" : "custom"), entries, classNames);
    }

    MetricTotals? Persisted(IJobMetric metric, string method) =>
        totals.TryGetValue(metric.Name, out var byMethod) ? byMethod.GetValueOrDefault(method) : null;
}
