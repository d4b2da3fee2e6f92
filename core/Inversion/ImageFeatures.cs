using MaskInversion.Core.Models;
using MaskInversion.Core.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace MaskInversion.Core.Inversion;

/// <summary>Everything one image contributes to its masks' inversions, computed by a single forward
/// pass and kept while the masks are worked (DESIGN.md §2). Owns its tensors; dispose when done.
///
/// For the last pre-LN block, ∂s/∂A_{h,i,j} = q_{h,i}·v_{h,j} with q = W_oᵀ r_i and
/// r_i = (1/n)(I + J_i)ᵀ Gᵀu, where only u depends on the mask. This class holds V, the image's own
/// embedding, and the per-token quantities that apply u ↦ Q ("implicit"), and can materialise that
/// linear map once as a (d, n·D) matrix ("explicit").</summary>
public sealed class ImageFeatures : IDisposable
{
    /// <summary>Input to the last block, (n, D): what the vanilla path replicates per mask.</summary>
    public Tensor LastBlockInput { get; }
    /// <summary>Last block's attention values, (h, n, d_h).</summary>
    public Tensor Values { get; }
    /// <summary>Values of the patch tokens only, (h, n−1, d_h): LeGrad reads the columns j ≥ 1 alone.</summary>
    public Tensor PatchValues { get; }
    /// <summary>The image's own embedding LET₀ = ln_post(x_cls) @ proj, (d).</summary>
    public Tensor Embedding { get; }
    /// <summary>Rows ∂ẑ_k/∂c for k &lt; d: (d, D). g = u @ ScoreJacobian is ∂s/∂c.</summary>
    public Tensor ScoreJacobian { get; }
    /// <summary>act′ at the MLP's pre-activations, (n, 4D).</summary>
    public Tensor MlpSlope { get; }
    /// <summary>1/σ of LN2 per token, (n, 1).</summary>
    public Tensor Ln2InvStd { get; }
    /// <summary>act′(a_i) ⊙ c₂ᵢ with c₂ᵢ = W₁(γ₂ ⊙ x̂_i)/D, (n, 4D): LN2's x̂-correction as one product with W₂ᵀg.</summary>
    public Tensor SlopeNormalizedMean { get; }
    /// <summary>act′(a_i) ⊙ c₁ with c₁ = W₁γ₂/D, (n, 4D): LN2's mean-correction as one product with W₂ᵀg.</summary>
    public Tensor SlopeGammaMean { get; }
    /// <summary>x̂_i W_oᵀ per token, (n, D).</summary>
    public Tensor NormalizedOut { get; }
    /// <summary>Gᵀ W_o rows: (d, D), the identity part of (I + J_i)ᵀ already through W_o.</summary>
    public Tensor ScoreJacobianOut { get; }
    public LastBlockDecomposition Decomposition { get; }

    /// <summary>The materialised map u ↦ Q, (d, n·D), once <see cref="BuildExplicitMap"/> ran.</summary>
    public Tensor? ExplicitMap { get; private set; }

    public VisionTransformer Visual { get; }
    public int Tokens { get; }
    public int Width { get; }
    public int Heads { get; }
    public int HeadDim { get; }
    public int EmbedDim { get; }
    public int PatchSize { get; }
    public int GridSize { get; }
    public int ImageSize => GridSize * PatchSize;

    ImageFeatures(LastBlockDecomposition decomposition, Tensor lastInput, Tensor values, Tensor embedding, Tensor scoreJacobian,
        Tensor scoreJacobianOut, Tensor mlpSlope, Tensor ln2InvStd, Tensor slopeNormalizedMean, Tensor slopeGammaMean, Tensor normalizedOut)
    {
        Decomposition = decomposition;
        Visual = decomposition.Visual;
        (LastBlockInput, Values, Embedding, ScoreJacobian, ScoreJacobianOut, MlpSlope, Ln2InvStd, SlopeNormalizedMean, SlopeGammaMean, NormalizedOut) =
            (lastInput, values, embedding, scoreJacobian, scoreJacobianOut, mlpSlope, ln2InvStd, slopeNormalizedMean, slopeGammaMean, normalizedOut);
        var visual = Visual;
        PatchValues = values.narrow(1, 1, values.shape[1] - 1).contiguous().DetachFromDisposeScope();
        Tokens = (int)lastInput.shape[0];
        Width = (int)lastInput.shape[1];
        Heads = (int)values.shape[0];
        HeadDim = (int)values.shape[2];
        EmbedDim = (int)embedding.shape[0];
        PatchSize = visual.Config.PatchSize;
        GridSize = (int)Math.Round(Math.Sqrt(Tokens - 1));
    }

