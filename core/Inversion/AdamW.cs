using TorchSharp;
using static TorchSharp.torch;

namespace MaskInversion.Core.Inversion;

/// <summary>AdamW on one tensor, with PyTorch's update rule (decoupled decay, bias correction,
/// denom = √v̂ + ε). Written out because TorchSharp's optimizer leaves a <c>.grad</c> alias per step to
/// the finalizer, and the inversion loop must not grow live tensors. Elementwise, so rows (masks)
/// never influence each other.</summary>
public sealed class AdamW : IDisposable
{
    readonly Tensor m, v;
    readonly double lr, beta1, beta2, eps, weightDecay;
    int step;

    public AdamW(Tensor like, double lr, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8, double weightDecay = 0)
    {
        (this.lr, this.beta1, this.beta2, this.eps, this.weightDecay) = (lr, beta1, beta2, eps, weightDecay);
        m = torch.zeros_like(like).DetachFromDisposeScope();
        v = torch.zeros_like(like).DetachFromDisposeScope();
    }

    /// <summary>Updates <paramref name="param"/> in place from its gradient.</summary>
    public void Step(Tensor param, Tensor grad)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        step++;
        if (weightDecay != 0) param.mul_(1 - lr * weightDecay);
        m.mul_(beta1).add_(grad, alpha: 1 - beta1);
        v.mul_(beta2).addcmul_(grad, grad, value: 1 - beta2);
        double bc1 = 1 - Math.Pow(beta1, step);
        double bc2 = 1 - Math.Pow(beta2, step);
        var denom = (v.sqrt() / Math.Sqrt(bc2)).add_(eps);
        param.addcdiv_(m, denom, value: -lr / bc1);
    }

    public void Dispose()
    {
        m.Dispose();
        v.Dispose();
    }
}
