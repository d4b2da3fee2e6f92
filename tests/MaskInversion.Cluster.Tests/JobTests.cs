using MaskInversion.Core.Datasets;
using MaskInversion.Core.Output;
using MaskInversion.Core.Pipeline;
using MaskInversion.Grains;
using Orleans.TestingHost;

namespace MaskInversion.Cluster.Tests;

public sealed class ClusterFixture : IAsyncLifetime
{
    public InProcessTestCluster Cluster { get; private set; } = null!;
    public async Task InitializeAsync() => Cluster = await TestCluster.StartAsync(3);
    public async Task DisposeAsync()
    {
        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
    }
}

/// <summary>Jobs on a healthy three-silo cluster (one control silo, two compute silos).</summary>
public sealed class JobTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    [Fact]
    public async Task Job_matches_the_engine_run_directly_and_reports_bad_items_as_errors()
    {
        using var data = new JobFixtureData(images: 6, faults: true);
        var job = data.Settings("out");
        var expected = data.Direct(job);
        var before = fixture.Cluster.Silos.Select(s => TestCluster.Executor(s).Forwards).ToArray();

        var grain = fixture.Cluster.Client.GetGrain<IJobCoordinatorGrain>("job-complete");
        await grain.SubmitAsync(job);
        var done = await TestCluster.WaitAsync(grain, TimeSpan.FromMinutes(2));

        Assert.Equal(JobState.Completed, done.State);
        Assert.Equal(5, done.ImagesDone);
        Assert.Equal(1, done.ImagesFailed);                 // the undecodable image
        Assert.Equal(data.Dataset.Masks - 3, done.MasksDone);
        Assert.Equal(3, done.MasksFailed);                  // its two masks + the missing mask file
        Assert.Equal(6, done.ImagesTotal);
        Expect.SameCounts(expected, await grain.GetResultsAsync());

        // The cluster's job list has the finished job with its final counts; an id never submitted has no entry.
        var registry = fixture.Cluster.Client.GetGrain<IJobRegistryGrain>(IJobRegistryGrain.Key);
        var listed = Assert.Single(await registry.ListAsync(), e => e.JobId == "job-complete");
        Assert.Equal((JobState.Completed, done.MasksDone, done.MasksFailed, job.OutputFolder), (listed.State, listed.MasksDone, listed.MasksFailed, listed.OutputFolder));
        Assert.True(listed.SubmittedAt > DateTimeOffset.UtcNow.AddHours(-1) && listed.UpdatedAt >= listed.SubmittedAt);
        Assert.Null(await registry.GetAsync("no-such-job"));

        // Forwards: never on the control silo, and exactly once per readable image on the compute silos.
        var forwards = fixture.Cluster.Silos.Select((s, i) => TestCluster.Executor(s).Forwards - before[i]).ToArray();
        Assert.Equal(0, forwards[0]);
        Assert.Equal(5, forwards.Sum());
        // Masks of one image are batched into one Evaluate call.
        var executors = fixture.Cluster.Silos.Skip(1).Select(TestCluster.Executor).ToList();
        Assert.True(executors.Sum(e => e.EvaluateCalls) < executors.Sum(e => e.MasksEvaluated), "mask requests were not batched");
        Assert.Equal(0, executors.Sum(e => e.CachedBytes));   // every prepared image was released

        // Outputs: metrics.json, one Parquet row per (mask, method) plus one per failed mask, overlays.
        Assert.Contains("\"maskinversion\"", File.ReadAllText(Path.Combine(job.OutputFolder, "metrics.json")));
        var rows = new List<PerMaskResult>();
        foreach (var part in Directory.GetFiles(Path.Combine(job.OutputFolder, "masks"), "part-*.parquet"))
            await foreach (var r in PerMaskResultsParquet.ReadAsync(part)) rows.Add(r);
        Assert.Equal(done.MasksDone * 2 + 3, rows.Count);
        Assert.Equal(done.MasksDone * 2, rows.Select(r => (r.ImageId, r.MaskId, r.Method)).Distinct().Count(t => t.Method != ""));
        Assert.Contains(rows, r => r.MaskId == data.Dataset.MissingMaskId && r.Error is not null);
        Assert.Equal(2, rows.Count(r => r.ImageId == data.Dataset.CorruptImageId && r.Error is not null));
        Assert.NotEmpty(Directory.GetFiles(Path.Combine(job.OutputFolder, "overlays"), "*_maskinversion_map.png"));
        // Overlays a person can read: the 64×48 images are drawn 256×192, with LET₀'s map beside the final one.
        foreach (var png in Directory.GetFiles(Path.Combine(job.OutputFolder, "overlays"), "*.png"))
            Assert.Equal((256, 192), PngSize(png));
        Assert.NotEmpty(Directory.GetFiles(Path.Combine(job.OutputFolder, "overlays"), "*_initial_map.png"));

        // The dashboard's view: the two failed items with their errors, and every image counted to the compute silo
        // that answered (never the control silo).
        var monitor = await grain.GetMonitorAsync();
        Assert.Equal(2, monitor.FailuresSeen);
        Assert.Contains(monitor.Failures, f => f.ImageId == data.Dataset.CorruptImageId && f.MaskId is null && f.Error.Length > 0);
        Assert.Contains(monitor.Failures, f => f.MaskId == data.Dataset.MissingMaskId && f.Error.Length > 0);
        Assert.Equal(6, monitor.Silos.Sum(s => s.Images));
        Assert.Equal(data.Dataset.Masks, monitor.Silos.Sum(s => s.Masks));
        Assert.DoesNotContain(monitor.Silos, s => s.Silo == fixture.Cluster.Silos[0].SiloAddress.Endpoint.ToString());
        Assert.NotEmpty(monitor.History);

        // A repeated submit is a no-op; results stay.
        Assert.Equal(JobState.Completed, (await grain.SubmitAsync(job)).State);
    }

    static (int Width, int Height) PngSize(string path)
    {
        // IHDR follows the 8-byte signature and the chunk's length and type: width and height, big-endian.
        var header = File.ReadAllBytes(path).AsSpan(16, 8);
        return (System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(header), System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(header[4..]));
    }

    [Fact]
    public async Task Cancel_stops_dispatch()
    {
        using var data = new JobFixtureData(images: 60, faults: false);
        var job = data.Settings("cancelled", "maskinversion") with { MaxInFlight = 1 };
        var grain = fixture.Cluster.Client.GetGrain<IJobCoordinatorGrain>("job-cancel");
        await grain.SubmitAsync(job);
        await TestCluster.WaitAsync(grain, TimeSpan.FromMinutes(1), p => p.ImagesDone >= 1);
        var atCancel = await grain.CancelAsync();
        var end = await TestCluster.WaitAsync(grain, TimeSpan.FromMinutes(1));

        Assert.Equal(JobState.Cancelled, end.State);
        // What was in flight (one image) may finish; nothing new starts.
        Assert.InRange(end.ImagesDone, atCancel.ImagesDone, atCancel.ImagesDone + job.MaxInFlight);
        Assert.True(end.ImagesDone < 60, "the whole dataset ran: cancel did not stop dispatch");
        await Task.Delay(500);
        Assert.Equal(end.ImagesDone, (await grain.GetProgressAsync()).ImagesDone);
        Assert.True(File.Exists(Path.Combine(job.OutputFolder, "metrics.json")));
    }

    [Fact]
    public async Task A_mask_grain_refuses_a_handle_its_silo_did_not_issue_and_records_nothing()
    {
        using var data = new JobFixtureData(images: 1, faults: false);
        var image = DirectRun.Images(DatasetReaders.Open(data.Settings("foreign").ToReaderOptions())).First();
        var m = image.Masks[0];
        var foreign = new PreparedImageHandle(Guid.NewGuid(), 1, image.ImageId, 64, 48);
        var grain = fixture.Cluster.Client.GetGrain<IMaskGrain>(GrainKeys.Mask("job-foreign", image.ImageId, m.MaskId));

        var e = await Assert.ThrowsAsync<ImageNotPreparedException>(() => grain.RunAsync(foreign, new MaskWork(m.MaskId, 0, m.ClassId, m.Source.ToData(), false)));
        Assert.Contains(foreign.Executor.ToString(), e.Message);
        Assert.Null(await grain.GetRecordAsync());   // not recorded as an error: the retry computes it
    }
}

