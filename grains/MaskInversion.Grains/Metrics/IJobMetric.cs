using MaskInversion.Core.Datasets;
using MaskInversion.Core.Output;

namespace MaskInversion.Grains;

/// <summary>
/// One dataset-wide metric of a job, as the coordinator merges it: every settled image's outcome goes into the
/// current segment; a checkpoint folds the segment's per-method <see cref="MetricTotals"/> into the persisted ones
/// (a crash drops an unfolded segment, whose images are then redone); results and metrics.json are described
/// from totals. Registered in <see cref="JobMetricRegistry"/>: class retrieval, inversion Dice and referring
/// expressions (Acc, mIoU, oIoU from core's ReferringAccumulator). Every metric sees every job's outcomes; one that
/// counts nothing for a job reports nothing.
/// </summary>
public interface IJobMetric
{
    /// <summary>Stable name: the persisted totals are keyed by it.</summary>
    string Name { get; }

    IJobMetricSegment StartSegment();

    /// <summary>This metric's figures for one method, added to the job's results.</summary>
    MethodSummary Summarise(MethodSummary summary, MetricTotals totals, int images);

    /// <summary>This metric's entry for one method in metrics.json (unchanged when it writes none).</summary>
    MethodMetrics Report(MethodMetrics entry, MetricTotals totals, int images);
}

/// <summary>Outcomes gathered since the last checkpoint, idempotent per (image, item).</summary>
public interface IJobMetricSegment
{
    void Add(DatasetImage image, ImageOutcome outcome);

    /// <summary>Per method, this segment's additive totals.</summary>
    IReadOnlyDictionary<string, MetricTotals> Totals();
}
