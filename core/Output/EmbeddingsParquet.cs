using System.Text.Json.Serialization;

namespace MaskInversion.Core.Output;

/// <summary>One localized embedding (e.g. a MaskInversion token) of one mask under one method.</summary>
public sealed record MaskEmbedding(string ImageId, string MaskId, string Method, float[] Embedding);

/// <summary>
/// Embeddings as Parquet (columns image_id, mask_id, method, embedding list&lt;float&gt;), written in row groups
/// (default 10,000 rows ≈ 20 MB at 512 dimensions) to bound memory.
/// </summary>
public sealed class EmbeddingsParquet : IAsyncDisposable
{
    readonly ParquetRowWriter<Row> writer;

    EmbeddingsParquet(string path, int rowGroupSize) => writer = new ParquetRowWriter<Row>(path, rowGroupSize);

    public static EmbeddingsParquet Create(string path, int rowGroupSize = 10_000) => new(path, rowGroupSize);

    public long RowsWritten => writer.RowsWritten;

    public ValueTask AddAsync(MaskEmbedding e, CancellationToken ct = default) => writer.AddAsync(new Row
    {
        ImageId = e.ImageId, MaskId = e.MaskId, Method = e.Method, Embedding = e.Embedding.ToList(),
    }, ct);

    public Task FlushAsync(CancellationToken ct = default) => writer.FlushAsync(ct);

    public ValueTask DisposeAsync() => writer.DisposeAsync();

    public static async IAsyncEnumerable<MaskEmbedding> ReadAsync(string path, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct = default)
    {
        await foreach (var r in ParquetRowWriter<Row>.ReadAsync(path, ct))
            yield return new MaskEmbedding(r.ImageId, r.MaskId, r.Method, r.Embedding.ToArray());
    }

    /// <summary>The Parquet shape; public with setters because Parquet.Net's serializer needs that.</summary>
    public sealed class Row
    {
        [JsonPropertyName("image_id")] public string ImageId { get; set; } = "";
        [JsonPropertyName("mask_id")] public string MaskId { get; set; } = "";
        [JsonPropertyName("method")] public string Method { get; set; } = "";
        [JsonPropertyName("embedding")] public List<float> Embedding { get; set; } = new();
    }
}
