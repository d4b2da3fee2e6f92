using System.Text.Json.Serialization;

namespace MaskInversion.Core.Output;

/// <summary>One mask's result under one method.</summary>
/// <param name="Label">True class id (or expression) of the mask; null when unknown.</param>
/// <param name="Top10">Predicted class ids, best first.</param>
/// <param name="DiceLoss">Final Dice loss (1 − soft Dice; lower is better) of the inversion's explainability map with the mask; null for baselines.</param>
/// <param name="Error">Why the mask failed, if it did (then Top10 is empty).</param>
public sealed record PerMaskResult(
    string ImageId, string MaskId, string Method, string? Label,
    IReadOnlyList<string> Top10, IReadOnlyList<float> Top10Scores, float? DiceLoss, string? Error);

/// <summary>
/// Per-mask results as Parquet (columns image_id, mask_id, method, label, top10 list&lt;string&gt;,
/// top10_scores list&lt;float&gt;, dice float?, error string?), written in row groups of
/// <c>rowGroupSize</c> rows so that a million masks never sit in memory.
/// </summary>
public sealed class PerMaskResultsParquet : IAsyncDisposable
{
    readonly ParquetRowWriter<Row> writer;

    PerMaskResultsParquet(string path, int rowGroupSize) => writer = new ParquetRowWriter<Row>(path, rowGroupSize);

    public static PerMaskResultsParquet Create(string path, int rowGroupSize = 10_000) => new(path, rowGroupSize);

    /// <summary>Rows already in the file (excludes the buffered, not yet flushed group).</summary>
    public long RowsWritten => writer.RowsWritten;

    public ValueTask AddAsync(PerMaskResult r, CancellationToken ct = default) => writer.AddAsync(new Row
    {
        ImageId = r.ImageId, MaskId = r.MaskId, Method = r.Method, Label = r.Label,
        Top10 = r.Top10.ToList(), Top10Scores = r.Top10Scores.ToList(), DiceLoss = r.DiceLoss, Error = r.Error,
    }, ct);

    public Task FlushAsync(CancellationToken ct = default) => writer.FlushAsync(ct);

    public ValueTask DisposeAsync() => writer.DisposeAsync();

    public static async IAsyncEnumerable<PerMaskResult> ReadAsync(string path, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct = default)
    {
        await foreach (var r in ParquetRowWriter<Row>.ReadAsync(path, ct))
            yield return new PerMaskResult(r.ImageId, r.MaskId, r.Method, r.Label, r.Top10, r.Top10Scores, r.DiceLoss, r.Error);
    }

    /// <summary>The Parquet shape; public with setters because Parquet.Net's serializer needs that.</summary>
    public sealed class Row
    {
        [JsonPropertyName("image_id")] public string ImageId { get; set; } = "";
        [JsonPropertyName("mask_id")] public string MaskId { get; set; } = "";
        [JsonPropertyName("method")] public string Method { get; set; } = "";
        [JsonPropertyName("label")] public string? Label { get; set; }
        [JsonPropertyName("top10")] public List<string> Top10 { get; set; } = new();
        [JsonPropertyName("top10_scores")] public List<float> Top10Scores { get; set; } = new();
        [JsonPropertyName("dice_loss")] public float? DiceLoss { get; set; }
        [JsonPropertyName("error")] public string? Error { get; set; }
    }
}
