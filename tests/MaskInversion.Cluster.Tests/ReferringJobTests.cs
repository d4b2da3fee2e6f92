using System.Globalization;
using System.Text.Json;
using MaskInversion.Core.Datasets;
using MaskInversion.Core.Metrics;
using MaskInversion.Core.Models;
using MaskInversion.Core.Output;
using MaskInversion.Core.Pipeline;
using MaskInversion.Core.Referring;
using MaskInversion.Core.Synthetic;
using MaskInversion.Core.Training;
using MaskInversion.Grains;
using Xunit.Abstractions;

namespace MaskInversion.Cluster.Tests;

/// <summary>
/// Referring expressions as a cluster job: the synthetic referring world written as a RefCOCO folder (JSON refs export,
/// COCO instances, PNG images) and run on the bundled MiniCLIP through the coordinator, the referring image grains and
/// the executors. Its figures must equal core's ReferringEvaluator run directly over the same data, to the last bit.
/// </summary>
public sealed class ReferringJobTests(ClusterFixture fixture, ITestOutputHelper output) : IClassFixture<ClusterFixture>, IDisposable
{
    // The first 20 scenes of the referring world's default seed (3–4 objects each, one expression per object).
    const int Scenes = 20;
    readonly string folder = Path.Combine(Path.GetTempPath(), "mi-referring-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task A_refcoco_job_equals_the_evaluator_run_directly_and_MaskInversion_beats_the_baselines()
    {
        var bundle = MiniClip.Locate() ?? throw new FileNotFoundException("The bundled MiniCLIP is missing from the build output.");
        int size = ClipConfig.FromFile(Path.Combine(bundle, MiniClip.ConfigFile)).Vision.ImageSize;
        var world = new ReferringWorldOptions();
        var data = ReferringDataset.WriteRefCoco(Path.Combine(folder, "refcoco"), Scenes, world.Seed,
            ReferringWorld.Options(MiniClip.Scenes(size), world.MinObjects, world.MaxObjects));
        var job = new JobSettings
        {
            Format = "refcoco", DatasetRoot = data.Root, Split = "val", DatasetName = "synthetic-refcoco",
            Model = Path.Combine(bundle, MiniClip.ConfigFile), Weights = Path.Combine(bundle, MiniClip.WeightsFile), Tokenizer = bundle,
            ImageSize = size, Templates = "single", Methods = ["maskinversion", "clip", "crop"],
            Alpha = DatasetFormats.ReferringAlpha, Iterations = world.Iterations, LearningRate = world.LearningRate,
            OutputFolder = Path.Combine(folder, "job"), OverlaySamples = 2, MaxInFlight = 4,
        };
        var expected = Direct(job);
        var before = fixture.Cluster.Silos.Select(s => TestCluster.Executor(s).Forwards).ToArray();

        var grain = fixture.Cluster.Client.GetGrain<IJobCoordinatorGrain>("job-referring");
        await grain.SubmitAsync(job);
        var done = await TestCluster.WaitAsync(grain, TimeSpan.FromMinutes(3));
        Assert.Equal(JobState.Completed, done.State);
        Assert.Equal((Scenes, 0, data.Candidates, 0L), (done.ImagesDone, done.ImagesFailed, done.MasksDone, done.MasksFailed));

        // Exactly the direct figures, method by method (the IoU sum is exact, so not even mIoU's last bit moves).
        var results = await grain.GetResultsAsync();
        Assert.Equal(job.Methods, results.Methods.Select(m => m.Method));
        foreach (var m in results.Methods)
        {
            var e = expected[m.Method];
            var r = m.Referring!;
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{m.Method,-14} Acc@1 {100 * r.Acc1,5:F1}  Acc@5 {100 * r.Acc5,5:F1}  mIoU {100 * r.MIoU,5:F1}  oIoU {100 * r.OIoU,5:F1}  ({r.Expressions} expressions)"));
            Assert.Equal((e.Acc1, e.Acc5, e.Acc10, e.MIoU, e.OIoU, e.Expressions, (long)e.Images),
                (r.Acc1, r.Acc5, r.Acc10, r.MIoU, r.OIoU, r.Expressions, r.Images));
            Assert.Equal(data.Expressions, r.Expressions);
            Assert.Null(m.Retrieval);   // a referring job has no class prompts
        }
        var mi = results.Methods.Single(m => m.Method == "maskinversion").Referring!;
        var clip = results.Methods.Single(m => m.Method == "clip").Referring!;
        var crop = results.Methods.Single(m => m.Method == "crop").Referring!;
        Assert.True(mi.Acc1 >= clip.Acc1 + 0.35, $"MaskInversion Acc@1 {mi.Acc1:P1} vs global {clip.Acc1:P1}");
        Assert.True(mi.Acc1 >= crop.Acc1 + 0.10, $"MaskInversion Acc@1 {mi.Acc1:P1} vs crop {crop.Acc1:P1}");
        Assert.True(mi.OIoU >= clip.OIoU + 0.30 && mi.MIoU >= crop.MIoU + 0.10);
        Assert.NotNull(results.Methods.Single(m => m.Method == "maskinversion").MeanDiceLoss);

        // Forward once per image, on compute silos only; every prepared image released.
        var forwards = fixture.Cluster.Silos.Select((s, i) => TestCluster.Executor(s).Forwards - before[i]).ToArray();
        Assert.Equal((0L, (long)Scenes), (forwards[0], forwards.Sum()));
        Assert.Equal(0, fixture.Cluster.Silos.Sum(s => TestCluster.Executor(s).CachedBytes));

        // Outputs: one Parquet row per (expression, method) whose ranks and overlaps give the same figures; metrics.json
        // with a referring entry per method; overlays of the first candidates.
        var rows = new List<PerExpressionResult>();
        foreach (var part in Directory.GetFiles(Path.Combine(job.OutputFolder, "expressions"), "part-*.parquet"))
            await foreach (var row in PerExpressionResultsParquet.ReadAsync(part)) rows.Add(row);
        Assert.Equal(data.Expressions * job.Methods.Length, rows.Count);
        Assert.All(rows, row => Assert.True(row.Error is null && row.Text.StartsWith("a photo of", StringComparison.Ordinal) && row.PredictedMaskId is not null));
        foreach (var m in results.Methods)
        {
            var mine = rows.Where(row => row.Method == m.Method).ToList();
            Assert.Equal(m.Referring!.Acc1, (double)mine.Count(row => row.Rank == 1) / mine.Count, 12);
            Assert.Equal(m.Referring.OIoU, (double)mine.Sum(row => row.Intersection!.Value) / mine.Sum(row => row.Union!.Value), 12);
            Assert.All(mine.Where(row => row.Rank == 1), row => Assert.Equal(row.TrueMaskId, row.PredictedMaskId));
        }
        using (var metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(job.OutputFolder, "metrics.json"))))
        {
            var entries = metrics.RootElement.EnumerateArray().ToList();
            Assert.Equal(job.Methods, entries.Select(e => e.GetProperty("method").GetString()));
            Assert.All(entries, e => Assert.Equal(MetricsJson.ReferringTask, e.GetProperty("task").GetString()));
            Assert.Equal(mi.MIoU, entries[0].GetProperty("metrics").GetProperty("miou").GetDouble());
        }
        Assert.NotEmpty(Directory.GetFiles(Path.Combine(job.OutputFolder, "overlays"), "*_maskinversion_map.png"));

