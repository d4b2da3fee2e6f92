using MaskInversion.Core.Imaging;
using MaskInversion.Core.Metrics;
using MaskInversion.Core.Pipeline;
using MaskInversion.Core.Runtime;
using MaskInversion.Core.Synthetic;
using MaskInversion.Core.Text;

namespace MaskInversion.Core.Referring;

/// <summary>One referring expression of an image and the id of the candidate mask it refers to.</summary>
public sealed record ReferringQuery(string ExpressionId, string Text, string TrueMaskId);

/// <summary>One image's referring work: each candidate's results per method (top classes when the engine has class
/// prompts, Dice for inversions, the region embedding) and each method's outcomes, one per query in query order.</summary>
public sealed record ReferringImageResult(IReadOnlyList<MaskResult> Regions, IReadOnlyDictionary<RegionMethod, ReferringOutcome[]> Outcomes);

/// <summary>
/// Referring-expression retrieval on one prepared image (paper §4): every candidate mask gets a region embedding per
/// method (MaskInversion's token, or a baseline's embedding) through the same <see cref="RegionEngine"/> class retrieval
/// uses, every expression a text embedding (verbatim, no template), and each expression ranks the candidates by cosine.
/// The outcome per expression is the true mask's rank and the pixel overlap of the top-ranked mask with it, which
/// <see cref="ReferringAccumulator"/> turns into Acc@1/5/10, mIoU and oIoU.
/// <para>
/// Ties (the global CLIP embedding scores every candidate the same) are broken by a hash of (expression, mask) ids, not
/// by candidate order, so a method that cannot tell masks apart scores chance, whatever order a dataset lists them in.
/// Cosines are computed in double precision from the rows, so identical embeddings tie exactly.
/// For referring expressions the paper uses α = 5 (<see cref="Inversion.InversionOptions.Alpha"/> in the engine's settings).
/// </para>
/// </summary>
public sealed class ReferringEvaluator(RegionEngine engine)
{
    public RegionEngine Engine { get; } = engine;

    /// <summary>Outcomes per method, one per query in query order. Synchronous, on the engine's owner thread.</summary>
    public IReadOnlyDictionary<RegionMethod, ReferringOutcome[]> Evaluate(PreparedImage image, IReadOnlyList<MaskInput> candidates,
        IReadOnlyList<ReferringQuery> queries, IReadOnlyList<RegionMethod> methods)
    {
        Check(image, candidates, queries);
        return queries.Count == 0 ? methods.ToDictionary(m => m, _ => Array.Empty<ReferringOutcome>()) : EvaluateImage(image, candidates, queries, methods).Outcomes;
    }

    /// <summary>The whole image's work: every candidate's region results under every method (one batched
    /// <see cref="RegionEngine.Evaluate"/>, embeddings included) and every query's outcome per method. What a compute
    /// silo runs for a referring image, so a cluster job and <see cref="Evaluate"/> compute alike.</summary>
    public ReferringImageResult EvaluateImage(PreparedImage image, IReadOnlyList<MaskInput> candidates,
        IReadOnlyList<ReferringQuery> queries, IReadOnlyList<RegionMethod> methods)
    {
        var index = Check(image, candidates, queries);
        var texts = queries.Count == 0 ? [] : TextEmbeddings(queries.Select(q => q.Text).ToArray());
        var regions = Engine.Evaluate(image, candidates, methods, returnEmbeddings: true);
        var outcomes = new Dictionary<RegionMethod, ReferringOutcome[]>();
        foreach (var method in methods)
        {
            var rows = new float[candidates.Count][];
            foreach (var r in regions.Where(r => r.Method == method)) rows[index[r.MaskId]] = r.Embedding!;
            var units = rows.Select(Unit).ToArray();
            outcomes[method] = queries.Select((q, qi) => Outcome(image.ImageId, q, texts[qi], units, candidates, index[q.TrueMaskId])).ToArray();
        }
        return new ReferringImageResult(regions, outcomes);
    }

