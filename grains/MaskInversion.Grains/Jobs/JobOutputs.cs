using MaskInversion.Core.Datasets;
using MaskInversion.Core.Metrics;
using MaskInversion.Core.Output;

namespace MaskInversion.Grains;

/// <summary>
/// A job's folder (on a file system every silo reaches): Parquet parts of per-mask rows (masks/), per-expression rows of
/// referring jobs (expressions/) and embeddings (embeddings/), metrics.json, and overlays/ (written by compute silos). Rows go into the current part; a
/// checkpoint commits it, and the coordinator persists the committed count, so parts numbered at or above it are
/// leftovers of a crash and are deleted on resume — nothing is written twice. Each shard of a sharded job numbers its
/// own parts (part-NNNNN-shardSSS.parquet) and deletes only its own.
/// </summary>
sealed class JobOutputs(JobSettings job, int committedParts, int shard = 0, int shards = 1) : IAsyncDisposable
{
    readonly string folder = job.OutputFolder;
    PerMaskResultsParquet? rows;
    PerExpressionResultsParquet? expressions;
    EmbeddingsParquet? embeddings;
    int part = committedParts;

    public string MetricsPath => Path.Combine(folder, "metrics.json");

    public static string MetricsPathOf(JobSettings job) => Path.Combine(job.OutputFolder, "metrics.json");

    public static string OverlayFolder(JobSettings job) => Path.Combine(job.OutputFolder, "overlays");

    /// <summary>One row per (mask, method), one per failed mask with its error, and the embeddings when returned; in
    /// referring jobs one row per (expression, method), one per failed expression.</summary>
    public async Task WriteAsync(DatasetImage image, ImageOutcome outcome, JobClasses classes)
    {
        if (outcome.Expressions is { } scored) await WriteExpressionsAsync(image, scored);
        var labels = image.Masks.ToDictionary(m => m.MaskId, m => m.ClassId ?? m.Expression, StringComparer.Ordinal);
        foreach (var mask in outcome.Masks)
        {
            var label = labels.GetValueOrDefault(mask.MaskId);
            if (mask.Error is not null)
            {
                await WriteRowAsync(new PerMaskResult(image.ImageId, mask.MaskId, "", label, [], [], null, mask.Error));
                continue;
            }
            foreach (var r in mask.Results)
            {
                await WriteRowAsync(new PerMaskResult(image.ImageId, mask.MaskId, r.Method, label,
                    r.TopClasses.Select(classes.IdOf).ToArray(), r.TopScores, r.DiceLoss, null));
                if (r.Embedding is not null)
                {
                    if (embeddings is null)
                    {
                        WriteEmbeddingsInfo(r.Embedding.Length);
                        embeddings = EmbeddingsParquet.Create(PartPath("embeddings", part));
                    }
                    await embeddings.AddAsync(new MaskEmbedding(image.ImageId, mask.MaskId, r.Method, r.Embedding));
                }
            }
        }
    }