    /// <summary>Runs the backbone once on one preprocessed image (1, 3, S, S) and keeps what the
    /// inversions need. Synchronous: call on the thread that owns tensor work.</summary>
    public static ImageFeatures Compute(LastBlockDecomposition decomposition, Tensor pixels)
    {
        var visual = decomposition.Visual;
        if (pixels.dim() != 4 || pixels.shape[0] != 1)
            throw new ArgumentException($"Expected one image (1, 3, S, S), got ({string.Join(", ", pixels.shape)}).");
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var block = visual.LastBlock;

        var x = visual.TokensBefore(pixels, visual.Layers - 1)[0]; // (n, D)
        var n = x.shape[0];

        // Last block forward, keeping the pieces the decomposition needs.
        var (q, k, v) = block.attn.Project(block.ln_1.forward(x.unsqueeze(0)));
        var probs = block.attn.Probabilities(q, k);
        var xMid = x.Plus(block.attn.Combine(probs, v)[0]);
        var (xhat2, invStd2) = LayerNormStatistics(xMid, block.ln_2.eps);
        var y2 = block.ln_2.forward(xMid);
        var pre = torch.nn.functional.linear(y2, block.mlp.c_fc.weight!, block.mlp.c_fc.bias);
        var xOut = xMid.Plus(block.mlp.forward(y2));

        var slope = ActivationSlope(block.mlp, pre);

        // Pooled score path: c = mean_i x_out_i, z = ln_post(c) @ proj, ẑ = z/‖z‖.
        var c = xOut.mean([0]);
        var (xhatPost, invStdPost) = LayerNormStatistics(c.unsqueeze(0), visual.ln_post.eps);
        var z = torch.matmul(visual.ln_post.forward(c.unsqueeze(0)), visual.proj)[0];
        var zNorm = z.norm();
        var zHat = z / zNorm;
        // ∂ẑ/∂z = (I − ẑẑᵀ)/‖z‖ (symmetric); rows of ∂ẑ/∂ln = that @ projᵀ; then back through ln_post.
        var d = zHat.shape[0];
        var dzHat = (torch.eye(d, dtype: z.dtype, device: z.device) - torch.outer(zHat, zHat)) / zNorm;
        var dLn = torch.matmul(dzHat, visual.proj.t()); // (d, D)
        var scoreJac = LayerNormBackward(dLn, xhatPost, invStdPost, visual.ln_post.weight!);

        var embedding = torch.matmul(visual.ln_post.forward(xOut.narrow(0, 0, 1)), visual.proj)[0];

        var wo = block.attn.out_proj.weight!;
        using var width = ((double)xhat2.shape[1]).ToScalar();
        var mlpNormMean = torch.matmul(xhat2 * block.ln_2.weight!, block.mlp.c_fc.weight!.t()) / width;

        return new ImageFeatures(decomposition,
            x.contiguous().DetachFromDisposeScope(), v[0].contiguous().DetachFromDisposeScope(),
            embedding.DetachFromDisposeScope(), scoreJac.contiguous().DetachFromDisposeScope(),
            torch.matmul(scoreJac, wo).contiguous().DetachFromDisposeScope(),
            slope.contiguous().DetachFromDisposeScope(), invStd2.contiguous().DetachFromDisposeScope(),
            (slope * mlpNormMean).contiguous().DetachFromDisposeScope(), (slope * decomposition.MlpGammaMean).contiguous().DetachFromDisposeScope(),
            torch.matmul(xhat2, wo).contiguous().DetachFromDisposeScope());
    }

    /// <summary>x̂ and 1/σ of a LayerNorm over the last dimension (biased variance, as torch).</summary>
    internal static (Tensor xhat, Tensor invStd) LayerNormStatistics(Tensor x, double eps)
    {
        var mean = x.mean([-1], keepdim: true);
        var centered = x - mean;
        using var epsilon = eps.ToScalar();
        var invStd = torch.rsqrt((centered * centered).mean([-1], keepdim: true).Plus_(epsilon));
        return (centered * invStd, invStd);
    }