    /// <summary>Candidate ids are unique and every query's true mask is a candidate; returns id → position.</summary>
    static Dictionary<string, int> Check(PreparedImage image, IReadOnlyList<MaskInput> candidates, IReadOnlyList<ReferringQuery> queries)
    {
        if (candidates.Count == 0) throw new ArgumentException($"Image {image.ImageId} has no candidate masks.", nameof(candidates));
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < candidates.Count; i++)
            if (!index.TryAdd(candidates[i].MaskId, i)) throw new ArgumentException($"Image {image.ImageId}: candidate mask id '{candidates[i].MaskId}' appears twice.");
        foreach (var q in queries)
            if (!index.ContainsKey(q.TrueMaskId))
                throw new ArgumentException($"Image {image.ImageId}: expression {q.ExpressionId} refers to mask '{q.TrueMaskId}', which is not a candidate.");
        return index;
    }

    /// <summary>The candidates in ranked order for one expression: cosine descending, ties by a hash of the ids.</summary>
    static int[] Rank(string imageId, ReferringQuery q, double[] text, double[][] units, IReadOnlyList<MaskInput> candidates)
    {
        var scores = units.Select(u => Dot(text, u)).ToArray();
        return Enumerable.Range(0, units.Length)
            .OrderByDescending(i => scores[i])
            .ThenBy(i => TieKey(imageId, q.ExpressionId, candidates[i].MaskId))
            .ToArray();
    }

    static ReferringOutcome Outcome(string imageId, ReferringQuery q, double[] text, double[][] units, IReadOnlyList<MaskInput> candidates, int truth)
    {
        var order = Rank(imageId, q, text, units, candidates);
        var top = candidates[order[0]];
        var predicted = top.Mask;
        var trueMask = candidates[truth].Mask;
        if (predicted.Width != trueMask.Width || predicted.Height != trueMask.Height)
            predicted = MaskLoader.Resize(predicted, trueMask.Width, trueMask.Height);
        var (inter, union) = MaskIoU.Counts(predicted, trueMask);
        return new ReferringOutcome(q.ExpressionId, Array.IndexOf(order, truth), inter, union, top.MaskId);
    }

    /// <summary>FNV-1a over the ids (separated), then mixed: stable across processes, and different per image, since
    /// expression and mask ids repeat across images in some datasets.</summary>
    static ulong TieKey(string imageId, string expressionId, string maskId)
    {
        ulong h = 0xCBF29CE484222325UL;
        foreach (var part in new[] { imageId, expressionId, maskId })
        {
            foreach (char c in part) h = (h ^ c) * 0x100000001B3UL;
            h = (h ^ 0x1F) * 0x100000001B3UL;
        }
        return SceneSeed.Mix(h);
    }

    double[][] TextEmbeddings(IReadOnlyList<string> texts)
    {
        using var e = Engine.Model.EncodeTexts(texts, [PromptTemplates.Placeholder]);
        return TensorRows.Of(e).Select(Unit).ToArray();
    }

    static double[] Unit(float[] v)
    {
        double norm = Math.Sqrt(v.Sum(x => (double)x * x));
        return v.Select(x => norm > 0 ? x / norm : 0).ToArray();
    }

    static double Dot(double[] a, double[] b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++) s += a[i] * b[i];
        return s;
    }

    /// <summary>Adds one image's outcomes to per-method accumulators (created as needed); idempotent per expression.</summary>
    public static void Accumulate(IDictionary<RegionMethod, ReferringAccumulator> accumulators, string imageId,
        IReadOnlyDictionary<RegionMethod, ReferringOutcome[]> outcomes)
    {
        foreach (var (method, list) in outcomes)
        {
            if (!accumulators.TryGetValue(method, out var acc)) accumulators[method] = acc = new ReferringAccumulator();
            foreach (var o in list) acc.Add(imageId, o);
        }
    }
}
