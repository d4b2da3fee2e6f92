using MaskInversion.Core.Models;
using MaskInversion.Core.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace MaskInversion.Core.Text;

/// <summary>CLIP zero-shot head: one unit-norm text embedding per class (the renormalised mean of its
/// normalised prompt embeddings), and cosine scores of image or localized embeddings against them.
/// Synchronous on purpose: TorchSharp dispose scopes are thread-local.</summary>
public sealed class ZeroShotClassifier : IDisposable
{
    public const int DefaultBatchSize = 256;

    public IReadOnlyList<string> ClassNames { get; }
    public IReadOnlyList<string> Templates { get; }

    /// <summary>(C, embed) float32, unit rows, on the model's device.</summary>
    public Tensor ClassEmbeddings { get; }

    public ZeroShotClassifier(ClipModel model, ClipTokenizer tokenizer, IReadOnlyList<string> classNames, IReadOnlyList<string> templates, int batchSize = DefaultBatchSize)
    {
        ClassNames = [.. classNames];
        Templates = [.. templates];
        ClassEmbeddings = BuildClassEmbeddings(model, tokenizer, ClassNames, Templates, batchSize);
    }

    /// <summary>Class embeddings (C, embed) float32: every class × template prompt goes through
    /// <see cref="ClipModel.EncodeText"/> in batches, each is L2-normalised, averaged per class and
    /// renormalised (OpenAI's zeroshot_classifier).</summary>
    public static Tensor BuildClassEmbeddings(ClipModel model, ClipTokenizer tokenizer, IReadOnlyList<string> classNames, IReadOnlyList<string> templates, int batchSize = DefaultBatchSize)
    {
        if (classNames.Count == 0) throw new ArgumentException("At least one class name is needed.", nameof(classNames));
        if (templates.Count == 0) throw new ArgumentException("At least one prompt template is needed.", nameof(templates));
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        if (tokenizer.VocabSize > model.Config.Text.VocabSize)
            throw new ArgumentException($"The tokenizer's vocabulary ({tokenizer.VocabSize}) exceeds the model's ({model.Config.Text.VocabSize}).", nameof(tokenizer));

        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var device = model.text_projection.device;
        var context = model.Config.Text.ContextLength;
        var prompts = classNames.SelectMany(c => templates.Select(t => PromptTemplates.Fill(t, c))).ToArray();

        // Sum the normalised prompt embeddings per class instead of keeping all C·T of them: the mean's
        // direction is the sum's, and memory stays (C, embed).
        var sums = torch.zeros(classNames.Count, model.Config.EmbedDim, dtype: ScalarType.Float32, device: device);
        for (int start = 0; start < prompts.Length; start += batchSize)
        {
            using var batchScope = torch.NewDisposeScope();
            var count = Math.Min(batchSize, prompts.Length - start);
            var tokens = torch.tensor(tokenizer.TokenizeBatch(prompts.AsSpan(start, count).ToArray(), context), device: device);
            var embedded = model.EncodeText(tokens).to(ScalarType.Float32);
            var unit = nn.functional.normalize(embedded, p: 2, dim: -1);
            using var first = start.ToScalar();
            using var end = (start + count).ToScalar();
            using var perClass = templates.Count.ToScalar();
            var classIndex = torch.arange(first, end, Scalars.One, dtype: ScalarType.Int64, device: device).div(perClass, rounding_mode: RoundingMode.floor);
            sums.index_add_(0, classIndex, unit, alpha: Scalars.One);
        }
        return nn.functional.normalize(sums, p: 2, dim: -1).MoveToOuterDisposeScope();
    }

    /// <summary>Cosine similarity (M, C) of embeddings (M, embed) with the classes; the rows need not be
    /// normalised (LETs are not).</summary>
    public Tensor Scores(Tensor embeddings)
    {
        if (embeddings.dim() != 2 || embeddings.shape[1] != ClassEmbeddings.shape[1])
            throw new ArgumentException($"Expected embeddings (M, {ClassEmbeddings.shape[1]}), got ({string.Join(", ", embeddings.shape)}).", nameof(embeddings));
        using var scope = torch.NewDisposeScope();
        var unit = nn.functional.normalize(embeddings.to(ScalarType.Float32, ClassEmbeddings.device), p: 2, dim: -1);
        // One row at a time: a matrix product's last bits depend on how many rows share it (the kernel's blocking), and a
        // mask's scores must not depend on which masks share its batch (a re-dispatched image recomputes only some).
        var classes = ClassEmbeddings.t();
        var rows = Enumerable.Range(0, (int)unit.shape[0]).Select(i => torch.matmul(unit[i].unsqueeze(0), classes)).ToList();
        return (rows.Count == 0 ? torch.matmul(unit, classes) : torch.cat(rows, 0)).MoveToOuterDisposeScope();
    }

    /// <summary>Per embedding row, the k best classes by cosine score, best first.</summary>
    public (int ClassIndex, float Score)[][] TopK(Tensor embeddings, int k)
    {
        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        return TopKOfScores(Scores(embeddings), k);
    }

    /// <summary>Per row of a score matrix (M, C), the k highest (column, score) pairs, best first.</summary>
    public static (int ClassIndex, float Score)[][] TopKOfScores(Tensor scores, int k)
    {
        if (scores.dim() != 2) throw new ArgumentException("Scores must be (M, C).", nameof(scores));
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        using var scope = torch.NewDisposeScope();
        var kk = (int)Math.Min(k, scores.shape[1]);
        var (values, indices) = scores.detach().to(ScalarType.Float32).cpu().topk(kk, dim: 1, largest: true, sorted: true);
        var v = values.data<float>().ToArray();
        var ix = indices.data<long>().ToArray();
        var rows = new (int, float)[scores.shape[0]][];
        for (int m = 0; m < rows.Length; m++)
        {
            rows[m] = new (int, float)[kk];
            for (int j = 0; j < kk; j++) rows[m][j] = ((int)ix[m * kk + j], v[m * kk + j]);
        }
        return rows;
    }

    public void Dispose() => ClassEmbeddings.Dispose();
}
