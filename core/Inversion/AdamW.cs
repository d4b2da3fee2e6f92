using MaskInversion.Core.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace MaskInversion.Core.Inversion;

/// <summary>AdamW on one tensor, with PyTorch's update rule (decoupled decay, bias correction,
/// denom = √v̂ + ε). Written out because TorchSharp's optimizer leaves a <c>.grad</c> alias per step to
/// the finalizer, and the inversion loop must not grow live tensors. Elementwise, so rows (masks)
/// never influence each other. Every Scalar it passes libtorch is held until the call returns
/// (<see cref="Scalars"/>): an implicit one here was the #14 "toFloat … Scalar.h:140" crash.</summary>
public sealed class AdamW : IDisposable
{
    readonly Tensor m, v;
    readonly double beta1, beta2, weightDecay;
    // Constant per optimizer: made once, disposed with it.
    readonly Scalar beta1S, oneMinusBeta1, beta2S, oneMinusBeta2, epsS;
    int step;

    /// <summary>Learning rate of the next step; a schedule may change it between steps.</summary>
    public double LearningRate { get; set; }

    public AdamW(Tensor like, double lr, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8, double weightDecay = 0)
    {
        (LearningRate, this.beta1, this.beta2, this.weightDecay) = (lr, beta1, beta2, weightDecay);
        (beta1S, oneMinusBeta1, beta2S, oneMinusBeta2, epsS) =
            (beta1.ToScalar(), (1 - beta1).ToScalar(), beta2.ToScalar(), (1 - beta2).ToScalar(), eps.ToScalar());
        m = torch.zeros_like(like).DetachFromDisposeScope();
        v = torch.zeros_like(like).DetachFromDisposeScope();
    }

    /// <summary>Updates <paramref name="param"/> in place from its gradient.</summary>
    public void Step(Tensor param, Tensor grad)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        step++;
        double lr = LearningRate;
        if (weightDecay != 0)
        {
            using var decay = (1 - lr * weightDecay).ToScalar();
            param.mul_(decay);
        }
        m.mul_(beta1S).add_(grad, oneMinusBeta1);
        v.mul_(beta2S).addcmul_(grad, grad, oneMinusBeta2);
        double bc1 = 1 - Math.Pow(beta1, step);
        double bc2 = 1 - Math.Pow(beta2, step);
        using var sqrtBc2 = Math.Sqrt(bc2).ToScalar();
        using var stepSize = (-lr / bc1).ToScalar();
        var denom = v.sqrt().div_(sqrtBc2).Plus_(epsS);
        param.addcdiv_(m, denom, stepSize);
    }

    public void Dispose()
    {
        m.Dispose();
        v.Dispose();
        foreach (var s in new[] { beta1S, oneMinusBeta1, beta2S, oneMinusBeta2, epsS }) s.Dispose();
    }
}
