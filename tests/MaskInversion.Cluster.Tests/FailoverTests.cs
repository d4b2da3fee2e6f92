using MaskInversion.Grains;
using Orleans.TestingHost;
using Xunit.Abstractions;

namespace MaskInversion.Cluster.Tests;

/// <summary>A compute silo dies mid-job: the coordinator re-dispatches its images and the result is unchanged.</summary>
public sealed class FailoverTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Killing_a_compute_silo_mid_job_loses_nothing()
    {
        using var data = new JobFixtureData(images: 32, faults: false);
        // Long enough per image (≈ 0.5–1 s) that work is still queued on the victim when KillSiloAsync (≈ 0.8 s) lands.
        var spec = data.Settings("failover") with { MaxInFlight = 4, Iterations = 400 };
        var expected = data.Direct(spec);

        await using var cluster = await TestCluster.StartAsync(3);
        var job = cluster.Client.GetGrain<IJobCoordinatorGrain>("job-failover");
        await job.SubmitAsync(spec);
        // Kill once both compute silos are busy and some images are done, so work is lost in flight.
        await TestCluster.WaitAsync(job, TimeSpan.FromMinutes(1), p => p.ImagesDone >= 2);
        // Kill a compute silo at a moment it holds a prepared image, i.e. has work in flight.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        InProcessSiloHandle? victim = null;
        while (victim is null && DateTime.UtcNow < deadline)
        {
            victim = cluster.Silos.Skip(1).FirstOrDefault(s => TestCluster.Executor(s).CachedBytes > 0);
            if (victim is null) await Task.Delay(1);
        }
        Assert.NotNull(victim);
        var sw = System.Diagnostics.Stopwatch.StartNew();
        output.WriteLine($"kill at {await job.GetProgressAsync()}");
        await cluster.KillSiloAsync(victim);
        output.WriteLine($"killed in {sw.Elapsed}: {await job.GetProgressAsync()}");

        var done = await TestCluster.WaitAsync(job, TimeSpan.FromMinutes(3));
        output.WriteLine(done.ToString());
        Assert.Equal(JobState.Completed, done.State);
        Assert.Equal(32, done.ImagesDone);
        Assert.Equal(0, done.ImagesFailed);
        Assert.Equal(0, done.MasksFailed);
        Assert.True(done.Retries > 0, "no image was re-dispatched: the kill hit no work in flight");
        Expect.SameCounts(expected, await job.GetResultsAsync());
    }
}
