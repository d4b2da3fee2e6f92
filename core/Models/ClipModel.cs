using MaskInversion.Core.Torch;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MaskInversion.Core.Models;

/// <summary>OpenCLIP's <c>CLIP</c> module: <c>visual.*</c> plus the text tower at the root
/// (token_embedding, positional_embedding, transformer, ln_final, text_projection, logit_scale).</summary>
public sealed class ClipModel : nn.Module<Tensor, Tensor>
{
    public readonly VisionTransformer visual;
    public readonly Embedding token_embedding;
    public readonly Parameter positional_embedding;
    public readonly Transformer transformer;
    public readonly LayerNorm ln_final;
    public readonly Parameter text_projection;
    public readonly Parameter logit_scale;

    public ClipConfig Config { get; }

    public ClipModel(ClipConfig config) : base("CLIP")
    {
        config.Validate();
        Config = config;
        var t = config.Text;
        visual = new VisionTransformer(config.Vision, config.EmbedDim, config.QuickGelu);
        token_embedding = nn.Embedding(t.VocabSize, t.Width);
        using (var std = 0.01.ToScalar()) positional_embedding = new Parameter(torch.randn(t.ContextLength, t.Width) * std);
        transformer = new Transformer(t.Width, t.Layers, t.Heads, t.MlpWidth, config.QuickGelu);
        ln_final = nn.LayerNorm(t.Width, eps: 1e-5);
        using (var std = Math.Pow(t.Width, -0.5).ToScalar()) text_projection = new Parameter(torch.randn(t.Width, config.EmbedDim) * std);
        logit_scale = new Parameter(torch.tensor(Math.Log(1 / 0.07), dtype: ScalarType.Float32));
        RegisterComponents();
        InitializeLikeOpenClip();
    }

    /// <summary>A model with seeded random weights (OpenCLIP's init), for tests and benchmarks.</summary>
    public static ClipModel CreateRandom(ClipConfig config, long seed)
    {
        using var _ = torch.no_grad();
        var previous = torch.random.initial_seed();
        torch.random.manual_seed(seed);
        try { return new ClipModel(config); }
        finally { torch.random.manual_seed(previous); }
    }

    void InitializeLikeOpenClip()
    {
        using var _ = torch.no_grad();
        nn.init.normal_(token_embedding.weight!, std: 0.02);
        foreach (var (tower, width, layers) in new[] { (transformer, Config.Text.Width, Config.Text.Layers), (visual.transformer, Config.Vision.Width, Config.Vision.Layers) })
        {
            double projStd = Math.Pow(width, -0.5) * Math.Pow(2 * layers, -0.5);
            double attnStd = Math.Pow(width, -0.5);
            double fcStd = Math.Pow(2 * width, -0.5);
            foreach (var block in tower.resblocks)
            {
                nn.init.normal_(block.attn.in_proj_weight, std: attnStd);
                nn.init.normal_(block.attn.out_proj.weight!, std: projStd);
                nn.init.normal_(block.mlp.c_fc.weight!, std: fcStd);
                nn.init.normal_(block.mlp.c_proj.weight!, std: projStd);
                nn.init.zeros_(block.attn.out_proj.bias!);
            }
        }
    }

    /// <summary>Causal mask for the text tower: −∞ above the diagonal.</summary>
    Tensor CausalMask(long n, ScalarType dtype, Device device) =>
        torch.full(n, n, minusInfinity, dtype: dtype, device: device).triu_(1);

    static readonly Scalar minusInfinity = float.NegativeInfinity.ToScalar(); // rooted: see Torch/Scalars

    /// <summary>Text embeddings (B, embed) for token ids (B, context), pooled at the EOT token (the
    /// highest id in the row, as OpenCLIP's argmax pooling assumes).</summary>
    public Tensor EncodeText(Tensor tokens)
    {
        using var scope = torch.NewDisposeScope();
        var n = tokens.shape[1];
        var x = token_embedding.forward(tokens).Plus(positional_embedding.narrow(0, 0, n));
        using var mask = CausalMask(n, x.dtype, x.device);
        x = transformer.Forward(x, mask, transformer.resblocks.Count);
        x = ln_final.forward(x);
        var eot = tokens.argmax(-1);
        using var rows = x.shape[0].ToScalar();
        var pooled = x[torch.arange(Scalars.Zero, rows, Scalars.One, device: x.device), eot];
        return torch.matmul(pooled, text_projection).MoveToOuterDisposeScope();
    }

    public Tensor EncodeImage(Tensor pixels) => visual.forward(pixels);

    public override Tensor forward(Tensor pixels) => EncodeImage(pixels);
}