    /// <summary>Vector-Jacobian product of LayerNorm: rows w (…, D) ↦ wᵀ ∂LN/∂x, with x̂, 1/σ broadcastable.</summary>
    internal static Tensor LayerNormBackward(Tensor w, Tensor xhat, Tensor invStd, Tensor gamma)
    {
        var wg = w * gamma;
        return invStd * (wg - wg.mean([-1], keepdim: true) - xhat * (wg * xhat).mean([-1], keepdim: true));
    }

    /// <summary>Elementwise derivative of the MLP activation at <paramref name="pre"/>, taken by autograd
    /// once per image so QuickGELU and exact GELU share one code path.</summary>
    static Tensor ActivationSlope(Mlp mlp, Tensor pre)
    {
        using var enable = torch.enable_grad();
        using var a = pre.detach().requires_grad_(true);
        using var y = mlp.Activation(a);
        using var ones = torch.ones_like(y);
        var g = torch.autograd.grad([y], [a], [ones]);
        return g[0].detach();
    }

    /// <summary>Applies u ↦ Q for rows U (M, d): returns Q (M, n, D) (head h in columns h·d_h…).
    /// Linear in U and differentiable, so autograd gives ∂loss/∂U through it.</summary>
    public Tensor ApplyImplicit(Tensor units)
    {
        using var scope = torch.NewDisposeScope();
        var block = Visual.LastBlock;
        var dec = Decomposition;
        var g = torch.matmul(units, ScoreJacobian);                    // (M, D)   ∂s/∂c
        var t = torch.matmul(g, block.mlp.c_proj.weight!);             // (M, 4D)  W₂ᵀg, shared by all tokens
        var w = t.unsqueeze(1) * MlpSlope.unsqueeze(0);                // (M, n, 4D) act′ ⊙ W₂ᵀg: the one big temporary
        var main = torch.matmul(w, dec.FoldedMlpOut);                  // (M, n, D) W_oᵀ diag(γ₂) W₁ᵀ w
        // LN2's corrections need w·c₁ and w·c₂ᵢ per token: with act′ folded in they are (M, 4D) × (4D, n) products.
        var meanTerm = torch.matmul(t, SlopeGammaMean.t()).unsqueeze(-1) * dec.OutColumnSums;
        var xhatTerm = torch.matmul(t, SlopeNormalizedMean.t()).unsqueeze(-1) * NormalizedOut;
        var identity = torch.matmul(units, ScoreJacobianOut).unsqueeze(1);                     // W_oᵀ g
        using var perToken = (1.0 / Tokens).ToScalar();
        var q = identity.Plus(Ln2InvStd * (main - meanTerm - xhatTerm)).mul_(perToken);
        return q.MoveToOuterDisposeScope();
    }

    /// <summary>Tensor memory this image holds, including the explicit map once built.</summary>
    public long ApproximateBytes =>
        new[] { LastBlockInput, Values, PatchValues, Embedding, ScoreJacobian, ScoreJacobianOut, MlpSlope, Ln2InvStd, SlopeNormalizedMean, SlopeGammaMean, NormalizedOut }
            .Sum(t => t.NumberOfElements * t.ElementSize) + (ExplicitMap is null ? 0 : ExplicitMapBytes);

    /// <summary>Bytes the explicit map takes (d·n·D elements).</summary>
    public long ExplicitMapBytes => (long)EmbedDim * Tokens * Width * LastBlockInput.ElementSize;

    /// <summary>Materialises u ↦ Q as a (d, n·D) matrix by pushing the identity through the implicit map
    /// in row chunks (bounded temporary memory). Idempotent.</summary>
    public void BuildExplicitMap(int chunkRows = 8)
    {
        if (ExplicitMap is not null) return;
        using var noGrad = torch.no_grad();
        var map = torch.empty(EmbedDim, (long)Tokens * Width, dtype: LastBlockInput.dtype, device: LastBlockInput.device);
        using (var eye = torch.eye(EmbedDim, dtype: LastBlockInput.dtype, device: LastBlockInput.device))
        {
            for (int start = 0; start < EmbedDim; start += chunkRows)
            {
                using var scope = torch.NewDisposeScope();
                int rows = Math.Min(chunkRows, EmbedDim - start);
                var q = ApplyImplicit(eye.narrow(0, start, rows));
                map.narrow(0, start, rows).copy_(q.reshape(rows, -1));
            }
        }
        // The features own the map: a caller's dispose scope (e.g. one per method in RegionEngine) must not free it.
        ExplicitMap = map.DetachFromDisposeScope();
    }

