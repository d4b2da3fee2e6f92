using MaskInversion.Core.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace MaskInversion.Core.Inversion;

/// <summary>
/// The masks one inversion chunk fits, each at its own resolution (the reference resizes the map to the mask, never
/// the mask to the map). Masks are held as runs of equal size, in mask order, so a run is one (count, H, W) tensor and
/// the Dice of a range of masks is one bilinear resize and one reduction per run it touches. Owns its tensors.
/// </summary>
public sealed class MaskTargets : IDisposable
{
    readonly List<(long Start, Tensor Masks)> runs;

    public long Count { get; }

    /// <summary>H·W of the largest mask: what the Dice tail of one mask costs per step, in elements.</summary>
    public long MaxPixels => runs.Max(r => r.Masks.shape[1] * r.Masks.shape[2]);

    MaskTargets(List<(long Start, Tensor Masks)> runs, long count) => (this.runs, Count) = (runs, count);

    /// <summary>Masks (M, H, W) all of one size; the values are copied as <paramref name="dtype"/>.</summary>
    public static MaskTargets FromBatch(Tensor masks, ScalarType dtype, Device device)
    {
        if (masks.dim() != 3) throw new ArgumentException($"Masks must have shape (M, H, W); got ({string.Join(", ", masks.shape)}).");
        if (masks.shape[0] == 0) throw new ArgumentException("No masks to invert.");
        if (!masks.is_floating_point()) throw new ArgumentException($"Masks must be floating point in [0, 1]; got {masks.dtype}.");
        using var scope = torch.NewDisposeScope();
        return new MaskTargets([(0, masks.to(dtype, device).contiguous().DetachFromDisposeScope())], masks.shape[0]);
    }

    /// <summary>Masks (H_m, W_m) of any sizes, in the given order; consecutive masks of one size share a run (callers
    /// sort by size when they can, see <see cref="MaskInverter.Invert(ImageFeatures, IReadOnlyList{Tensor}, InversionOptions)"/>).</summary>
    public static MaskTargets FromList(IReadOnlyList<Tensor> masks, ScalarType dtype, Device device)
    {
        Validate(masks);
        var runs = new List<(long, Tensor)>();
        for (int start = 0; start < masks.Count;)
        {
            int end = start + 1;
            while (end < masks.Count && SameSize(masks[end], masks[start])) end++;
            using var scope = torch.NewDisposeScope();
            var run = torch.stack(masks.Skip(start).Take(end - start).ToList()).to(dtype, device).contiguous();
            runs.Add((start, run.DetachFromDisposeScope()));
            start = end;
        }
        return new MaskTargets(runs, masks.Count);
    }

    /// <summary>Checks a mask list, naming the first bad mask by its position.</summary>
    public static void Validate(IReadOnlyList<Tensor> masks)
    {
        if (masks.Count == 0) throw new ArgumentException("No masks to invert.");
        for (int i = 0; i < masks.Count; i++)
        {
            var m = masks[i];
            if (m.dim() != 2) throw new ArgumentException($"Mask {i} must have shape (H, W); got ({string.Join(", ", m.shape)}).");
            if (!m.is_floating_point()) throw new ArgumentException($"Mask {i} must be floating point in [0, 1]; got {m.dtype}.");
            if (m.shape[0] == 0 || m.shape[1] == 0) throw new ArgumentException($"Mask {i} is empty ({m.shape[0]}×{m.shape[1]}).");
        }
    }

    static bool SameSize(Tensor a, Tensor b) => a.shape[0] == b.shape[0] && a.shape[1] == b.shape[1];

    /// <summary>The masks [start, start + count) as targets of their own (views; dispose them too).</summary>
    public MaskTargets Narrow(long start, long count)
    {
        if (start < 0 || count <= 0 || start + count > Count) throw new ArgumentOutOfRangeException(nameof(start), $"[{start}, {start + count}) is outside 0…{Count}.");
        var parts = new List<(long, Tensor)>();
        foreach (var (runStart, masks) in runs)
        {
            long from = Math.Max(start, runStart), to = Math.Min(start + count, runStart + masks.shape[0]);
            if (from < to) parts.Add((from - start, masks.narrow(0, from - runStart, to - from).DetachFromDisposeScope()));
        }
        return new MaskTargets(parts, count);
    }

    /// <summary>Soft Dice loss per mask (M) of maps (M, S, S): each map resized bilinearly to its mask's size first.</summary>
    public Tensor Dice(Tensor maps)
    {
        if (maps.shape[0] != Count) throw new ArgumentException($"{maps.shape[0]} maps for {Count} masks.");
        using var scope = torch.NewDisposeScope();
        var parts = runs.Select(r =>
        {
            var slice = maps.narrow(0, r.Start, r.Masks.shape[0]);
            return DiceLoss.Dice(DiceLoss.ResizeToMasks(slice, r.Masks), r.Masks);
        }).ToList();
        return (parts.Count == 1 ? parts[0] : torch.cat(parts, 0)).MoveToOuterDisposeScope();
    }

    /// <summary>The full per-mask loss: Dice + α(1 − cos(embeddings, initial)).</summary>
    public Tensor Loss(Tensor maps, Tensor embeddings, Tensor initial, double alpha)
    {
        using var scope = torch.NewDisposeScope();
        var loss = Dice(maps);
        if (alpha != 0) loss = loss.Plus(DiceLoss.Anchor(embeddings, initial, alpha));
        return loss.MoveToOuterDisposeScope();
    }

    public void Dispose()
    {
        foreach (var (_, masks) in runs) masks.Dispose();
    }
}
