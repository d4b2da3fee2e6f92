using MaskInversion.Core.Inversion;
using MaskInversion.Core.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace MaskInversion.Core.Tests.Inversion;

/// <summary>Small random models and inputs for the engine tests.</summary>
internal static class InversionTestModels
{
    /// <summary>48 px, patch 8 → 6×6 grid (37 tokens), width 32, 4 heads, 3 blocks, embed 16.</summary>
    public static ClipConfig Small(bool quickGelu = false) =>
        ClipConfig.Tiny(imageSize: 48, patch: 8, width: 32, layers: 3, headWidth: 8, embed: 16) with { QuickGelu = quickGelu };

    public static ClipModel Model(long seed, ScalarType dtype = ScalarType.Float32, bool quickGelu = false)
    {
        var model = ClipModel.CreateRandom(Small(quickGelu), seed);
        if (dtype != ScalarType.Float32) model.to(dtype);
        return model;
    }

    public static Tensor Image(long seed, int size = 48, ScalarType dtype = ScalarType.Float32)
    {
        var g = new Generator((ulong)seed);
        return torch.randn(1, 3, size, size, generator: g).to(dtype);
    }

    /// <summary>M random blob masks (M, S, S) in {0, 1}: ellipses at random places.</summary>
    public static Tensor Masks(int m, int size, long seed, ScalarType dtype = ScalarType.Float32)
    {
        var rng = new Random((int)seed);
        var data = new float[m * size * size];
        for (int k = 0; k < m; k++)
        {
            double cx = rng.Next(size / 5, size * 4 / 5), cy = rng.Next(size / 5, size * 4 / 5);
            double rx = rng.Next(size / 8, size / 3), ry = rng.Next(size / 8, size / 3);
            for (int y = 0; y < size; y++)
                for (int x = 0; x < size; x++)
                {
                    double dx = (x - cx) / rx, dy = (y - cy) / ry;
                    if (dx * dx + dy * dy <= 1) data[k * size * size + y * size + x] = 1;
                }
        }
        return torch.tensor(data, [m, size, size]).to(dtype);
    }
}
