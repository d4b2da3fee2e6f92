using MaskInversion.Core.Imaging;
using MaskInversion.Core.Inversion;
using TorchSharp;
using static TorchSharp.torch;

namespace MaskInversion.Core.Tests.Inversion;

/// <summary>The Dice loss at each mask's own resolution (the map resized to the mask, bilinear, as the reference's
/// <c>F.interpolate(expl_map, size=masks.shape[-2:], mode='bilinear')</c>), for masks of mixed sizes in one batch.</summary>
[Collection(TensorCountCollection.Name)]
public class MaskResolutionTests
{
    [Fact]
    public void MapIsResizedBilinearlyToTheMaskWithFixedValues()
    {
        using var scope = torch.NewDisposeScope();
        // Enlarging 2×2 → 3×3 (align_corners false): sample rows/columns at 0 (clamped), 0.5 and 1.
        var map = torch.tensor(new float[] { 0, 1, 2, 3 }, [1, 2, 2]) / 3;
        var mask = torch.tensor(new float[] { 0, 0, 1, 0, 1, 1, 1, 1, 1 }, [1, 3, 3]);
        var resized = DiceLoss.ResizeToMasks(map, mask);
        float[] expected = [0, 0.5f, 1, 1, 1.5f, 2, 2, 2.5f, 3];
        Assert.Equal(expected.Select(v => v / 3).ToArray(), resized.data<float>().ToArray(), (a, b) => Math.Abs(a - b) < 1e-7);
        // ΣE·m = 12/3, ΣE = 13.5/3, Σm = 6: 1 − (2·4 + 1)/(4.5 + 6 + 1).
        using var targets = MaskTargets.FromBatch(mask, ScalarType.Float32, torch.CPU);
        Assert.Equal(1 - 9 / 11.5, targets.Dice(map).item<float>(), 6);

        // Shrinking 4×4 → 2×2 has no antialias: each output is the bilinear sample at 0.5 and 2.5 of v = 4y + x.
        var big = torch.arange(16, dtype: ScalarType.Float32).view(1, 4, 4);
        var small = DiceLoss.ResizeToMasks(big, torch.zeros(1, 2, 2));
        Assert.Equal(new float[] { 2.5f, 4.5f, 10.5f, 12.5f }, small.data<float>().ToArray());
    }

    static List<Tensor> MixedMasks(ScalarType dtype)
    {
        var square = InversionTestModels.Masks(3, 48, seed: 5, dtype);
        // A 96×96 copy (nearest ×2), a 30×40 one (bilinear), and 48×48 ones: deliberately unsorted by size.
        var doubled = square[1].repeat_interleave(2, 0).repeat_interleave(2, 1);
        var oblong = torch.nn.functional.interpolate(square[2].view(1, 1, 48, 48), size: [30, 40], mode: InterpolationMode.Bilinear).view(30, 40);
        return [square[0], doubled, oblong, square[2], square[1]];
    }

    [Theory]
    [InlineData(InversionPath.Explicit)]
    [InlineData(InversionPath.Implicit)]
    [InlineData(InversionPath.Vanilla)]
    public void MixedSizesInOneBatchEqualEachMaskAlone(InversionPath path)
    {
        using var model = InversionTestModels.Model(seed: 31);
        using var inverter = new MaskInverter(model.visual);
        using var scope = torch.NewDisposeScope();
        using var f = inverter.Prepare(InversionTestModels.Image(6));
        var masks = MixedMasks(ScalarType.Float32);
        var options = new InversionOptions { Iterations = 6, LearningRate = 0.1, Alpha = 5, Path = path };
        using var batch = inverter.Invert(f, masks, options);
        Assert.Equal(new long[] { 5, 6 }, batch.LossPerStep.shape);
        for (int i = 0; i < masks.Count; i++)
        {
            using var alone = inverter.Invert(f, masks[i].unsqueeze(0), options);
            var diff = (alone.Embeddings[0] - batch.Embeddings[i]).abs().max().item<float>();
            Assert.True(diff <= 1e-5f * alone.Embeddings.abs().max().item<float>(), $"{path}: mask {i} alone vs in the mixed batch differs by {diff:E2}");
            Assert.Equal(alone.FinalDice[0].item<float>(), batch.FinalDice[i].item<float>(), 1e-5f);
            Assert.True(alone.DicePerStep.allclose(batch.DicePerStep[i].unsqueeze(0), rtol: 1e-5, atol: 1e-6), $"{path}: mask {i} per-step Dice");
        }
        // Per-step loss = Dice + α·(1 − cos): the Dice part is reported separately and is smaller once the token moved.
        Assert.True((batch.LossPerStep - batch.DicePerStep).min().item<float>() >= -1e-6f);
    }