/// <summary>Class retrieval on Pascal label maps (VOC's palette-index PNGs, Pascal Context's 8-bit gray ones): masks (one
/// per class present) reach the compute silos with their label value and are rasterised there; the figures equal the
/// engine run directly.</summary>
public sealed class LabelMapJobTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    [Theory]
    [InlineData("voc", "VOC2012", "SegmentationClass", "ImageSets/Segmentation")]
    [InlineData("pascal-context", "VOC2010", "SegmentationClassContext", "ImageSets/SegmentationContext")]
    public async Task Label_maps_run_as_a_job(string format, string year, string labels, string splits)
    {
        using var data = new JobFixtureData(images: 1, faults: false);
        var root = Path.Combine(data.Folder, "VOCdevkit", year);
        foreach (var d in new[] { "JPEGImages", labels, splits }) Directory.CreateDirectory(Path.Combine(root, d));
        var generator = new MaskInversion.Core.Synthetic.SceneGenerator(5, new MaskInversion.Core.Synthetic.SceneOptions { Width = 48, Height = 48, MinObjects = 2, MaxObjects = 3 });
        var ids = new List<string>();
        int masks = 0;
        for (int s = 0; s < 3; s++)
        {
            var scene = generator.Generate(s);
            var id = $"2007_00000{s}";
            ids.Add(id);
            MaskInversion.Core.Imaging.PngWriter.Save(scene.Image, Path.Combine(root, "JPEGImages", id + ".jpg"));
            var map = new byte[48 * 48];
            for (int k = 0; k < scene.Objects.Count; k++)
                for (int p = 0; p < map.Length; p++) if (scene.Objects[k].Mask.Data[p] != 0) map[p] = (byte)(3 * s + k + 1);
            map[0] = 255; // void
            WriteGrayPng(Path.Combine(root, labels, id + ".png"), map, 48, 48);
            masks += scene.Objects.Count;
        }
        File.WriteAllLines(Path.Combine(root, splits, "val.txt"), ids);

        var spec = data.Settings(format) with { Format = format, DatasetRoot = Path.Combine(data.Folder, "VOCdevkit"), Split = "val", DatasetName = format };
        var expected = data.Direct(spec);
        var job = fixture.Cluster.Client.GetGrain<IJobCoordinatorGrain>("job-" + format);
        await job.SubmitAsync(spec);
        var done = await TestCluster.WaitAsync(job, TimeSpan.FromMinutes(2));
        Assert.Equal(JobState.Completed, done.State);
        Assert.Equal((3, masks, 0), (done.ImagesDone, done.MasksDone, done.MasksFailed));
        var results = await job.GetResultsAsync();
        Expect.SameCounts(expected, results);
        Assert.All(results.Methods, m => Assert.Null(m.Referring));
        // Class names are the layout's: label 1 is the first class.
        Assert.Equal(format == "voc" ? MaskInversion.Core.Datasets.PascalClasses.Voc : MaskInversion.Core.Datasets.PascalClasses.Context59, results.ClassNames);
    }

    static void WriteGrayPng(string path, byte[] values, int width, int height)
    {
        var info = new SkiaSharp.SKImageInfo(width, height, SkiaSharp.SKColorType.Gray8, SkiaSharp.SKAlphaType.Opaque);
        var pin = System.Runtime.InteropServices.GCHandle.Alloc(values, System.Runtime.InteropServices.GCHandleType.Pinned);
        try
        {
            using var pixmap = new SkiaSharp.SKPixmap(info, pin.AddrOfPinnedObject(), info.RowBytes);
            using var png = pixmap.Encode(SkiaSharp.SKEncodedImageFormat.Png, 100)!;
            File.WriteAllBytes(path, png.ToArray());
        }
        finally { pin.Free(); }
    }
}