        // A re-dispatched image (a coordinator that crashed before its checkpoint) gets the recorded outcome, unchanged
        // and without a forward.
        var reader = DatasetReaders.Open(job.ToReaderOptions());
        var image = DirectRun.Images(reader).First();
        var work = new ImageWork("job-referring", image.ImageId, image.ImagePath,
            image.Masks.Select(m => new MaskWork(m.MaskId, -1, m.ClassId, m.Source.ToData(), false)).ToArray(), job.Normalise(), [],
            image.Expressions!.Select(e => new ExpressionWork(e.ExpressionId, e.Text, e.MaskId)).ToArray());
        var imageGrain = fixture.Cluster.Client.GetGrain<IReferringImageGrain>(GrainKeys.Image("job-referring", image.ImageId));
        long forwardsBefore = fixture.Cluster.Silos.Sum(s => TestCluster.Executor(s).Forwards);
        var first = await imageGrain.ProcessAsync(work);
        var again = await imageGrain.ProcessAsync(work);
        Assert.Equal(JsonSerializer.Serialize(first), JsonSerializer.Serialize(again));
        Assert.Equal(forwardsBefore, fixture.Cluster.Silos.Sum(s => TestCluster.Executor(s).Forwards));
        var settled = rows.Where(row => row.ImageId == image.ImageId && row.Method == "maskinversion").OrderBy(row => row.ExpressionId, StringComparer.Ordinal);
        Assert.Equal(settled.Select(row => (row.ExpressionId, row.Rank!.Value - 1, row.PredictedMaskId)),
            first.Expressions!.OrderBy(e => e.ExpressionId, StringComparer.Ordinal).Select(e => (e.ExpressionId, e.Results[0].Rank, (string?)e.Results[0].PredictedMaskId)));
    }

    /// <summary>Bad items are errors naming the item and the cause, and the job goes on: an unreadable image fails its
    /// candidates and expressions; an undecodable instance mask fails itself and the expressions that refer to it, while
    /// the image's other expressions are ranked among the candidates that remain.</summary>
    [Fact]
    public async Task Unreadable_images_and_masks_fail_their_expressions_and_the_job_goes_on()
    {
        var bundle = MiniClip.Locate() ?? throw new FileNotFoundException("The bundled MiniCLIP is missing from the build output.");
        var world = new ReferringWorldOptions();
        var data = ReferringDataset.WriteRefCoco(Path.Combine(folder, "refcoco"), 3, world.Seed, ReferringWorld.Options(MiniClip.Scenes(96), 3, 3));
        // Image 2's file is junk; instance 7 (image 3's first object) has RLE counts that do not cover its image.
        File.WriteAllText(Path.Combine(data.Root, "train2014", "synthetic_000002.png"), "not a PNG");
        var instances = Path.Combine(data.Root, "instances.json");
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(instances))!;
        json["annotations"]![6]!["segmentation"]!["counts"] = new System.Text.Json.Nodes.JsonArray(5, 7);
        File.WriteAllText(instances, json.ToJsonString());
        var job = new JobSettings
        {
            Format = "refcoco", DatasetRoot = data.Root, DatasetName = "synthetic-refcoco-faults",
            Model = Path.Combine(bundle, MiniClip.ConfigFile), Weights = Path.Combine(bundle, MiniClip.WeightsFile), Tokenizer = bundle,
            ImageSize = 96, Templates = "single", Methods = ["maskinversion", "clip"], Alpha = 5, Iterations = 2,
            OutputFolder = Path.Combine(folder, "faults"), OverlaySamples = 0, MaxInFlight = 4,
        };
        var grain = fixture.Cluster.Client.GetGrain<IJobCoordinatorGrain>("job-referring-faults");
        await grain.SubmitAsync(job);
        var done = await TestCluster.WaitAsync(grain, TimeSpan.FromMinutes(2));
        Assert.Equal(JobState.Completed, done.State);
        Assert.Equal((2L, 1L, 5L, 4L), (done.ImagesDone, done.ImagesFailed, done.MasksDone, done.MasksFailed));

        var rows = new List<PerExpressionResult>();
        foreach (var part in Directory.GetFiles(Path.Combine(job.OutputFolder, "expressions"), "part-*.parquet"))
            await foreach (var row in PerExpressionResultsParquet.ReadAsync(part)) rows.Add(row);
        var failed = rows.Where(r => r.Error is not null).ToList();
        Assert.Equal(3, failed.Count(r => r.ImageId == "2"));
        Assert.All(failed.Where(r => r.ImageId == "2"), r => Assert.Contains("synthetic_000002.png", r.Error));
        var badMask = Assert.Single(failed, r => r.ImageId == "3");
        Assert.Equal("7", badMask.TrueMaskId);
        Assert.Contains("its mask 7 could not be read", badMask.Error);
        // Image 3's other two expressions were ranked among its two readable candidates; image 1 is untouched.
        var scored = rows.Where(r => r.Error is null).ToList();
        Assert.Equal((2 * 2, 3 * 2), (scored.Count(r => r.ImageId == "3"), scored.Count(r => r.ImageId == "1")));
        Assert.All(scored.Where(r => r.ImageId == "3"), r => Assert.InRange(r.Rank!.Value, 1, 2));
        var results = await grain.GetResultsAsync();
        Assert.All(results.Methods, m => Assert.Equal((5L, 2L), (m.Referring!.Expressions, m.Referring.Images)));
    }

    /// <summary>The same images straight through core's ReferringEvaluator on one engine, from the same settings.</summary>
    static Dictionary<string, ReferringMetrics> Direct(JobSettings job)
    {
        var reader = DatasetReaders.Open(job.ToReaderOptions());
        using var engine = RegionEngine.Load(job.Normalise().ToEngineSettings([]));
        var evaluator = new ReferringEvaluator(engine);
        var methods = job.ToRegionMethods();
        var accumulators = new Dictionary<RegionMethod, ReferringAccumulator>();
        foreach (var image in DirectRun.Images(reader))
        {
            using var prepared = engine.Prepare(image.ImageId, image.ImagePath);
            var candidates = image.Masks.Select(m => MaskInput.Load(m.MaskId, m.Source, prepared.Image.Width, prepared.Image.Height)).ToList();
            var queries = image.Expressions!.Select(e => new ReferringQuery(e.ExpressionId, e.Text, e.MaskId)).ToList();
            ReferringEvaluator.Accumulate(accumulators, image.ImageId, evaluator.Evaluate(prepared, candidates, queries, methods));
        }
        return accumulators.ToDictionary(kv => kv.Key.Name, kv => kv.Value.Compute());
    }

    public void Dispose()
    {
        try { Directory.Delete(folder, recursive: true); } catch (IOException) { }
    }
}