    /// <summary>Q (M, n, D) from the explicit map: one (M, d) × (d, n·D) product, written into <paramref name="into"/>
    /// (M, n·D) when given — a buffer reused across steps, where a fresh tensor this size would be a fresh mmap
    /// whose page faults cost as much as the product.</summary>
    public Tensor ApplyExplicit(Tensor units, Tensor? into = null)
    {
        if (ExplicitMap is null) throw new InvalidOperationException("BuildExplicitMap has not run for this image.");
        var q = into is null ? torch.matmul(units, ExplicitMap) : into.addmm_(units, ExplicitMap, beta: 0, alpha: 1);
        return q.view(units.shape[0], Tokens, Width);
    }

    /// <summary>∂s/∂A from Q (M, n, D): (M, h, n, n), per head q_{h,i}·v_{h,j}.</summary>
    public Tensor AttentionGradient(Tensor q)
    {
        using var scope = torch.NewDisposeScope();
        var perHead = q.view(q.shape[0], Tokens, Heads, HeadDim).permute(0, 2, 1, 3); // (M, h, n, d_h)
        return torch.matmul(perHead, Values.transpose(-1, -2)).MoveToOuterDisposeScope(); // (M, h, n, n)
    }

    /// <summary>LeGrad's patch relevance straight from Q (M, n, D), without the autograd graph of the generic path:
    /// returns 1/(h·n) Σ_h Σ_i ReLU(q_{h,i}·v_{h,j}) for j ≥ 1, (M, n−1), and the rectified scores (M, h, n, n−1),
    /// which <see cref="PatchRelevanceBackward"/> consumes (their sign is the ReLU's mask).</summary>
    public (Tensor Relevance, Tensor Scores) PatchRelevance(Tensor q)
    {
        using var scope = torch.NewDisposeScope();
        long m = q.shape[0];
        var perHead = q.view(m, Tokens, Heads, HeadDim).permute(0, 2, 1, 3);      // (M, h, n, d_h)
        var scores = torch.matmul(perHead, PatchValues.transpose(-1, -2));        // (M, h, n, n−1)
        scores.clamp_min_(Scalars.Zero);
        using var count = (Heads * (double)Tokens).ToScalar();
        var relevance = scores.sum([1, 2]).div_(count);
        return (relevance.MoveToOuterDisposeScope(), scores.MoveToOuterDisposeScope());
    }

    /// <summary>Writes ∂/∂Q (M, n, D) of a loss whose gradient w.r.t. the patch relevance is
    /// <paramref name="dRelevance"/> (M, n−1) into <paramref name="dq"/>. Works in place on <paramref name="scores"/>
    /// (from <see cref="PatchRelevance"/>): the ReLU's backward is the sign of the rectified scores.</summary>
    public void PatchRelevanceBackward(Tensor scores, Tensor dRelevance, Tensor dq)
    {
        using var scope = torch.NewDisposeScope();
        long m = scores.shape[0];
        using var count = (Heads * (double)Tokens).ToScalar();
        scores.sign_().mul_((dRelevance / count).view(m, 1, 1, Tokens - 1));
        var perHead = torch.matmul(scores, PatchValues);                          // (M, h, n, d_h)
        dq.view(m, Tokens, Heads, HeadDim).copy_(perHead.permute(0, 2, 1, 3));
    }

    public void Dispose()
    {
        PatchValues.Dispose();
        LastBlockInput.Dispose(); Values.Dispose(); Embedding.Dispose(); ScoreJacobian.Dispose();
        ScoreJacobianOut.Dispose(); MlpSlope.Dispose(); Ln2InvStd.Dispose(); SlopeNormalizedMean.Dispose(); SlopeGammaMean.Dispose(); NormalizedOut.Dispose();
        ExplicitMap?.Dispose();
        ExplicitMap = null;
    }
}
