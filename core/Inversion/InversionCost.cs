namespace MaskInversion.Core.Inversion;

/// <summary>Analytic FLOP counts of the decomposed paths (multiply-adds ×2), used to choose a path per image
/// and to report achieved FLOP rates. The backbone is frozen, so a step's backward needs input gradients only:
/// about one more forward's worth of products.</summary>
public readonly record struct InversionCost(int Tokens, int Width, int MlpWidth, int Heads, int EmbedDim)
{
    public static InversionCost Of(ImageFeatures f) => new(f.Tokens, f.Width, (int)f.MlpSlope.shape[1], f.Heads, f.EmbedDim);

    double N => Tokens;
    double D => Width;

    /// <summary>One application of u ↦ Q for one mask (implicit): the folded W_oᵀdiag(γ)W₁ᵀ per token
    /// dominates; LN corrections, Gᵀu, W₂ᵀg are lower order.</summary>
    public double ImplicitMapForward => 2 * N * MlpWidth * D + 6 * N * MlpWidth + 4.0 * EmbedDim * D + 2.0 * D * MlpWidth;
    public double ExplicitMapForward => 2.0 * EmbedDim * N * D;
    /// <summary>Q Vᵀ per head plus the map and loss (small).</summary>
    public double AttentionGradientForward => 2 * N * N * D;

    /// <summary>The last block from A to the score for one mask: A·V, W_o, the MLP (ln_post and proj are lower order).</summary>
    public double VanillaBlockForward => 2 * N * N * D + 2 * N * D * D + 4 * N * D * MlpWidth;

    /// <summary>One vanilla map evaluation for one mask: the block forward plus the backward to A.</summary>
    public double VanillaMapFlops => 2 * VanillaBlockForward;

    /// <summary>One map evaluation (forward) for one mask.</summary>
    public double ForwardFlops(InversionPath path) => path switch
    {
        InversionPath.Vanilla => VanillaMapFlops,
        InversionPath.Implicit => ImplicitMapForward + AttentionGradientForward,
        InversionPath.Explicit => ExplicitMapForward + AttentionGradientForward,
        _ => throw new ArgumentOutOfRangeException(nameof(path)),
    };

    /// <summary>One optimizer step for one mask: forward plus the input-gradient backward. For vanilla, the block's
    /// forward, the create_graph backward to A and the double backward to the token (each about one block's worth).</summary>
    public double StepFlops(InversionPath path) => path == InversionPath.Vanilla ? 3 * VanillaBlockForward : 2 * ForwardFlops(path);

    /// <summary>Building the explicit map: the implicit map applied to the d unit vectors.</summary>
    public double ExplicitBuildFlops => EmbedDim * ImplicitMapForward;

    /// <summary>K steps plus the final map of the returned tokens, and the explicit build when used.</summary>
    public double TotalFlops(InversionPath path, int masks, int iterations) =>
        (path == InversionPath.Explicit ? ExplicitBuildFlops : 0) + (double)masks * (iterations * StepFlops(path) + ForwardFlops(path));

    /// <summary>Explicit when its one-off build is repaid by cheaper steps; implicit otherwise.</summary>
    public InversionPath Choose(int masks, int iterations, long explicitBytes, long budgetBytes) =>
        explicitBytes <= budgetBytes && TotalFlops(InversionPath.Explicit, masks, iterations) < TotalFlops(InversionPath.Implicit, masks, iterations)
            ? InversionPath.Explicit
            : InversionPath.Implicit;
}
