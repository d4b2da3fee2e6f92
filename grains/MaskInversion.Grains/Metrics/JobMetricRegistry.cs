namespace MaskInversion.Grains;

/// <summary>The metrics every job's coordinator merges: the <see cref="IJobMetric"/>s registered in the silo's
/// services (<see cref="SiloBuilderExtensions.AddJobMetric{T}"/>; AddMaskInversion registers the built-ins). Every coordinator silo must
/// register the same set, since persisted totals are keyed by metric name.</summary>
public sealed class JobMetricRegistry
{
    public IReadOnlyList<IJobMetric> All { get; }

    public JobMetricRegistry(IEnumerable<IJobMetric> metrics)
    {
        All = metrics.ToList();
        var duplicate = All.GroupBy(m => m.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null) throw new ArgumentException($"Two job metrics are named '{duplicate.Key}'.");
    }
}
