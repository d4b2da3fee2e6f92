using MaskInversion.Core.Imaging;

namespace MaskInversion.Core.Metrics;

/// <summary>Pixel intersection and union of two masks of the same size.</summary>
public static class MaskIoU
{
    public static (long Intersection, long Union) Counts(BinaryMask a, BinaryMask b)
    {
        if (a.Width != b.Width || a.Height != b.Height)
            throw new ArgumentException($"Mask sizes differ: {a.Width}×{a.Height} vs {b.Width}×{b.Height}.");
        long inter = 0, union = 0;
        var da = a.Data; var db = b.Data;
        for (int i = 0; i < da.Length; i++)
        {
            inter += da[i] & db[i];
            union += da[i] | db[i];
        }
        return (inter, union);
    }

    /// <summary>Intersection over union; two empty masks agree perfectly (1).</summary>
    public static double IoU(long intersection, long union) => union == 0 ? 1.0 : (double)intersection / union;

    public static double IoU(BinaryMask a, BinaryMask b)
    {
        var (i, u) = Counts(a, b);
        return IoU(i, u);
    }
}
