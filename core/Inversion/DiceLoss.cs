using MaskInversion.Core.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace MaskInversion.Core.Inversion;

/// <summary>MaskInversion's objective per mask: soft Dice 1 − (2ΣE·m + 1)/(ΣE + Σm + 1) with the map E resized to the
/// mask's resolution, plus α·(1 − cos(LET, LET₀)). Returned per mask (M) so callers sum them: a mean would couple
/// masks. <see cref="MaskTargets"/> applies it to masks of mixed sizes.</summary>
public static class DiceLoss
{
    /// <summary>Resizes maps (M, S, S) to the masks' size (M, H, W) when they differ: bilinear, align_corners false,
    /// no antialias, as the reference's <c>F.interpolate(expl_map, size=mask.shape[-2:], mode='bilinear')</c>.</summary>
    public static Tensor ResizeToMasks(Tensor maps, Tensor masks)
    {
        if (maps.shape[1] == masks.shape[1] && maps.shape[2] == masks.shape[2]) return maps.alias();
        return torch.nn.functional.interpolate(maps.unsqueeze(1), size: [masks.shape[1], masks.shape[2]],
            mode: InterpolationMode.Bilinear, align_corners: false).squeeze(1);
    }

    /// <summary>Soft Dice loss per mask, maps already at mask resolution.</summary>
    public static Tensor Dice(Tensor maps, Tensor masks)
    {
        using var scope = torch.NewDisposeScope();
        var inter = (maps * masks).sum([1, 2]);
        var total = maps.sum([1, 2]).Plus(masks.sum([1, 2]));
        // 1 − (2·inter + 1)/(total + 1), every Scalar held (Scalars).
        return (inter.mul(Scalars.Two).Plus(Scalars.One) / total.Plus(Scalars.One)).SubtractedFrom(Scalars.One).MoveToOuterDisposeScope();
    }

    /// <summary>The regulariser α(1 − cos(embeddings, initial)) per row, which keeps a token near the image's own
    /// embedding (α = 5 for referring expressions).</summary>
    public static Tensor Anchor(Tensor embeddings, Tensor initial, double alpha)
    {
        using var scope = torch.NewDisposeScope();
        using var a = alpha.ToScalar();
        return torch.nn.functional.cosine_similarity(embeddings, initial, dim: 1).SubtractedFrom(Scalars.One).mul_(a).MoveToOuterDisposeScope();
    }
}
