using MaskInversion.Core.Torch;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MaskInversion.Core.Models;

// Modules mirror OpenCLIP's key names (field names are the state-dict names), so an OpenCLIP
// checkpoint maps one-to-one onto named_parameters().

/// <summary>OpenCLIP's MLP: c_fc → activation → c_proj.</summary>
public sealed class Mlp : nn.Module<Tensor, Tensor>
{
    public readonly Linear c_fc;
    public readonly Linear c_proj;
    readonly bool quickGelu;

    public Mlp(int width, int hidden, bool quickGelu) : base("mlp")
    {
        c_fc = nn.Linear(width, hidden);
        c_proj = nn.Linear(hidden, width);
        this.quickGelu = quickGelu;
        RegisterComponents();
    }

    /// <summary>GELU, or OpenAI's approximation x·σ(1.702x) (QuickGELU) that the original CLIP weights were trained with.</summary>
    public Tensor Activation(Tensor a) => quickGelu ? a * torch.sigmoid(a * QuickGeluSlope) : nn.functional.gelu(a);

    static readonly Scalar QuickGeluSlope = 1.702.ToScalar(); // rooted: see Torch/Scalars

    public override Tensor forward(Tensor x)
    {
        using var a = c_fc.forward(x);
        using var h = Activation(a);
        return c_proj.forward(h);
    }
}

/// <summary>nn.MultiheadAttention's parameter layout (packed in_proj, out_proj), batch-first.</summary>
public sealed class MultiheadAttention : nn.Module<Tensor, Tensor>
{
    public readonly Parameter in_proj_weight;
    public readonly Parameter in_proj_bias;
    public readonly Linear out_proj;
    public int Heads { get; }
    public int HeadDim { get; }

    public MultiheadAttention(int width, int heads) : base("attn")
    {
        Heads = heads;
        HeadDim = width / heads;
        in_proj_weight = new Parameter(torch.empty(3 * width, width));
        in_proj_bias = new Parameter(torch.zeros(3 * width));
        out_proj = nn.Linear(width, width);
        RegisterComponents();
    }

    /// <summary>Splits x (B, n, D) into per-head q, k, v of shape (B, h, n, d_h); q unscaled.</summary>
    public (Tensor q, Tensor k, Tensor v) Project(Tensor x)
    {
        using var scope = torch.NewDisposeScope();
        var (b, n) = (x.shape[0], x.shape[1]);
        var qkv = nn.functional.linear(x, in_proj_weight, in_proj_bias).view(b, n, 3, Heads, HeadDim).permute(2, 0, 3, 1, 4);
        var q = qkv[0].contiguous();
        var k = qkv[1].contiguous();
        var v = qkv[2].contiguous();
        return (q.MoveToOuterDisposeScope(), k.MoveToOuterDisposeScope(), v.MoveToOuterDisposeScope());
    }

    /// <summary>Attention probabilities softmax(q kᵀ/√d_h + mask), shape (B, h, n, n).</summary>
    public Tensor Probabilities(Tensor q, Tensor k, Tensor? mask = null)
    {
        using var scope = torch.NewDisposeScope();
        // Held until the call returns: see Torch/Scalars.
        using var scale = (1.0 / Math.Sqrt(HeadDim)).ToScalar();
        var logits = torch.matmul(q, k.transpose(-1, -2)).mul_(scale);
        if (mask is not null) logits = logits.Plus(mask);
        return torch.softmax(logits, -1).MoveToOuterDisposeScope();
    }

    /// <summary>Output projection of per-head values weighted by <paramref name="probs"/>: (B, n, D).</summary>
    public Tensor Combine(Tensor probs, Tensor v)
    {
        using var scope = torch.NewDisposeScope();
        var o = torch.matmul(probs, v); // (B, h, n, d_h)
        var (b, n) = (o.shape[0], o.shape[2]);
        return out_proj.forward(o.transpose(1, 2).reshape(b, n, Heads * HeadDim)).MoveToOuterDisposeScope();
    }

    public Tensor Forward(Tensor x, Tensor? mask)
    {
        using var scope = torch.NewDisposeScope();
        var (q, k, v) = Project(x);
        var p = Probabilities(q, k, mask);
        return Combine(p, v).MoveToOuterDisposeScope();
    }

    public override Tensor forward(Tensor x) => Forward(x, null);
}

/// <summary>OpenCLIP's pre-LayerNorm residual block: x + attn(ln_1(x)), then + mlp(ln_2(·)).</summary>
public sealed class ResidualAttentionBlock : nn.Module<Tensor, Tensor>
{
    public readonly LayerNorm ln_1;
    public readonly MultiheadAttention attn;
    public readonly LayerNorm ln_2;
    public readonly Mlp mlp;

    public ResidualAttentionBlock(int width, int heads, int mlpWidth, bool quickGelu) : base("resblock")
    {
        ln_1 = nn.LayerNorm(width, eps: 1e-5);
        attn = new MultiheadAttention(width, heads);
        ln_2 = nn.LayerNorm(width, eps: 1e-5);
        mlp = new Mlp(width, mlpWidth, quickGelu);
        RegisterComponents();
    }

    public Tensor Forward(Tensor x, Tensor? mask)
    {
        var (output, values) = ForwardWithValues(x, mask);
        values.Dispose();
        return output;
    }

    /// <summary>The block's output and its attention values (B, h, n, d_h), which MiniCLIP's dense training term reads.</summary>
    public (Tensor Output, Tensor Values) ForwardWithValues(Tensor x, Tensor? mask = null)
    {
        using var scope = torch.NewDisposeScope();
        var (q, k, v) = attn.Project(ln_1.forward(x));
        var h = x.Plus(attn.Combine(attn.Probabilities(q, k, mask), v));
        return (h.Plus(mlp.forward(ln_2.forward(h))).MoveToOuterDisposeScope(), v.MoveToOuterDisposeScope());
    }

    public override Tensor forward(Tensor x) => Forward(x, null);
}

/// <summary>A stack of residual blocks under the key <c>resblocks.N</c>.</summary>
public sealed class Transformer : nn.Module<Tensor, Tensor>
{
    public readonly ModuleList<ResidualAttentionBlock> resblocks;

    public Transformer(int width, int layers, int heads, int mlpWidth, bool quickGelu) : base("transformer")
    {
        resblocks = nn.ModuleList(Enumerable.Range(0, layers).Select(_ => new ResidualAttentionBlock(width, heads, mlpWidth, quickGelu)).ToArray());
        RegisterComponents();
    }

    /// <summary>Runs blocks [0, count) on x.</summary>
    public Tensor Forward(Tensor x, Tensor? mask, int count)
    {
        var h = x.alias();
        for (int i = 0; i < count; i++)
        {
            var next = resblocks[i].Forward(h, mask);
            h.Dispose();
            h = next;
        }
        return h;
    }

    public override Tensor forward(Tensor x) => Forward(x, null, resblocks.Count);
}
