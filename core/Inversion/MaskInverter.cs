using MaskInversion.Core.Explainability;
using MaskInversion.Core.Models;
using MaskInversion.Core.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace MaskInversion.Core.Inversion;

/// <summary>Batched result of inverting M masks of one image. Owns its tensors.</summary>
public sealed class InversionOutput : IDisposable
{
    /// <summary>Localized embedding tokens LET_m, (M, d), unnormalised like CLIP's image embedding.</summary>
    public required Tensor Embeddings { get; init; }
    /// <summary>Explainability maps of the final tokens, (M, S, S), or null when not requested.</summary>
    public Tensor? Maps { get; init; }
    /// <summary>Per-mask loss at each step, (M, K), of the token before that step's update; the loss of the returned
    /// tokens is in <see cref="FinalLoss"/>.</summary>
    public required Tensor LossPerStep { get; init; }
    /// <summary>The soft Dice part of <see cref="LossPerStep"/>, (M, K) (equal to it when α = 0).</summary>
    public required Tensor DicePerStep { get; init; }
    /// <summary>Dice loss of the final tokens' maps against the masks, (M).</summary>
    public required Tensor FinalDice { get; init; }
    public required Tensor FinalLoss { get; init; }
    public InversionPath Path { get; init; }

    public void Dispose()
    {
        Embeddings.Dispose(); Maps?.Dispose(); LossPerStep.Dispose(); DicePerStep.Dispose(); FinalDice.Dispose(); FinalLoss.Dispose();
    }
}

/// <summary>MaskInversion: K AdamW steps on the localized token so that its LeGrad map matches the mask.
/// The backbone is frozen; masks are processed in independent chunks (summed loss, elementwise Adam),
/// so each mask's trajectory does not depend on which masks share its batch.
/// All methods are synchronous and must run on the thread that owns tensor work.</summary>
public sealed class MaskInverter : IDisposable
{
    readonly VisionTransformer visual;

    /// <summary>Image-independent constants of the decomposition, built once per model.</summary>
    public LastBlockDecomposition Decomposition { get; }

    public MaskInverter(VisionTransformer visual)
    {
        this.visual = visual;
        // Frozen backbone: no parameter gradients are ever computed or accumulated.
        foreach (var p in visual.parameters()) p.requires_grad = false;
        Decomposition = new LastBlockDecomposition(visual);
    }

    /// <summary>Forwards one preprocessed image (1, 3, S, S) once and keeps what its masks need.</summary>
    public ImageFeatures Prepare(Tensor pixels) => ImageFeatures.Compute(Decomposition, pixels);

    public void Dispose() => Decomposition.Dispose();

    public InversionPath ChoosePath(ImageFeatures features, int masks, InversionOptions options) =>
        options.Path != InversionPath.Auto
            ? options.Path
            : InversionCost.Of(features).Choose(masks, options.Iterations, features.ExplicitMapBytes, options.ExplicitMapBudgetBytes);

    /// <summary>Masks per chunk. Chunks are independent (summed loss, elementwise Adam), so the size only
    /// trades speed for memory: the hard limit is the step memory budget; below it we prefer chunks whose
    /// largest temporaries stay under <see cref="InversionOptions.PreferredAllocationBytes"/>, because
    /// glibc serves bigger blocks by fresh mmap (page faults every step) and they fall out of cache.
    /// The explicit path is different: each step streams the whole d × n·D map twice, so it takes as many
    /// masks as the budget allows and bounds its temporaries by sub-chunking after Q (see StepGradient).
    /// <paramref name="maskPixels"/> (the largest mask's H·W) counts the Dice tail at mask resolution against the
    /// budget: a 12-megapixel mask costs about 200 MB per mask and step.</summary>
    public static int ChunkSize(ImageFeatures f, InversionOptions options, InversionPath path, long maskPixels = 0)
    {
        if (path == InversionPath.Explicit)
        {
            double perMaskQ = 4.0 * 4 * f.Tokens * f.Width; // Q, dQ, and their views in the step
            return (int)Math.Clamp((options.StepMemoryBudgetBytes - SubChunkBytes(f, options, maskPixels)) / perMaskQ, 1, 4096);
        }
        double grad = 4.0 * f.Heads * f.Tokens * (double)f.Tokens;                 // ∂s/∂A per mask, bytes
        double hidden = 4.0 * f.Tokens * f.MlpSlope.shape[1];                       // act′ ⊙ W₂ᵀg, or the vanilla block's MLP
        double perMask = 4 * grad + 2 * hidden + DiceTailBytes(maskPixels);
        int hard = (int)Math.Clamp(options.StepMemoryBudgetBytes / perMask, 1, 4096);
        return Math.Max(1, Math.Min(hard, SubChunkSize(f, options, maskPixels)));
    }

