using MaskInversion.Core.Datasets;
using System.Text.Json.Nodes;
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

    /// <summary>The persisted totals plus the open segment, as a copy (what a shard reports to its coordinator).</summary>
    public Dictionary<string, Dictionary<string, MetricTotals>> Current()
    {
        var current = Sum([totals]);
        for (int i = 0; i < metrics.Count; i++)
            foreach (var (method, t) in segments[i].Totals()) Add(current, metrics[i].Name, method, t);
        return current;
    }

    /// <summary>Totals of disjoint sets of outcomes (a job's shards) added into new totals: exact, in any order.</summary>
    public static Dictionary<string, Dictionary<string, MetricTotals>> Sum(IEnumerable<Dictionary<string, Dictionary<string, MetricTotals>>> parts)
    {
        var sum = new Dictionary<string, Dictionary<string, MetricTotals>>(StringComparer.Ordinal);
        foreach (var part in parts)
            foreach (var (metric, byMethod) in part)
                foreach (var (method, t) in byMethod) Add(sum, metric, method, t);
        return sum;
    }

    static void Add(Dictionary<string, Dictionary<string, MetricTotals>> into, string metric, string method, MetricTotals t)
    {
        if (!into.TryGetValue(metric, out var byMethod)) into[metric] = byMethod = new(StringComparer.Ordinal);
        if (!byMethod.TryGetValue(method, out var mine)) byMethod[method] = mine = new MetricTotals();
        mine.Add(t);
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

    /// <summary>metrics.json in CLIP_benchmark's shape, from the persisted totals, each entry with the job's state (and
    /// error) and the settings that produced it.</summary>
    public void WriteJson(string path, JobSettings job, IReadOnlyList<string> classNames, int images, JobState state, string? error)
    {
        var entries = job.Methods.Select(method =>
        {
            var entry = new MethodMetrics(method);
            foreach (var m in metrics) entry = m.Report(entry, Persisted(m, method) ?? new MetricTotals(), images);
            return entry;
        }).Where(e => e.Retrieval is not null || e.Referring is not null).ToList();
        MetricsJson.Write(path, job.DatasetName, ModelName(job), job.PretrainedTag ?? (job.Weights is null ? "random" : "custom"), entries, classNames,
            run: Run(job, state, error));
    }

    /// <summary>The model as a name, never a path of the silo's file system: a built-in name as given, else the config
    /// or checkpoint file's name without its folder and extension.</summary>
    public static string ModelName(JobSettings job) =>
        job.Model is { } model ? (model.Contains('/') || model.Contains('\\') || model.EndsWith(".json", StringComparison.OrdinalIgnoreCase)
                ? Path.GetFileNameWithoutExtension(model) : model)
            : job.Weights is { } weights ? Path.GetFileNameWithoutExtension(weights) : "unknown";

    /// <summary>What produced the figures: the job's state and the settings a reader needs to compare runs (the
    /// inversion's K, lr, α, weight decay and path; image size, resize, templates; dataset format and split).</summary>
    static JsonObject Run(JobSettings job, JobState state, string? error)
    {
        var run = new JsonObject { ["state"] = state.ToString().ToLowerInvariant() };
        if (error is not null) run["error"] = error;
        run["config"] = new JsonObject
        {
            ["format"] = job.Format, ["split"] = job.Split, ["max_images"] = job.MaxImages,
            ["model_family"] = job.ModelFamily, ["weights"] = job.Weights is null ? null : Path.GetFileName(job.Weights),
            ["image_size"] = job.ImageSize, ["resize"] = job.Resize, ["templates"] = job.Templates, ["seed"] = job.Seed,
            ["methods"] = new JsonArray(job.Methods.Select(m => (JsonNode?)JsonValue.Create(m)).ToArray()),
            ["iterations"] = job.Iterations, ["lr"] = job.LearningRate, ["alpha"] = job.Alpha, ["weight_decay"] = job.WeightDecay,
            ["inversion_path"] = job.InversionPath,
        };
        return run;
    }

    MetricTotals? Persisted(IJobMetric metric, string method) =>
        totals.TryGetValue(metric.Name, out var byMethod) ? byMethod.GetValueOrDefault(method) : null;
}
