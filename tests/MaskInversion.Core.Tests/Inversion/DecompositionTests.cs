using MaskInversion.Core.Inversion;
using TorchSharp;
using static TorchSharp.torch;

namespace MaskInversion.Core.Tests.Inversion;

/// <summary>The three execution paths compute the same maths (DESIGN.md §2).</summary>
public class DecompositionTests
{
    static readonly InversionPath[] Fast = [InversionPath.Explicit, InversionPath.Implicit];

    static void AssertClose(Tensor expected, Tensor actual, double rtol, double atol, string what)
    {
        var diff = (expected - actual).abs().max().to(ScalarType.Float64).item<double>();
        var scale = expected.abs().max().to(ScalarType.Float64).item<double>();
        Assert.True(diff <= atol + rtol * scale, $"{what}: max |Δ| = {diff:E3} (scale {scale:E3}, allowed {atol + rtol * scale:E3})");
    }

    [Theory]
    [InlineData(ScalarType.Float64, 1e-9, false)]
    [InlineData(ScalarType.Float32, 2e-4, false)]
    [InlineData(ScalarType.Float64, 1e-9, true)]
    public void MapsAndLossGradientsAgreeAcrossPaths(ScalarType dtype, double rtol, bool quickGelu)
    {
        using var model = InversionTestModels.Model(seed: 11, dtype, quickGelu);
        using var inverter = new MaskInverter(model.visual);
        for (int image = 0; image < 3; image++)
        {
            using var scope = torch.NewDisposeScope();
            using var f = inverter.Prepare(InversionTestModels.Image(100 + image, dtype: dtype));
            var masks = InversionTestModels.Masks(5, 48, seed: image, dtype);
            // Tokens away from LET₀ too, so the test is not only at the starting point.
            var tokens = f.Embedding.unsqueeze(0).expand(5, -1) + 0.3 * torch.randn(5, f.EmbedDim, generator: new Generator((ulong)image)).to(dtype);
            var units = torch.nn.functional.normalize(tokens, p: 2, dim: 1);
            f.BuildExplicitMap();

            var vanillaMaps = inverter.Maps(f, units, InversionPath.Vanilla, createGraph: false);
            var (vanillaLoss, vanillaGrad) = inverter.LossGradient(f, masks, tokens, alpha: 5, InversionPath.Vanilla);
            Assert.True(vanillaGrad.abs().max().to(ScalarType.Float64).item<double>() > 0, "vanilla gradient is identically zero: the test would prove nothing");
            foreach (var path in Fast)
            {
                AssertClose(vanillaMaps, inverter.Maps(f, units, path, createGraph: false), rtol, rtol, $"{path} maps, image {image}");
                var (loss, grad) = inverter.LossGradient(f, masks, tokens, alpha: 5, path);
                AssertClose(vanillaLoss, loss, rtol, rtol, $"{path} loss, image {image}");
                AssertClose(vanillaGrad, grad, rtol * 10, rtol, $"{path} ∂loss/∂token, image {image}");
            }
        }
    }

    [Theory]
    [InlineData(ScalarType.Float64, 1e-10)]
    [InlineData(ScalarType.Float32, 1e-5)]
    public void HandWrittenRelevanceBackwardEqualsAutograd(ScalarType dtype, double rtol)
    {
        using var model = InversionTestModels.Model(seed: 13, dtype);
        using var inverter = new MaskInverter(model.visual);
        using var scope = torch.NewDisposeScope();
        using var f = inverter.Prepare(InversionTestModels.Image(5, dtype: dtype));
        var q = torch.randn(3, f.Tokens, f.Width, generator: new Generator(4)).to(dtype);
        var weights = torch.randn(3, f.Tokens - 1, generator: new Generator(5)).to(dtype);

        // Reference: the generic path's relu-mean over (heads, rows) of Q·Vᵀ, differentiated by autograd.
        Tensor expectedRelevance, expectedDq;
        using (torch.enable_grad())
        {
            var leaf = q.clone().requires_grad_(true);
            var relevance = torch.nn.functional.relu(f.AttentionGradient(leaf)).mean([1, 2]).narrow(1, 1, f.Tokens - 1);
            expectedDq = torch.autograd.grad([(relevance * weights).sum()], [leaf])[0];
            expectedRelevance = relevance.detach();
        }
        var (actualRelevance, scores) = f.PatchRelevance(q);
        var dq = torch.zeros_like(q);
        f.PatchRelevanceBackward(scores, weights, dq);
        AssertClose(expectedRelevance, actualRelevance, rtol, 0, "relevance");
        AssertClose(expectedDq, dq, rtol, 0, "∂/∂Q");
        Assert.True(expectedDq.abs().max().to(ScalarType.Float64).item<double>() > 0, "zero gradient: the test would prove nothing");
    }

    [Theory]
    [InlineData(ScalarType.Float64, 1e-8)]
    [InlineData(ScalarType.Float32, 1e-3)]
    public void FinalEmbeddingsAgreeAcrossPaths(ScalarType dtype, double rtol)
    {
        using var model = InversionTestModels.Model(seed: 12, dtype);
        using var inverter = new MaskInverter(model.visual);
        using var scope = torch.NewDisposeScope();
        using var f = inverter.Prepare(InversionTestModels.Image(7, dtype: dtype));
        var masks = InversionTestModels.Masks(4, 48, seed: 3, dtype);
        var options = new InversionOptions { Iterations = 10, LearningRate = 0.1 };
        using var vanilla = inverter.Invert(f, masks, options with { Path = InversionPath.Vanilla });
        foreach (var path in Fast)
        {
            using var fast = inverter.Invert(f, masks, options with { Path = path });
            Assert.Equal(path, fast.Path);
            AssertClose(vanilla.Embeddings, fast.Embeddings, rtol, rtol, $"{path} embeddings");
            AssertClose(vanilla.LossPerStep, fast.LossPerStep, rtol, rtol, $"{path} loss per step");
            AssertClose(vanilla.Maps!, fast.Maps!, rtol, rtol, $"{path} final maps");
        }
    }

    [Fact]
    public void ImageEmbeddingEqualsModelEncodeImage()
    {
        using var model = InversionTestModels.Model(seed: 13);
        using var inverter = new MaskInverter(model.visual);
        using var scope = torch.NewDisposeScope();
        var pixels = InversionTestModels.Image(5);
        using var f = inverter.Prepare(pixels);
        using var _ = torch.no_grad();
        AssertClose(model.EncodeImage(pixels)[0], f.Embedding, 1e-5, 1e-6, "LET₀");
    }
}