    /// <summary>Masks whose attention-gradient temporaries fit the preferred allocation size, and whose Dice tails at
    /// mask resolution fit half the step budget.</summary>
    public static int SubChunkSize(ImageFeatures f, InversionOptions options, long maskPixels = 0)
    {
        double grad = 4.0 * f.Heads * f.Tokens * (double)f.Tokens;
        double hidden = 4.0 * f.Tokens * f.MlpSlope.shape[1];
        int preferred = (int)Math.Clamp(options.PreferredAllocationBytes / Math.Max(grad, hidden), Math.Max(1, options.MinChunk), 4096);
        int hard = (int)Math.Clamp(options.StepMemoryBudgetBytes / 2.0 / Math.Max(1, DiceTailBytes(maskPixels)), 1, 4096);
        return Math.Min(preferred, hard);
    }

    /// <summary>The map resized to the mask, its product with the mask, and their gradients: four floats per mask pixel.</summary>
    static double DiceTailBytes(long maskPixels) => 16.0 * maskPixels;

    static double SubChunkBytes(ImageFeatures f, InversionOptions options, long maskPixels) =>
        Math.Min(options.StepMemoryBudgetBytes / 2.0, SubChunkSize(f, options, maskPixels) * 4.0 * 4 * f.Heads * f.Tokens * (double)f.Tokens);

    /// <summary>Inverts masks (M, H, W) of values in [0, 1], all of one size, against one image's features. Each map is
    /// resized to the masks' resolution for the loss (bilinear, as the reference), whatever the model's input size.</summary>
    public InversionOutput Invert(ImageFeatures features, Tensor masks, InversionOptions options)
    {
        options.Validate();
        using var targets = MaskTargets.FromBatch(masks, features.Embedding.dtype, features.Embedding.device);
        return Invert(features, targets, options);
    }

    /// <summary>Inverts masks (H_m, W_m) of any sizes (e.g. each at its dataset's resolution) against one image's features;
    /// the outputs are in the given order. Masks are worked sorted by size, so each run of equal size shares one resize
    /// per step; a mask's result does not depend on which masks share its batch.</summary>
    public InversionOutput Invert(ImageFeatures features, IReadOnlyList<Tensor> masks, InversionOptions options)
    {
        options.Validate();
        MaskTargets.Validate(masks);
        var order = Enumerable.Range(0, masks.Count).OrderBy(i => masks[i].shape[0]).ThenBy(i => masks[i].shape[1]).ToArray(); // stable
        using var targets = MaskTargets.FromList(order.Select(i => masks[i]).ToList(), features.Embedding.dtype, features.Embedding.device);
        var sorted = Invert(features, targets, options);
        if (order.Select((o, i) => o == i).All(b => b)) return sorted;
        using (sorted)
        {
            var inverse = new long[order.Length];
            for (int i = 0; i < order.Length; i++) inverse[order[i]] = i;
            using var index = torch.tensor(inverse, device: sorted.Embeddings.device);
            return new InversionOutput
            {
                Embeddings = sorted.Embeddings.index_select(0, index),
                Maps = sorted.Maps?.index_select(0, index),
                LossPerStep = sorted.LossPerStep.index_select(0, index),
                DicePerStep = sorted.DicePerStep.index_select(0, index),
                FinalDice = sorted.FinalDice.index_select(0, index),
                FinalLoss = sorted.FinalLoss.index_select(0, index),
                Path = sorted.Path,
            };
        }
    }

