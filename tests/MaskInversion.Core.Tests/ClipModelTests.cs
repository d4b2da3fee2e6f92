using MaskInversion.Core.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace MaskInversion.Core.Tests;

public class ClipModelTests
{
    [Fact]
    public void KeyNamesMirrorOpenClip()
    {
        using var model = ClipModel.CreateRandom(ClipConfig.Tiny(), seed: 1);
        var names = model.named_parameters().Select(p => p.name).ToHashSet();
        foreach (var key in new[]
        {
            "visual.conv1.weight", "visual.class_embedding", "visual.positional_embedding", "visual.ln_pre.weight",
            "visual.transformer.resblocks.0.attn.in_proj_weight", "visual.transformer.resblocks.1.attn.out_proj.bias",
            "visual.transformer.resblocks.1.mlp.c_fc.weight", "visual.transformer.resblocks.1.mlp.c_proj.bias",
            "visual.ln_post.bias", "visual.proj", "token_embedding.weight", "positional_embedding",
            "transformer.resblocks.0.ln_1.weight", "ln_final.weight", "text_projection", "logit_scale",
        })
            Assert.Contains(key, names);
    }

    [Fact]
    public void ConfigsParseFromSharedOpenClipJson()
    {
        foreach (var name in ClipConfig.KnownNames)
        {
            var fromFile = ClipConfig.FromFile(SharedData.OpenClip(name + ".json"));
            Assert.Equal(ClipConfig.Named(name), fromFile);
        }
        Assert.Equal(80, ClipConfig.Named("ViT-H-14").Vision.HeadWidth);
        Assert.Equal(16, ClipConfig.Named("ViT-H-14").Vision.Heads);
    }

    [Fact]
    public void AnyInputSizeResamplesPositions()
    {
        using var model = ClipModel.CreateRandom(ClipConfig.Tiny(), seed: 2);
        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        var a = model.EncodeImage(torch.randn(2, 3, 32, 32));
        var b = model.EncodeImage(torch.randn(2, 3, 64, 64));
        Assert.Equal(new long[] { 2, 16 }, a.shape);
        Assert.Equal(new long[] { 2, 16 }, b.shape);
        var pos = model.visual.PositionalEmbedding(8);
        Assert.Equal(new long[] { 65, 32 }, pos.shape);
        // Class position kept as is.
        Assert.True(pos[0].allclose(model.visual.positional_embedding[0]));
    }

    [Fact]
    public void TextTowerPoolsAtEot()
    {
        using var model = ClipModel.CreateRandom(ClipConfig.Tiny(), seed: 3);
        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        var ids = torch.tensor(new long[] { 62, 5, 7, 63, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }).view(1, 16);
        var ids2 = ids.clone(); ids2[0, 6] = torch.tensor(9L); // after EOT: causal mask means no effect
        var e1 = model.EncodeText(ids);
        var e2 = model.EncodeText(ids2);
        Assert.True(e1.allclose(e2, rtol: 1e-5, atol: 1e-6));
    }
}
