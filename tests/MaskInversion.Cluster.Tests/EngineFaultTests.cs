using MaskInversion.Core.Models;
using MaskInversion.Core.Output;
using MaskInversion.Core.Weights;
using MaskInversion.Grains;
using TorchSharp;

namespace MaskInversion.Cluster.Tests;

/// <summary>#14: an engine or infrastructure exception (libtorch's "value cannot be converted to type float", a
/// checkpoint that cannot load) says nothing about the item. It is retried, and never stored as the item's result: only
/// errors about the item's own data are.</summary>
public sealed class EngineFaultTests
{
    [Fact]
    public async Task An_engine_fault_is_retried_and_the_results_equal_a_clean_run()
    {
        using var data = new JobFixtureData(images: 6, faults: true);
        var spec = data.Settings("engine-fault");
        var expected = data.Direct(spec);

        // Each compute silo fails its first two batches the way libtorch does.
        await using var cluster = await TestCluster.StartAsync(3, compute: c => c.InjectEngineFaults = 2);
        var job = cluster.Client.GetGrain<IJobCoordinatorGrain>("job-engine-fault");
        await job.SubmitAsync(spec);
        var done = await TestCluster.WaitAsync(job, TimeSpan.FromMinutes(2));

        Assert.Equal(JobState.Completed, done.State);
        Assert.True(done.Retries >= 2, $"{done.Retries} retries: the injected faults were not retried");
        // Only the items' own errors are failures: the undecodable image's two masks and the missing mask file.
        Assert.Equal((5, 1, data.Dataset.Masks - 3, 3), (done.ImagesDone, done.ImagesFailed, done.MasksDone, done.MasksFailed));
        Expect.SameCounts(expected, await job.GetResultsAsync());
        var rows = await JobRows.MasksAsync(spec.OutputFolder);
        Assert.DoesNotContain(rows, r => r.Error?.Contains("FAULT INJECTION", StringComparison.Ordinal) == true);
        Assert.Equal(3, rows.Count(r => r.Error is not null));
    }

    [Fact]
    public async Task An_engine_fault_that_persists_fails_the_job_naming_the_image_and_records_nothing()
    {
        using var data = new JobFixtureData(images: 3, faults: false);
        var spec = data.Settings("engine-fault-persists") with { MaxAttempts = 2, MaxInFlight = 1 };

        await using var cluster = await TestCluster.StartAsync(3, compute: c => c.InjectEngineFaults = 1000);
        var job = cluster.Client.GetGrain<IJobCoordinatorGrain>("job-engine-fault-persists");
        await job.SubmitAsync(spec);
        var done = await TestCluster.WaitAsync(job, TimeSpan.FromMinutes(2));

        Assert.Equal(JobState.Failed, done.State);
        Assert.Contains("img0000 could not be processed in 2 attempts", done.Error);
        Assert.Contains("FAULT INJECTION", done.Error);
        Assert.Equal((0, 0), (done.MasksDone, done.MasksFailed));
        Assert.Empty(await JobRows.MasksAsync(spec.OutputFolder));
    }

    /// <summary>Weights that cannot load (NaN in a tensor, a pickle) fail every image the same way: not the images' fault.
    /// The job is refused at submit (the up-front validator, #13) or fails naming the file; no mask gets it as its result.</summary>
    [Theory]
    [InlineData("nan")]
    [InlineData("pickle")]
    public async Task Weights_that_cannot_load_are_a_job_error_naming_the_file_never_an_item_result(string kind)
    {
        using var data = new JobFixtureData(images: 2, faults: false);
        var weights = Path.Combine(data.Folder, kind == "nan" ? "nan.safetensors" : "model.bin");
        if (kind == "nan")
        {
            using var model = ClipModel.CreateRandom(ClipConfig.FromFile(data.Model.ConfigPath), seed: 3);
            using (torch.no_grad()) model.visual.proj[0, 0] = float.NaN;
            CheckpointExporter.SaveOpenClip(model, weights);
        }
        else File.WriteAllBytes(weights, [0x80, 0x02, (byte)'}', (byte)'q', 0x00, (byte)'.']);
        var spec = data.Settings("weights-" + kind) with { Weights = weights, MaxAttempts = 2 };

        await using var cluster = await TestCluster.StartAsync(2);
        var job = cluster.Client.GetGrain<IJobCoordinatorGrain>("job-weights-" + kind);
        string error;
        try
        {
            await job.SubmitAsync(spec);
            var done = await TestCluster.WaitAsync(job, TimeSpan.FromMinutes(2));
            Assert.Equal(JobState.Failed, done.State);
            Assert.Equal((0, 0), (done.MasksDone, done.MasksFailed));
            error = done.Error!;
        }
        catch (Exception e) when (e is not Xunit.Sdk.XunitException)
        {
            error = e.Message;   // refused at submit
        }
        Assert.True(error.Contains(weights, StringComparison.Ordinal), error);
        Assert.True(error.Contains(kind == "nan" ? "NaN" : "pickle", StringComparison.OrdinalIgnoreCase), error);
        Assert.Empty(await JobRows.MasksAsync(spec.OutputFolder));
    }
}

/// <summary>A finished job's Parquet rows.</summary>
static class JobRows
{
    public static async Task<List<PerMaskResult>> MasksAsync(string jobFolder)
    {
        var rows = new List<PerMaskResult>();
        var folder = Path.Combine(jobFolder, "masks");
        if (!Directory.Exists(folder)) return rows;
        foreach (var part in Directory.GetFiles(folder, "part-*.parquet").Order(StringComparer.Ordinal))
            await foreach (var r in PerMaskResultsParquet.ReadAsync(part)) rows.Add(r);
        return rows;
    }
}