    /// <summary>embeddings/embeddings.json: what the vectors are (#13: readers had to guess whether they were normalised
    /// and from which model). Written once per job, beside the first part.</summary>
    void WriteEmbeddingsInfo(int dimension)
    {
        var path = Path.Combine(folder, "embeddings", "embeddings.json");
        if (File.Exists(path)) return;
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var info = new System.Text.Json.Nodes.JsonObject
        {
            ["model"] = JobMetrics.ModelName(job), ["pretrained"] = job.PretrainedTag ?? (job.Weights is null ? "random" : "custom"),
            ["weights"] = job.Weights is null ? null : Path.GetFileName(job.Weights), ["image_size"] = job.ImageSize,
            ["dimension"] = dimension,
            // Like CLIP's image embedding, before the cosine's normalisation: normalise to compare with text embeddings.
            ["l2_normalized"] = false,
            ["methods"] = new System.Text.Json.Nodes.JsonArray(job.Methods.Select(m => (System.Text.Json.Nodes.JsonNode?)m).ToArray()),
            ["columns"] = "image_id, mask_id, method, embedding (list<float>, length = dimension)",
        };
        var tmp = $"{path}.{Guid.NewGuid():N}.tmp";   // shards on other silos may write it at the same moment
        File.WriteAllText(tmp, info.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
        File.Move(tmp, path, overwrite: true);
    }

    async Task WriteExpressionsAsync(DatasetImage image, IEnumerable<ExpressionRecord> records)
    {
        var texts = (image.Expressions ?? []).ToDictionary(e => e.ExpressionId, e => e.Text, StringComparer.Ordinal);
        foreach (var e in records)
        {
            var text = texts.GetValueOrDefault(e.ExpressionId) ?? "";
            expressions ??= PerExpressionResultsParquet.Create(PartPath("expressions", part));
            if (e.Error is not null)
            {
                await expressions.AddAsync(new PerExpressionResult(image.ImageId, e.ExpressionId, text, e.TrueMaskId, "", null, null, null, null, null, e.Error));
                continue;
            }
            foreach (var r in e.Results)
                await expressions.AddAsync(new PerExpressionResult(image.ImageId, e.ExpressionId, text, e.TrueMaskId, r.Method, r.PredictedMaskId,
                    r.Rank + 1, MaskIoU.IoU(r.Intersection, r.Union), r.Intersection, r.Union, null));
        }
    }

    /// <summary>A dataset row that could not be read: one row with its error.</summary>
    public Task WriteReadErrorAsync(DatasetError error) =>
        WriteRowAsync(new PerMaskResult(error.ItemId, "", "", null, [], [], null, error.Message));

    async Task WriteRowAsync(PerMaskResult row)
    {
        rows ??= PerMaskResultsParquet.Create(PartPath("masks", part));
        await rows.AddAsync(row);
    }

    /// <summary>Closes the current part; returns the number of committed parts to persist.</summary>
    public async Task<int> CommitAsync()
    {
        bool wrote = rows is not null || expressions is not null || embeddings is not null;
        await DisposeAsync();
        if (wrote) part++;
        return part;
    }

    /// <summary>Deletes parts numbered ≥ <paramref name="fromIndex"/> (uncommitted rows of an earlier run).</summary>
    public void DeleteParts(int fromIndex)
    {
        foreach (var kind in new[] { "masks", "expressions", "embeddings" })
        {
            var dir = Path.Combine(folder, kind);
            if (!Directory.Exists(dir)) continue;
            foreach (var file in Directory.EnumerateFiles(dir, "part-*.parquet"))
                if (PartIndex(Path.GetFileName(file)) is { } i && i >= fromIndex) File.Delete(file);
        }
    }

    string PartPath(string kind, int index)
    {
        var dir = Path.Combine(folder, kind);
        Directory.CreateDirectory(dir);
        return Path.Combine(dir, PartName(index, shard, shards));
    }

    /// <summary>part-NNNNN.parquet, or part-NNNNN-shardSSS.parquet in a sharded job.</summary>
    public static string PartName(int index, int shard, int shards) =>
        shards == 1 ? $"part-{index:D5}.parquet" : $"part-{index:D5}-shard{shard:D3}.parquet";

    /// <summary>The index of one of this shard's parts; null for anything else (another shard's part, a stray file).</summary>
    int? PartIndex(string fileName)
    {
        const string prefix = "part-";
        if (!fileName.StartsWith(prefix, StringComparison.Ordinal) || fileName.Length < prefix.Length + 5) return null;
        if (!int.TryParse(fileName.AsSpan(prefix.Length, 5), System.Globalization.NumberStyles.None, null, out int index)) return null;
        return PartName(index, shard, shards) == fileName ? index : null;
    }

    public async ValueTask DisposeAsync()
    {
        if (rows is not null) { await rows.DisposeAsync(); rows = null; }
        if (expressions is not null) { await expressions.DisposeAsync(); expressions = null; }
        if (embeddings is not null) { await embeddings.DisposeAsync(); embeddings = null; }
    }
}
