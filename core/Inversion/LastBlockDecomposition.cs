using MaskInversion.Core.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace MaskInversion.Core.Inversion;

/// <summary>Image-independent constants of the gradient decomposition for a frozen last block.
///
/// Writing w_i = (W₂ᵀg ⊙ act′(a_i)) and using LayerNorm's backward (a rank-2 correction of diag(γ)/σ_i),
///   q_i = (1/n)[ W_oᵀg + (1/σ_i)( w_i·C − (w_i·c₁)·o₁ − (w_i·c₂ᵢ)·x̂_iW_oᵀ ) ]   (rows, head-major)
/// with C = W₁ᵀ… folded as C = W₁ diag(γ₂) W_o (4D × D), c₁ = W₁γ₂/D, o₁ = 1ᵀW_o.
/// Folding W_o into C removes one D×D product per token from every step and from the explicit build.
/// Rebuild it if the model's weights change.</summary>
public sealed class LastBlockDecomposition : IDisposable
{
    public VisionTransformer Visual { get; }
    /// <summary>W₁ diag(γ₂) W_o, (4D, D).</summary>
    public Tensor FoldedMlpOut { get; }
    /// <summary>W₁ γ₂ / D, (4D).</summary>
    public Tensor MlpGammaMean { get; }
    /// <summary>1ᵀ W_o, (D).</summary>
    public Tensor OutColumnSums { get; }

    public LastBlockDecomposition(VisionTransformer visual)
    {
        Visual = visual;
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var block = visual.LastBlock;
        var w1 = block.mlp.c_fc.weight!;            // (4D, D)
        var wo = block.attn.out_proj.weight!;       // (D, D)
        var gamma = block.ln_2.weight!;             // (D)
        using var width = ((double)gamma.shape[0]).ToScalar();
        FoldedMlpOut = torch.matmul(w1 * gamma, wo).contiguous().DetachFromDisposeScope();
        MlpGammaMean = (torch.matmul(w1, gamma) / width).DetachFromDisposeScope();
        OutColumnSums = wo.sum([0]).DetachFromDisposeScope();
    }

    public void Dispose()
    {
        FoldedMlpOut.Dispose();
        MlpGammaMean.Dispose();
        OutColumnSums.Dispose();
    }
}
