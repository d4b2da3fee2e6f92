namespace MaskInversion.Core.Metrics;

/// <summary>
/// Referring-expression counters that add: expressions, images, hits at 1/5/10, pixel intersections and unions, and
/// the sum of per-expression IoUs. The IoU sum is held exactly (fixed point at 2⁻⁹⁶ in three 32-bit limbs, each
/// summed in its own long), so totals of disjoint sets of expressions add in any order and grouping — a coordinator's
/// checkpoints, a resumed job, coordinator shards — and give the same figures, to the last bit, as one
/// <see cref="ReferringAccumulator"/> over all of them. A double sum would differ in its last bits with the order.
/// Exact for unions below 2⁴⁰ pixels; up to 2³¹ expressions.
/// </summary>
public sealed class ReferringTotals
{
    /// <summary>Length of <see cref="ToCounts"/>.</summary>
    public const int CountsLength = 10;
    const int FractionBits = 96;

    public long Expressions { get; private set; }
    public long Images { get; private set; }
    public long Hits1 { get; private set; }
    public long Hits5 { get; private set; }
    public long Hits10 { get; private set; }
    public long Intersection { get; private set; }
    public long Union { get; private set; }
    // Σ IoU · 2⁹⁶ = iou2·2⁶⁴ + iou1·2³² + iou0, each limb a plain sum of 32-bit pieces (no carries, so any order adds alike).
    long iou0, iou1, iou2;

    /// <summary>Counts one expression's outcome (not its image: see <see cref="AddImages"/>).</summary>
    public void Add(ReferringOutcome o)
    {
        Expressions++;
        if (o.Rank >= 0)
        {
            if (o.Rank < 1) Hits1++;
            if (o.Rank < 5) Hits5++;
            if (o.Rank < 10) Hits10++;
        }
        Intersection += o.Intersection;
        Union += o.Union;
        var scaled = (UInt128)Math.ScaleB(MaskIoU.IoU(o.Intersection, o.Union), FractionBits);   // exact: a power-of-two scale
        iou0 += (long)(ulong)(scaled & uint.MaxValue);
        iou1 += (long)(ulong)((scaled >> 32) & uint.MaxValue);
        iou2 += (long)(ulong)(scaled >> 64);
    }

    public void AddImages(long images) => Images += images;

    public void Add(ReferringTotals other)
    {
        Expressions += other.Expressions; Images += other.Images;
        Hits1 += other.Hits1; Hits5 += other.Hits5; Hits10 += other.Hits10;
        Intersection += other.Intersection; Union += other.Union;
        iou0 += other.iou0; iou1 += other.iou1; iou2 += other.iou2;
    }

    /// <summary>The exact sum of the expressions' IoUs, rounded once to a double.</summary>
    public double IoUSum => Math.ScaleB((double)(((Int128)iou2 << 64) + ((Int128)iou1 << 32) + iou0), -FractionBits);

    /// <summary>The figures: the one place they are derived, for an accumulator and for totals merged from many.</summary>
    public ReferringMetrics Compute()
    {
        double Frac(double v) => Expressions == 0 ? 0 : v / Expressions;
        return new ReferringMetrics(Frac(Hits1), Frac(Hits5), Frac(Hits10), Frac(IoUSum),
            Union == 0 ? 0 : (double)Intersection / Union, Expressions, (int)Images);
    }

    /// <summary>The counters as one vector that adds element-wise (how a job coordinator persists them).</summary>
    public long[] ToCounts() => [Expressions, Images, Hits1, Hits5, Hits10, Intersection, Union, iou0, iou1, iou2];

    public static ReferringTotals FromCounts(IReadOnlyList<long> c)
    {
        if (c.Count != CountsLength) throw new ArgumentException($"Referring totals have {CountsLength} counters, got {c.Count}.", nameof(c));
        return new ReferringTotals
        {
            Expressions = c[0], Images = c[1], Hits1 = c[2], Hits5 = c[3], Hits10 = c[4], Intersection = c[5], Union = c[6],
            iou0 = c[7], iou1 = c[8], iou2 = c[9],
        };
    }
}
