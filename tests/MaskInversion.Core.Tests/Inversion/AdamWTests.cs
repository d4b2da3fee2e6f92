using MaskInversion.Core.Inversion;
using TorchSharp;
using static TorchSharp.torch;

namespace MaskInversion.Core.Tests.Inversion;

public class AdamWTests
{
    [Theory]
    [InlineData(0.0)]
    [InlineData(0.01)]
    public void MatchesTorchAdamW(double weightDecay)
    {
        using var scope = torch.NewDisposeScope();
        var start = torch.randn(4, 6, generator: new Generator(5));
        var target = torch.randn(4, 6, generator: new Generator(6));
        using var reference = new TorchSharp.Modules.Parameter(start.clone(), true);
        using var torchOpt = torch.optim.AdamW([reference], lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: weightDecay);
        var ours = start.clone();
        using var opt = new AdamW(ours, 0.1, weightDecay: weightDecay);
        for (int i = 0; i < 10; i++)
        {
            torchOpt.zero_grad();
            ((reference - target).pow(3).abs().sum()).backward();
            torchOpt.step();
            var leaf = ours.detach().requires_grad_(true);
            var grad = torch.autograd.grad([(leaf - target).pow(3).abs().sum()], [leaf])[0];
            opt.Step(ours, grad);
        }
        Assert.True(ours.allclose(reference.detach(), rtol: 1e-6, atol: 1e-7), "our AdamW diverged from torch.optim.AdamW");
        Assert.False(ours.allclose(start), "no update happened");
    }
}