    [Fact]
    public void PathsAgreeOnAMixedBatch()
    {
        using var model = InversionTestModels.Model(seed: 32, ScalarType.Float64);
        using var inverter = new MaskInverter(model.visual);
        using var scope = torch.NewDisposeScope();
        using var f = inverter.Prepare(InversionTestModels.Image(8, dtype: ScalarType.Float64));
        var masks = MixedMasks(ScalarType.Float64);
        var options = new InversionOptions { Iterations = 8, LearningRate = 0.1, Alpha = 1 };
        using var vanilla = inverter.Invert(f, masks, options with { Path = InversionPath.Vanilla });
        foreach (var path in new[] { InversionPath.Explicit, InversionPath.Implicit })
        {
            using var fast = inverter.Invert(f, masks, options with { Path = path });
            Assert.True(vanilla.Embeddings.allclose(fast.Embeddings, rtol: 1e-8, atol: 1e-10), $"{path} embeddings");
            Assert.True(vanilla.LossPerStep.allclose(fast.LossPerStep, rtol: 1e-6, atol: 1e-7), $"{path} loss per step");
            Assert.True(vanilla.FinalDice.allclose(fast.FinalDice, rtol: 1e-8, atol: 1e-10), $"{path} final Dice");
        }
    }

    [Fact]
    public void FinalDiceIsTakenAtEachMasksResolution()
    {
        using var model = InversionTestModels.Model(seed: 33);
        using var inverter = new MaskInverter(model.visual);
        using var scope = torch.NewDisposeScope();
        using var f = inverter.Prepare(InversionTestModels.Image(9));
        var masks = MixedMasks(ScalarType.Float32);
        using var output = inverter.Invert(f, masks, new InversionOptions { Iterations = 3, Path = InversionPath.Implicit });
        for (int i = 0; i < masks.Count; i++)
        {
            var m = masks[i];
            var resized = torch.nn.functional.interpolate(output.Maps![i].view(1, 1, 48, 48), size: [m.shape[0], m.shape[1]],
                mode: InterpolationMode.Bilinear, align_corners: false).view(m.shape[0], m.shape[1]);
            double inter = (resized * m).sum().item<float>(), total = resized.sum().item<float>() + m.sum().item<float>();
            Assert.Equal(1 - (2 * inter + 1) / (total + 1), output.FinalDice[i].item<float>(), 5);
        }
        // The 96×96 copy of mask 4 is not the same target as mask 4 at 48×48: Σm is four times larger.
        Assert.NotEqual(output.FinalDice[1].item<float>(), output.FinalDice[4].item<float>());
    }

    [Fact]
    public void LargeMasksShrinkTheChunksToTheStepBudget()
    {
        using var model = InversionTestModels.Model(seed: 35);
        using var inverter = new MaskInverter(model.visual);
        using var f = inverter.Prepare(InversionTestModels.Image(5));
        var options = new InversionOptions();
        // 48×48 masks cost nothing next to the budget; 12-megapixel ones (~190 MB of Dice tail each) must not share
        // a 1 GB step with more than five others, nor a sub-chunk with more than two.
        Assert.Equal(MaskInverter.ChunkSize(f, options, InversionPath.Implicit), MaskInverter.ChunkSize(f, options, InversionPath.Implicit, 48 * 48));
        Assert.InRange(MaskInverter.ChunkSize(f, options, InversionPath.Implicit, 4000 * 3000), 1, 5);
        Assert.InRange(MaskInverter.SubChunkSize(f, options, 4000 * 3000), 1, 2);
        Assert.InRange(MaskInverter.ChunkSize(f, options, InversionPath.Explicit, 4000 * 3000), 1, MaskInverter.ChunkSize(f, options, InversionPath.Explicit));
    }

    [Fact]
    public void BadMaskListsAreRejectedWithClearErrors()
    {
        using var model = InversionTestModels.Model(seed: 34);
        using var inverter = new MaskInverter(model.visual);
        using var scope = torch.NewDisposeScope();
        using var f = inverter.Prepare(InversionTestModels.Image(5));
        Assert.Contains("No masks", Assert.Throws<ArgumentException>(() => inverter.Invert(f, new List<Tensor>(), new InversionOptions())).Message);
        Assert.Contains("Mask 1 must have shape (H, W)", Assert.Throws<ArgumentException>(() =>
            inverter.Invert(f, [torch.ones(8, 8), torch.ones(1, 8, 8)], new InversionOptions())).Message);
        Assert.Contains("Mask 0 must be floating point", Assert.Throws<ArgumentException>(() =>
            inverter.Invert(f, [torch.ones(8, 8, dtype: ScalarType.Int64)], new InversionOptions())).Message);
    }
}
