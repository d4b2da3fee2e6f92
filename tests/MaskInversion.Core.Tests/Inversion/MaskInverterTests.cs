using MaskInversion.Core.Inversion;
using TorchSharp;
using static TorchSharp.torch;

namespace MaskInversion.Core.Tests.Inversion;

[Collection(TensorCountCollection.Name)]
public class MaskInverterTests
{
    [Theory]
    [InlineData(InversionPath.Explicit)]
    [InlineData(InversionPath.Implicit)]
    [InlineData(InversionPath.Vanilla)]
    public void MaskResultDoesNotDependOnItsBatch(InversionPath path)
    {
        using var model = InversionTestModels.Model(seed: 21);
        using var inverter = new MaskInverter(model.visual);
        using var scope = torch.NewDisposeScope();
        using var f = inverter.Prepare(InversionTestModels.Image(3));
        var masks = InversionTestModels.Masks(7, 48, seed: 9);
        var options = new InversionOptions { Iterations = 10, LearningRate = 0.1, Alpha = 5, Path = path };
        using var batch = inverter.Invert(f, masks, options);
        for (int i = 0; i < 7; i += 3)
        {
            using var alone = inverter.Invert(f, masks.narrow(0, i, 1), options);
            var diff = (alone.Embeddings[0] - batch.Embeddings[i]).abs().max().item<float>();
            var scale = alone.Embeddings.abs().max().item<float>();
            // Same maths per row; only BLAS blocking may differ between M = 1 and M = 7.
            Assert.True(diff <= 1e-5f * scale, $"{path}: mask {i} alone vs in batch of 7 differs by {diff:E2}");
            Assert.Equal(alone.FinalDice[0].item<float>(), batch.FinalDice[i].item<float>(), 1e-5f);
        }
    }

    [Theory]
    [InlineData(InversionPath.Implicit)]
    [InlineData(InversionPath.Explicit)]
    public void ChunkedInversionEqualsOneChunk(InversionPath path)
    {
        using var model = InversionTestModels.Model(seed: 22);
        using var inverter = new MaskInverter(model.visual);
        using var scope = torch.NewDisposeScope();
        using var f = inverter.Prepare(InversionTestModels.Image(4));
        var masks = InversionTestModels.Masks(5, 48, seed: 1);
        var options = new InversionOptions { Iterations = 5, Alpha = 1, Path = path };
        using var whole = inverter.Invert(f, masks, options with { PreferredAllocationBytes = 1L << 40 });
        // Two masks per (sub-)chunk: three of them.
        var small = options with { PreferredAllocationBytes = 1, MinChunk = 2 };
        Assert.Equal(2, MaskInverter.SubChunkSize(f, small));
        using var chunked = inverter.Invert(f, masks, small);
        Assert.True(whole.Embeddings.allclose(chunked.Embeddings, rtol: 1e-5, atol: 1e-6));
        Assert.True(whole.LossPerStep.allclose(chunked.LossPerStep, rtol: 1e-5, atol: 1e-6));
        Assert.True(whole.Maps!.allclose(chunked.Maps!, rtol: 1e-5, atol: 1e-6));
        Assert.Equal(new long[] { 5, 5 }, chunked.LossPerStep.shape);
    }

    [Fact]
    public void NoLiveTensorGrowthOver100Inversions()
    {
        using var model = InversionTestModels.Model(seed: 23);
        using var inverter = new MaskInverter(model.visual);
        using var pixels = InversionTestModels.Image(8);
        using var masks = InversionTestModels.Masks(3, 48, seed: 2);
        void Once(int i)
        {
            using var f = inverter.Prepare(pixels);
            var path = (InversionPath)(1 + i % 3);
            using var output = inverter.Invert(f, masks, new InversionOptions { Iterations = 3, Path = path });
            var (loss, grad) = inverter.LossGradient(f, masks, output.Embeddings, 1, path);
            loss.Dispose();
            grad.Dispose();
        }
        static long Live()
        {
            // Wrappers other tests left to the finalizer must not be counted against us.
            GC.Collect(); GC.WaitForPendingFinalizers(); GC.Collect();
            return torch.Tensor.TotalCount;
        }
        for (int i = 0; i < 6; i++) Once(i); // warm caches (resampled positions etc.)
        long before = Live();
        for (int i = 0; i < 100; i++) Once(i);
        long after = Live();
        Assert.True(after <= before, $"live tensors grew from {before} to {after} over 100 inversions");
    }

    [Fact]
    public void EmptyAndFullMasksGiveFiniteResults()
    {
        using var model = InversionTestModels.Model(seed: 24);
        using var inverter = new MaskInverter(model.visual);
        using var scope = torch.NewDisposeScope();
        using var f = inverter.Prepare(InversionTestModels.Image(5));
        var masks = torch.stack([torch.zeros(48, 48), torch.ones(48, 48)]);
        using var output = inverter.Invert(f, masks, new InversionOptions { Iterations = 4, Alpha = 5 });
        Assert.False(output.Embeddings.isnan().any().item<bool>());
        Assert.False(output.LossPerStep.isnan().any().item<bool>());
        Assert.False(output.Maps!.isnan().any().item<bool>());
    }

    [Fact]
    public void AutoChoosesImplicitForFewMasksAndExplicitForMany()
    {
        var cost = new InversionCost(Tokens: 197, Width: 768, MlpWidth: 3072, Heads: 12, EmbedDim: 512);
        long bytes = 512L * 197 * 768 * 4;
        Assert.Equal(InversionPath.Implicit, cost.Choose(5, 10, bytes, 2L << 30));
        Assert.Equal(InversionPath.Explicit, cost.Choose(100, 10, bytes, 2L << 30));
        Assert.Equal(InversionPath.Implicit, cost.Choose(100, 10, bytes, budgetBytes: bytes - 1));
    }

    [Fact]
    public void BadInputsAreRejectedWithClearErrors()
    {
        using var model = InversionTestModels.Model(seed: 25);
        using var inverter = new MaskInverter(model.visual);
        using var scope = torch.NewDisposeScope();
        using var f = inverter.Prepare(InversionTestModels.Image(5));
        Assert.Contains("(M, H, W)", Assert.Throws<ArgumentException>(() => inverter.Invert(f, torch.ones(48, 48), new InversionOptions())).Message);
        Assert.Contains("floating point", Assert.Throws<ArgumentException>(() => inverter.Invert(f, torch.ones(1, 48, 48, dtype: ScalarType.Int64), new InversionOptions())).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => inverter.Invert(f, torch.ones(1, 48, 48), new InversionOptions { LearningRate = 0 }));
    }
}
