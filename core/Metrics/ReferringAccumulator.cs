using MaskInversion.Core.Imaging;

namespace MaskInversion.Core.Metrics;

/// <summary>One referring expression's outcome: where its true mask ranked among the image's masks, and the
/// pixel overlap of the top-ranked (predicted) mask with the true one.</summary>
/// <param name="Rank">0-based rank of the true mask, −1 when it was not ranked.</param>
/// <param name="PredictedMaskId">The top-ranked mask, when known (for per-expression outputs).</param>
public sealed record ReferringOutcome(string ExpressionId, int Rank, long Intersection, long Union, string? PredictedMaskId = null);

public sealed record ReferringImageRecord(string ImageId, IReadOnlyList<ReferringOutcome> Expressions);

/// <param name="MIoU">Mean over expressions of IoU(predicted mask, true mask).</param>
/// <param name="OIoU">Overall IoU: total intersection / total union over all expressions.</param>
public sealed record ReferringMetrics(double Acc1, double Acc5, double Acc10, double MIoU, double OIoU, long Expressions, int Images);

/// <summary>
/// Referring-expression retrieval metrics (Acc@1/5/10 of the correct mask, mIoU, oIoU), idempotent by
/// (image id, expression id) like <see cref="RetrievalAccumulator"/>; IoU is reduced to two counts at Add time
/// so partial results never carry masks. The counters are <see cref="ReferringTotals"/>, which add exactly, so
/// accumulators over disjoint parts give the same figures as one over the whole, whatever the order.
/// </summary>
public sealed class ReferringAccumulator
{
    readonly KeyedOutcomes<ReferringOutcome> outcomes = new();
    readonly ReferringTotals totals = new();

    public long ExpressionCount => outcomes.Count;
    public int ImageCount => outcomes.ImageCount;
    public int Conflicts => outcomes.Conflicts;

    /// <param name="rankedMaskIds">The image's mask ids, best match first.</param>
    /// <param name="predicted">The top-ranked mask; <paramref name="truth"/> the expression's true mask.</param>
    public bool Add(string imageId, string expressionId, string trueMaskId, IReadOnlyList<string> rankedMaskIds, BinaryMask predicted, BinaryMask truth)
    {
        int rank = -1;
        for (int i = 0; i < rankedMaskIds.Count; i++) if (rankedMaskIds[i] == trueMaskId) { rank = i; break; }
        var (inter, union) = MaskIoU.Counts(predicted, truth);
        return Add(imageId, new ReferringOutcome(expressionId, rank, inter, union, rankedMaskIds.Count > 0 ? rankedMaskIds[0] : null));
    }

    public bool Add(string imageId, ReferringOutcome o)
    {
        if (!outcomes.TryAdd(imageId, o.ExpressionId, o)) return false;
        totals.Add(o);
        return true;
    }

    public int Add(ReferringImageRecord record)
    {
        int added = 0;
        foreach (var e in record.Expressions) if (Add(record.ImageId, e)) added++;
        return added;
    }

    public void Merge(ReferringAccumulator other)
    {
        foreach (var r in other.ImageRecords()) Add(r);
    }

    public IEnumerable<ReferringImageRecord> ImageRecords() =>
        outcomes.Images().Select(i => new ReferringImageRecord(i.ImageId, i.Items.ToList()));

    public static ReferringAccumulator FromImageRecords(IEnumerable<ReferringImageRecord> records)
    {
        var acc = new ReferringAccumulator();
        foreach (var r in records) acc.Add(r);
        return acc;
    }

    /// <summary>A copy of the counters (images included), to add to others.</summary>
    public ReferringTotals Totals()
    {
        var copy = new ReferringTotals();
        copy.Add(totals);
        copy.AddImages(ImageCount);
        return copy;
    }

    public ReferringMetrics Compute() => Totals().Compute();
}
