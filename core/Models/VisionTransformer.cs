using System.Collections.Concurrent;
using MaskInversion.Core.Torch;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MaskInversion.Core.Models;

/// <summary>OpenCLIP's image tower (<c>visual.*</c>): patch conv, class token, positional embedding,
/// ln_pre, pre-LN transformer, ln_post on the class token, projection.</summary>
public sealed class VisionTransformer : nn.Module<Tensor, Tensor>
{
    public readonly Conv2d conv1;
    public readonly Parameter class_embedding;
    public readonly Parameter positional_embedding;
    public readonly LayerNorm ln_pre;
    public readonly Transformer transformer;
    public readonly LayerNorm ln_post;
    public readonly Parameter proj;

    public VisionConfig Config { get; }

    // Resampled positional embeddings per grid size; derived data, not parameters.
    readonly ConcurrentDictionary<int, Tensor> resampled = new();

    public VisionTransformer(VisionConfig cfg, int embedDim, bool quickGelu) : base("visual")
    {
        Config = cfg;
        int w = cfg.Width;
        using var scale = Math.Pow(w, -0.5).ToScalar();
        conv1 = nn.Conv2d(3, w, kernel_size: cfg.PatchSize, stride: cfg.PatchSize, bias: false);
        class_embedding = new Parameter(torch.randn(w) * scale);
        positional_embedding = new Parameter(torch.randn(cfg.GridSize * cfg.GridSize + 1, w) * scale);
        ln_pre = nn.LayerNorm(w, eps: 1e-5);
        transformer = new Transformer(w, cfg.Layers, cfg.Heads, cfg.MlpWidth, quickGelu);
        ln_post = nn.LayerNorm(w, eps: 1e-5);
        proj = new Parameter(torch.randn(w, embedDim) * scale);
        RegisterComponents();
    }

    public int Layers => transformer.resblocks.Count;
    public ResidualAttentionBlock LastBlock => transformer.resblocks[Layers - 1];

    /// <summary>Positional embedding for a <paramref name="grid"/>×<paramref name="grid"/> patch grid:
    /// the patch part resampled bicubically with antialiasing, the class position kept, as OpenCLIP does.</summary>
    public Tensor PositionalEmbedding(int grid)
    {
        int n0 = (int)positional_embedding.shape[0] - 1;
        int g0 = (int)Math.Round(Math.Sqrt(n0));
        if (grid == g0) return positional_embedding;
        return resampled.GetOrAdd(grid, g =>
        {
            using var scope = torch.NewDisposeScope();
            using var _ = torch.no_grad();
            var w = positional_embedding.shape[1];
            var cls = positional_embedding.narrow(0, 0, 1);
            var patches = positional_embedding.narrow(0, 1, n0).reshape(1, g0, g0, w).permute(0, 3, 1, 2);
            var up = nn.functional.interpolate(patches, size: [g, g], mode: InterpolationMode.Bicubic, align_corners: false, antialias: true);
            var flat = up.permute(0, 2, 3, 1).reshape(g * g, w);
            return torch.cat([cls, flat], 0).DetachFromDisposeScope();
        });
    }

    /// <summary>Forgets cached resampled embeddings (call after loading new weights).</summary>
    public void ClearResampleCache()
    {
        foreach (var t in resampled.Values) t.Dispose();
        resampled.Clear();
    }

    /// <summary>Tokens entering the transformer: (B, 1 + g², D).</summary>
    public Tensor Embed(Tensor pixels)
    {
        using var scope = torch.NewDisposeScope();
        if (pixels.dim() != 4 || pixels.shape[1] != 3)
            throw new ArgumentException($"Expected pixels of shape (B, 3, H, W), got ({string.Join(", ", pixels.shape)}).");
        if (pixels.shape[2] != pixels.shape[3] || pixels.shape[2] % Config.PatchSize != 0)
            throw new ArgumentException($"Image side {pixels.shape[2]}×{pixels.shape[3]} must be square and a multiple of the patch size {Config.PatchSize}.");
        var x = conv1.forward(pixels); // (B, D, g, g)
        var (b, d, g) = (x.shape[0], x.shape[1], (int)x.shape[2]);
        x = x.reshape(b, d, g * g).permute(0, 2, 1);
        var cls = class_embedding.to(x.dtype).view(1, 1, d).expand(b, 1, d);
        x = torch.cat([cls, x], 1).Plus(PositionalEmbedding(g).to(x.dtype));
        return ln_pre.forward(x).MoveToOuterDisposeScope();
    }

    /// <summary>Tokens entering block <paramref name="layer"/> (0-based); Layers gives the final tokens.</summary>
    public Tensor TokensBefore(Tensor pixels, int layer)
    {
        using var x = Embed(pixels);
        return transformer.Forward(x, null, layer);
    }

    /// <summary>Pooled (class token) embedding: ln_post(x_cls) @ proj.</summary>
    public Tensor Head(Tensor tokens)
    {
        using var scope = torch.NewDisposeScope();
        var cls = tokens.select(1, 0);
        return torch.matmul(ln_post.forward(cls), proj).MoveToOuterDisposeScope();
    }

    /// <summary>Mean-pooled embedding ln_post(mean_i x_i) @ proj over all tokens (class included): the feature
    /// LeGrad's score reads (DESIGN.md §1).</summary>
    public Tensor MeanPooledHead(Tensor tokens)
    {
        using var scope = torch.NewDisposeScope();
        return torch.matmul(ln_post.forward(tokens.mean([1])), proj).MoveToOuterDisposeScope();
    }

    public override Tensor forward(Tensor pixels)
    {
        using var tokens = TokensBefore(pixels, Layers);
        return Head(tokens);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) ClearResampleCache();
        base.Dispose(disposing);
    }
}
