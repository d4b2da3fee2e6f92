using System.Text.Json;
using MaskInversion.Core.Metrics;
using MaskInversion.Core.Output;
using MaskInversion.Core.Tests.Datasets;
using Parquet;

namespace MaskInversion.Core.Tests.Output;

public class OutputTests
{
    [Fact]
    public async Task PerMaskResultsRoundTripInSeveralRowGroups()
    {
        using var dir = new TempDir();
        var path = dir.File("out/results.parquet");
        var rows = Enumerable.Range(0, 25).Select(i => new PerMaskResult(
            $"img{i / 4}", $"m{i}", i % 2 == 0 ? "maskinversion" : "crop", i % 5 == 0 ? null : $"/m/{i}",
            i == 7 ? [] : [$"/m/{i}", "/m/x"], i == 7 ? [] : [0.9f, 0.1f * i],
            i % 3 == 0 ? null : i / 100f, i == 7 ? "image decode failed" : null)).ToList();
        await using (var w = PerMaskResultsParquet.Create(path, rowGroupSize: 10))
        {
            foreach (var r in rows) await w.AddAsync(r);
            Assert.Equal(20, w.RowsWritten);   // two full groups flushed, five still buffered
        }

        await using (var reader = await ParquetReader.CreateAsync(path))
        {
            Assert.Equal(3, reader.RowGroupCount);
            Assert.Equal(["image_id", "mask_id", "method", "label", "top10", "top10_scores", "dice_loss", "error"],
                reader.Schema.Fields.Select(f => f.Name));
        }
        var back = new List<PerMaskResult>();
        await foreach (var r in PerMaskResultsParquet.ReadAsync(path)) back.Add(r);
        Assert.Equal(rows.Count, back.Count);
        for (int i = 0; i < rows.Count; i++)
        {
            Assert.Equal(rows[i] with { Top10 = [], Top10Scores = [] }, back[i] with { Top10 = [], Top10Scores = [] });
            Assert.Equal(rows[i].Top10, back[i].Top10);
            Assert.Equal(rows[i].Top10Scores, back[i].Top10Scores);
        }
    }

    [Fact]
    public async Task EmbeddingsRoundTripAndEmptyFileIsReadable()
    {
        using var dir = new TempDir();
        var rng = new Random(3);
        var rows = Enumerable.Range(0, 7).Select(i => new MaskEmbedding("img", $"m{i}", "maskinversion",
            Enumerable.Range(0, 512).Select(_ => (float)rng.NextDouble()).ToArray())).ToList();
        await using (var w = EmbeddingsParquet.Create(dir.File("emb.parquet"), rowGroupSize: 3))
            foreach (var r in rows) await w.AddAsync(r);
        var back = new List<MaskEmbedding>();
        await foreach (var r in EmbeddingsParquet.ReadAsync(dir.File("emb.parquet"))) back.Add(r);
        Assert.Equal(rows.Select(r => r.MaskId), back.Select(r => r.MaskId));
        for (int i = 0; i < rows.Count; i++) Assert.Equal(rows[i].Embedding, back[i].Embedding);

        await using (EmbeddingsParquet.Create(dir.File("empty.parquet"))) { }
        var none = new List<MaskEmbedding>();
        await foreach (var r in EmbeddingsParquet.ReadAsync(dir.File("empty.parquet"))) none.Add(r);
        Assert.Empty(none);
    }

    [Fact]
    public void MetricsJsonHoldsOneClipBenchmarkObjectPerMethod()
    {
        var acc = new RetrievalAccumulator();
        acc.Add("i1", "m1", 0, [0, 1]);
        acc.Add("i1", "m2", 1, [0, 1]);
        var refer = new ReferringAccumulator();
        refer.Add("i1", new ReferringOutcome("e1", 0, 3, 4));
        using var dir = new TempDir();
        var path = dir.File("res/metrics.json");
        MetricsJson.Write(path, "openimages_v7", "ViT-B-16", "openai",
            [new MethodMetrics("maskinversion", acc.Compute()), new MethodMetrics("maskinversion", Referring: refer.Compute())],
            classNames: ["Person", "Cat"], created: new DateTimeOffset(2025, 1, 2, 3, 4, 5, TimeSpan.Zero));

        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        var entries = doc.RootElement.EnumerateArray().ToList();
        Assert.Equal(2, entries.Count);
        var c = entries[0];
        Assert.Equal("openimages_v7", c.GetProperty("dataset").GetString());
        Assert.Equal("zeroshot_region_classification", c.GetProperty("task").GetString());
        Assert.Equal("maskinversion", c.GetProperty("method").GetString());
        Assert.Equal(0.5, c.GetProperty("metrics").GetProperty("acc1").GetDouble());
        Assert.Equal(1.0, c.GetProperty("metrics").GetProperty("acc5").GetDouble());
        Assert.Equal(0.5, c.GetProperty("metrics").GetProperty("mean_per_class_recall").GetDouble());
        Assert.Equal(1.0, c.GetProperty("metrics").GetProperty("per_class").GetProperty("Person").GetDouble());
        Assert.Equal(0.0, c.GetProperty("metrics").GetProperty("per_class").GetProperty("Cat").GetDouble());
        Assert.Equal(2, c.GetProperty("counts").GetProperty("masks").GetInt32());
        Assert.Equal("2025-01-02T03:04:05Z", c.GetProperty("created").GetString());
        var r = entries[1];
        Assert.Equal("referring_expressions", r.GetProperty("task").GetString());
        Assert.Equal(0.75, r.GetProperty("metrics").GetProperty("oiou").GetDouble());
        Assert.False(File.Exists(path + ".tmp"));
    }
}
