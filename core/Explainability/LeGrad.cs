using TorchSharp;
using static TorchSharp.torch;

namespace MaskInversion.Core.Explainability;

/// <summary>LeGrad on the last block: the explainability map from ∂s/∂A (A = attention probabilities
/// after softmax). E_j = 1/(h·n) Σ_h Σ_i ReLU(∂s/∂A_{h,i,j}) over patch columns j ≥ 1, reshaped to the
/// patch grid, bilinearly upsampled by the patch size, min-max normalised per map.</summary>
public static class LeGrad
{
    /// <summary>Smallest max−min range divided by, so a constant map becomes all zeros instead of NaN.</summary>
    public const double MinRange = 1e-12;
    static readonly Scalar minRange = MinRange.ToScalar(); // rooted: see Torch/Scalars

    /// <summary>Maps from gradients of shape (M, h, n, n) → (M, grid·patch, grid·patch), differentiable.</summary>
    public static Tensor MapFromAttentionGradient(Tensor grad, int patchSize)
    {
        using var scope = torch.NewDisposeScope();
        var m = grad.shape[0];
        var n = grad.shape[2];
        // mean over heads then rows == 1/(h·n) Σ_h Σ_i.
        var relevance = torch.nn.functional.relu(grad).mean([1, 2]); // (M, n)
        return PatchRelevanceToMap(relevance.narrow(1, 1, n - 1), patchSize).MoveToOuterDisposeScope();
    }

    /// <summary>Patch relevances (M, g²) → upsampled, min-max normalised maps (M, g·p, g·p).</summary>
    public static Tensor PatchRelevanceToMap(Tensor patchRelevance, int patchSize)
    {
        using var scope = torch.NewDisposeScope();
        var m = patchRelevance.shape[0];
        var g = (int)Math.Round(Math.Sqrt(patchRelevance.shape[1]));
        if (g * g != patchRelevance.shape[1])
            throw new ArgumentException($"{patchRelevance.shape[1]} patch tokens do not form a square grid.");
        var grid = patchRelevance.reshape(m, 1, g, g);
        var up = torch.nn.functional.interpolate(grid, scale_factor: [patchSize, patchSize], mode: InterpolationMode.Bilinear, align_corners: false)
            .squeeze(1);
        return MinMax(up).MoveToOuterDisposeScope();
    }

    /// <summary>Per-map min-max normalisation over the last two dimensions, guarded against constant maps.</summary>
    public static Tensor MinMax(Tensor maps)
    {
        using var scope = torch.NewDisposeScope();
        var flat = maps.flatten(-2);
        var min = flat.amin([-1], keepdim: true).unsqueeze(-1);
        var max = flat.amax([-1], keepdim: true).unsqueeze(-1);
        return ((maps - min) / (max - min).clamp_min(minRange)).MoveToOuterDisposeScope();
    }
}
