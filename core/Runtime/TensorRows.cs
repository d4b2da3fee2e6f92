using TorchSharp;
using static TorchSharp.torch;

namespace MaskInversion.Core.Runtime;

/// <summary>Rows of a 2-D tensor as float arrays (one device-to-host copy for all of them): how results leave tensors.</summary>
public static class TensorRows
{
    public static float[][] Of(Tensor t)
    {
        if (t.dim() != 2) throw new ArgumentException($"Expected a 2-D tensor, got ({string.Join(", ", t.shape)}).", nameof(t));
        using var flat = t.detach().to(ScalarType.Float32).cpu().contiguous();
        int cols = (int)flat.shape[1];
        var all = flat.data<float>().ToArray();
        return Enumerable.Range(0, (int)flat.shape[0]).Select(r => all.AsSpan(r * cols, cols).ToArray()).ToArray();
    }
}