    InversionOutput Invert(ImageFeatures features, MaskTargets masks, InversionOptions options)
    {
        var path = ChoosePath(features, (int)masks.Count, options);
        if (path == InversionPath.Explicit) features.BuildExplicitMap();
        int chunk = ChunkSize(features, options, path, masks.MaxPixels);
        long m = masks.Count;
        if (m <= chunk) return InvertChunk(features, masks, options, path);

        var parts = new List<InversionOutput>();
        try
        {
            for (long start = 0; start < m; start += chunk)
            {
                using var slice = masks.Narrow(start, Math.Min(chunk, m - start));
                parts.Add(InvertChunk(features, slice, options, path));
            }
            return new InversionOutput
            {
                Embeddings = torch.cat(parts.Select(p => p.Embeddings).ToList(), 0),
                Maps = options.ReturnMaps ? torch.cat(parts.Select(p => p.Maps!).ToList(), 0) : null,
                LossPerStep = torch.cat(parts.Select(p => p.LossPerStep).ToList(), 0),
                DicePerStep = torch.cat(parts.Select(p => p.DicePerStep).ToList(), 0),
                FinalDice = torch.cat(parts.Select(p => p.FinalDice).ToList(), 0),
                FinalLoss = torch.cat(parts.Select(p => p.FinalLoss).ToList(), 0),
                Path = path,
            };
        }
        finally
        {
            foreach (var p in parts) p.Dispose();
        }
    }

    InversionOutput InvertChunk(ImageFeatures f, MaskTargets target, InversionOptions o, InversionPath path)
    {
        long m = target.Count;
        // Kept on the device; read once at the end, not per step.
        var losses = torch.zeros(m, o.Iterations, dtype: ScalarType.Float32, device: f.Embedding.device);
        var dices = torch.zeros(m, o.Iterations, dtype: ScalarType.Float32, device: f.Embedding.device);
        using var initial = f.Embedding.unsqueeze(0).expand(m, -1).contiguous();
        using var token = initial.clone().requires_grad_(true);
        using var optimizer = new AdamW(token, o.LearningRate, weightDecay: o.WeightDecay);

        int sub = SubChunkSize(f, o, target.MaxPixels);
        using var qBuffer = path == InversionPath.Explicit ? torch.empty(m, (long)f.Tokens * f.Width, dtype: token.dtype, device: token.device) : null;
        using var dqBuffer = path == InversionPath.Explicit ? torch.empty_like(qBuffer!) : null;
        (Tensor, Tensor)? buffers = qBuffer is null ? null : (qBuffer, dqBuffer!);
        for (int k = 0; k < o.Iterations; k++)
        {
            using var scope = torch.NewDisposeScope();
            var (perMask, dice, grad) = StepGradient(f, token, target, initial, o.Alpha, path, sub, buffers);
            losses.select(1, k).copy_(perMask);
            dices.select(1, k).copy_(dice);
            optimizer.Step(token, grad);
        }

        using var final = torch.NewDisposeScope();
        var embeddings = token.detach().clone();
        Tensor finalMaps;
        using (torch.enable_grad())
        {
            // Vanilla needs a graph for ∂s/∂A even here; decomposed paths do not.
            var units = torch.nn.functional.normalize(embeddings, p: 2, dim: 1);
            finalMaps = path == InversionPath.Explicit
                ? ExplicitMaps(f, units, sub, qBuffer!)
                : Maps(f, units, path, createGraph: false).detach();
        }
        var finalDice = target.Dice(finalMaps);
        var finalLoss = target.Loss(finalMaps, embeddings, initial, o.Alpha);
        return new InversionOutput
        {
            Embeddings = embeddings.MoveToOuterDisposeScope(),
            Maps = o.ReturnMaps ? finalMaps.MoveToOuterDisposeScope() : null,
            LossPerStep = losses,
            DicePerStep = dices,
            FinalDice = finalDice.MoveToOuterDisposeScope(),
            FinalLoss = finalLoss.MoveToOuterDisposeScope(),
            Path = path,
        };
    }

