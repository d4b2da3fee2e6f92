using System.Text.Json.Serialization;

namespace MaskInversion.Core.Output;

/// <summary>One referring expression's result under one method.</summary>
/// <param name="Rank">1-based rank of the true mask among the image's candidates (1 = retrieved first); null when the
/// expression failed.</param>
/// <param name="PredictedMaskId">The top-ranked candidate.</param>
/// <param name="IoU">IoU of the predicted mask with the true one; <paramref name="Intersection"/> and
/// <paramref name="Union"/> are its pixel counts (oIoU sums them).</param>
/// <param name="Error">Why the expression could not be scored (its mask could not be read, …); the method is then "".</param>
public sealed record PerExpressionResult(
    string ImageId, string ExpressionId, string Text, string TrueMaskId, string Method, string? PredictedMaskId,
    int? Rank, double? IoU, long? Intersection, long? Union, string? Error);

/// <summary>
/// Per-expression results of a referring job as Parquet (columns image_id, expression_id, text, true_mask_id, method,
/// predicted_mask_id, rank, iou, intersection, union, error), written in row groups of <c>rowGroupSize</c> rows.
/// </summary>
public sealed class PerExpressionResultsParquet : IAsyncDisposable
{
    readonly ParquetRowWriter<Row> writer;

    PerExpressionResultsParquet(string path, int rowGroupSize) => writer = new ParquetRowWriter<Row>(path, rowGroupSize);

    public static PerExpressionResultsParquet Create(string path, int rowGroupSize = 10_000) => new(path, rowGroupSize);

    public ValueTask AddAsync(PerExpressionResult r, CancellationToken ct = default) => writer.AddAsync(new Row
    {
        ImageId = r.ImageId, ExpressionId = r.ExpressionId, Text = r.Text, TrueMaskId = r.TrueMaskId, Method = r.Method,
        PredictedMaskId = r.PredictedMaskId, Rank = r.Rank, IoU = r.IoU, Intersection = r.Intersection, Union = r.Union, Error = r.Error,
    }, ct);

    public ValueTask DisposeAsync() => writer.DisposeAsync();

    public static async IAsyncEnumerable<PerExpressionResult> ReadAsync(string path, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct = default)
    {
        await foreach (var r in ParquetRowWriter<Row>.ReadAsync(path, ct))
            yield return new PerExpressionResult(r.ImageId, r.ExpressionId, r.Text, r.TrueMaskId, r.Method, r.PredictedMaskId, r.Rank, r.IoU,
                r.Intersection, r.Union, r.Error);
    }

    /// <summary>The Parquet shape; public with setters because Parquet.Net's serializer needs that.</summary>
    public sealed class Row
    {
        [JsonPropertyName("image_id")] public string ImageId { get; set; } = "";
        [JsonPropertyName("expression_id")] public string ExpressionId { get; set; } = "";
        [JsonPropertyName("text")] public string Text { get; set; } = "";
        [JsonPropertyName("true_mask_id")] public string TrueMaskId { get; set; } = "";
        [JsonPropertyName("method")] public string Method { get; set; } = "";
        [JsonPropertyName("predicted_mask_id")] public string? PredictedMaskId { get; set; }
        [JsonPropertyName("rank")] public int? Rank { get; set; }
        [JsonPropertyName("iou")] public double? IoU { get; set; }
        [JsonPropertyName("intersection")] public long? Intersection { get; set; }
        [JsonPropertyName("union")] public long? Union { get; set; }
        [JsonPropertyName("error")] public string? Error { get; set; }
    }
}