    static IEnumerable<(long Start, long Count)> SubChunks(long m, int size)
    {
        for (long s = 0; s < m; s += size) yield return (s, Math.Min(size, m - s));
    }

    /// <summary>Final maps on the explicit path: one product with L for all masks (into the step buffer), then the
    /// relevance per sub-chunk.</summary>
    static Tensor ExplicitMaps(ImageFeatures f, Tensor units, int sub, Tensor qBuffer)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        long m = units.shape[0];
        var q = f.ApplyExplicit(units, into: qBuffer);
        var maps = new List<Tensor>();
        foreach (var (start, count) in SubChunks(m, sub))
        {
            var (relevance, scores) = f.PatchRelevance(q.narrow(0, start, count));
            scores.Dispose();
            maps.Add(LeGrad.PatchRelevanceToMap(relevance, f.PatchSize));
        }
        return torch.cat(maps, 0).MoveToOuterDisposeScope();
    }

    /// <summary>Per-mask loss and its Dice part (detached) and ∂(Σ loss)/∂token for one optimizer step.
    /// Explicit path: the chain rule is split at Q. Q = û·L for all masks at once (L is streamed once),
    /// then each sub-chunk's LeGrad relevance, map, Dice and ∂Dice/∂Q are computed and freed before the next, and a
    /// single backward through û·L (L streamed once more) gives ∂/∂token. The relevance and its backward (Q·Vᵀ,
    /// ReLU, mean, and back) are written by hand in place on one (c, h, n, n−1) tensor; only the small map/Dice tail
    /// uses autograd. Exactly the same gradient as one graph, with temporaries bounded by the sub-chunk.</summary>
    (Tensor Loss, Tensor Dice, Tensor Gradient) StepGradient(ImageFeatures f, Tensor token, MaskTargets target, Tensor initial, double alpha, InversionPath path, int sub,
        (Tensor Q, Tensor DQ)? buffers)
    {
        using var scope = torch.NewDisposeScope();
        var units = torch.nn.functional.normalize(token, p: 2, dim: 1);
        if (path != InversionPath.Explicit)
        {
            var maps = Maps(f, units, path, createGraph: true);
            var d = target.Dice(maps);
            var perMask = alpha != 0 ? d.Plus(DiceLoss.Anchor(token, initial, alpha)) : d;
            var g = torch.autograd.grad([perMask.sum()], [token])[0];
            return (perMask.detach().MoveToOuterDisposeScope(), d.detach().MoveToOuterDisposeScope(), g.MoveToOuterDisposeScope());
        }

        long m = token.shape[0];
        Tensor dUnits;
        var dice = torch.empty(m, dtype: token.dtype, device: token.device);
        using (torch.no_grad())
        {
            // No graph over Q (M·n·D): Q is written into a buffer reused by every step (a fresh one this size is
            // a fresh mmap whose page faults cost as much as the product), its gradient is formed by hand per
            // sub-chunk, then one product with Lᵀ.
            var (qBuffer, dqBuffer) = buffers!.Value;
            var q = f.ApplyExplicit(units.detach(), into: qBuffer);
            var dq = dqBuffer.view(m, f.Tokens, f.Width);
            foreach (var (start, count) in SubChunks(m, sub))
            {
                using var inner = torch.NewDisposeScope();
                var (relevance, scores) = f.PatchRelevance(q.narrow(0, start, count));
                using var maskSlice = target.Narrow(start, count);
                Tensor dRelevance;
                using (torch.enable_grad())
                {
                    // Only the small tail (map, resize, Dice) goes through autograd.
                    var leaf = relevance.requires_grad_(true);
                    var d = maskSlice.Dice(LeGrad.PatchRelevanceToMap(leaf, f.PatchSize));
                    dRelevance = torch.autograd.grad([d.sum()], [leaf])[0];
                    dice.narrow(0, start, count).copy_(d.detach());
                }
                f.PatchRelevanceBackward(scores, dRelevance, dq.narrow(0, start, count));
            }
            dUnits = torch.matmul(dqBuffer, f.ExplicitMap!.t());
        }
        // Back through û = token/‖token‖ and the regulariser: a (M, d) graph.
        var surrogate = (units * dUnits).sum();
        var loss = dice;
        if (alpha != 0)
        {
            var reg = DiceLoss.Anchor(token, initial, alpha);
            surrogate = surrogate.Plus(reg.sum());
            loss = dice.Plus(reg.detach());
        }
        var grad = torch.autograd.grad([surrogate], [token])[0];
        return (loss.MoveToOuterDisposeScope(), dice.MoveToOuterDisposeScope(), grad.MoveToOuterDisposeScope());
    }

    /// <summary>∂(Σ_m loss_m)/∂LET for tokens (M, d) along a path: what one optimizer step sees.
    /// For tests and diagnostics; returns (per-mask loss, gradient).</summary>
    public (Tensor Loss, Tensor Gradient) LossGradient(ImageFeatures f, Tensor masks, Tensor tokens, double alpha, InversionPath path)
    {
        using var scope = torch.NewDisposeScope();
        using var enable = torch.enable_grad();
        var leaf = tokens.detach().clone().requires_grad_(true);
        var initial = f.Embedding.unsqueeze(0).expand(tokens.shape[0], -1);
        var units = torch.nn.functional.normalize(leaf, p: 2, dim: 1);
        var maps = Maps(f, units, path, createGraph: true);
        using var targets = MaskTargets.FromBatch(masks, leaf.dtype, leaf.device);
        var perMask = targets.Loss(maps, leaf, initial, alpha);
        var grad = torch.autograd.grad([perMask.sum()], [leaf])[0];
        return (perMask.detach().MoveToOuterDisposeScope(), grad.MoveToOuterDisposeScope());
    }

    /// <summary>LeGrad maps (M, S, S) for unit score directions (M, d) along the chosen path.</summary>
    public Tensor Maps(ImageFeatures f, Tensor units, InversionPath path, bool createGraph)
    {
        using var scope = torch.NewDisposeScope();
        var grad = path switch
        {
            InversionPath.Vanilla => VanillaAttentionGradient(f, units, createGraph),
            InversionPath.Explicit => f.AttentionGradient(f.ApplyExplicit(units)),
            InversionPath.Implicit => f.AttentionGradient(f.ApplyImplicit(units)),
            _ => throw new ArgumentOutOfRangeException(nameof(path), path, "Resolve Auto with ChoosePath first."),
        };
        return LeGrad.MapFromAttentionGradient(grad, f.PatchSize).MoveToOuterDisposeScope();
    }

    /// <summary>The paper's baseline: replicate the last block's input per mask, run the block with a graph
    /// from the attention probabilities, and take ∂(Σ_m u_m·ẑ_m)/∂A by autograd (create_graph for the
    /// double backward).</summary>
    Tensor VanillaAttentionGradient(ImageFeatures f, Tensor units, bool createGraph)
    {
        using var scope = torch.NewDisposeScope();
        var block = visual.LastBlock;
        long m = units.shape[0];
        var x = f.LastBlockInput.unsqueeze(0).expand(m, -1, -1);
        Tensor probs, v;
        using (torch.no_grad())
        {
            var (q, k, vv) = block.attn.Project(block.ln_1.forward(x));
            probs = block.attn.Probabilities(q, k);
            v = vv;
        }
        var a = probs.detach().requires_grad_(true);
        using var enable = torch.enable_grad();
        var xMid = x.Plus(block.attn.Combine(a, v));
        var xOut = xMid.Plus(block.mlp.forward(block.ln_2.forward(xMid)));
        var z = visual.MeanPooledHead(xOut);
        var score = (units * torch.nn.functional.normalize(z, p: 2, dim: 1)).sum();
        // autograd.grad aborts the process on bad input instead of throwing: check first.
        if (!score.requires_grad || !a.requires_grad || !a.is_leaf)
            throw new InvalidOperationException("Vanilla path: the score does not depend on the attention probabilities.");
        var grads = torch.autograd.grad([score], [a], retain_graph: createGraph, create_graph: createGraph);
        return grads[0].MoveToOuterDisposeScope();
    }
}
