using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace MaskInversion.Process.Tests;

/// <summary>
/// Real silo processes on Redis (one control silo: gateway + coordinators; two compute silos) run the fixture's job
/// while a silo is SIGKILLed, every silo is stopped and restarted, a compute silo is cut off the network, or the
/// coordinator dies between a Parquet part and its checkpoint. Each time metrics.json and every per-mask Parquet row
/// must equal the clean run's exactly: no mask lost, none counted or written twice. After a coordinator loss nothing
/// calls the cluster until the job's metrics.json appears: the job resumes by its reminder alone.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class ChaosTests(ChaosJob job, ITestOutputHelper output)
{
    static readonly TimeSpan JobTimeout = TimeSpan.FromMinutes(3);
    static readonly Regex Redispatch = new(@"Image \S+ attempt \d+ failed");
    /// <summary>A re-dispatch after membership declared the lost silo dead (before: connection refused/timeouts).</summary>
    static readonly Regex DeclaredDead = new(@"Image \S+ attempt \d+ failed \(The target silo became unavailable");

    /// <summary>A shard of the job picked up its work again (the coordinator's poke reactivated it).</summary>
    static Regex Resumed(string jobId) => new($@"Job {Regex.Escape(jobId)} shard \d+/\d+ resumes at ordinal");

    [Fact]
    public void Clean_run_counts_every_mask_once_expires_its_mask_records_logs_no_placement_noise_and_listens_on_loopback_only()
    {
        var facts = job.Facts;
        output.WriteLine(facts.ResultsOutput);
        Assert.Equal("Completed", facts.Status.State);
        Assert.Equal(ChaosJob.Images, facts.Status.ImagesDone);
        Assert.Equal(job.Masks, facts.Status.MasksDone);
        Assert.Equal(0, facts.Status.MasksFailed);
        Assert.Equal(2 * job.Masks, job.Clean.Rows.Count);   // maskinversion + clip, one row each

        // Mask records exist for retries but expire (Cluster:MaskRecordTtl, 1 h); the job's own record stays.
        Assert.Equal(job.Masks, facts.MaskRecords);
        Assert.All(facts.MaskRecordTtls, ttl => Assert.InRange(ttl ?? TimeSpan.MaxValue, TimeSpan.FromMinutes(55), TimeSpan.FromHours(1)));
        Assert.Null(facts.JobRecordTtl);
        Assert.Equal(0, facts.RemindersLeft);   // the finished job dropped its resume reminder

        Assert.Equal(0, facts.PollyInfoLines);

        // Silo, gateway and HTTP ports of all three silos: bound, and only on loopback (the default).
        Assert.Equal(9, facts.Listening.Select(l => (l.Silo, l.Port)).Distinct().Count());
        Assert.All(facts.Listening, l => Assert.True(l.Address == "127.0.0.1", $"{l.Silo} listens on {l.Address}:{l.Port}"));
    }

    [Fact]
    public Task Sigkill_of_a_compute_silo_mid_job_loses_nothing() => RunAsync("kill-compute", async (cluster, jobId) =>
    {
        await cluster.WaitUntilUnderWayAsync(jobId, JobTimeout);
        var killedAt = DateTime.UtcNow;
        cluster.Compute[0].Process.Kill();
        await cluster.WaitForMetricsAsync(jobId, JobTimeout);
        // The coordinator learns of the loss when membership declares the silo dead, and re-dispatches its images.
        return new()
        {
            ["kill_to_first_redispatch_s"] = SecondsUntil(cluster.Control, Redispatch, killedAt),
            ["kill_to_declared_dead_s"] = SecondsUntil(cluster.Control, DeclaredDead, killedAt),
        };
    }, expectRetries: true);

    /// <summary>With three shards every shard resumes from its own checkpoint, and the summed outputs equal the clean
    /// unsharded run's to the last bit.</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public Task Sigkill_of_the_coordinator_silo_mid_job_resumes_unattended(int shards) =>
        RunAsync(shards == 1 ? "kill-coordinator" : $"kill-coordinator-{shards}-shards", async (cluster, jobId) =>
    {
        await cluster.WaitUntilUnderWayAsync(jobId, JobTimeout);
        Assert.True(await RemindersOfAsync(cluster, jobId) == 1, "a running job holds one resume reminder");
        var control = cluster.Control;
        var killedAt = DateTime.UtcNow;
        control.Process.Kill();
        Assert.True(await control.Process.WaitForExitAsync(TimeSpan.FromSeconds(10)));
        // What a supervisor (compose restart policy, a Kubernetes Deployment) does: start it again. Nobody calls the job.
        control.Restart();
        var restartedAt = await control.WaitStartedAsync();
        var resumed = new List<DateTime>();
        for (int shard = 0; shard < shards; shard++)
            resumed.Add(await control.Process.WaitForLineAsync(new Regex($@"Job {Regex.Escape(jobId)} shard {shard}/{shards} resumes at ordinal"), JobTimeout));
        return new()
        {
            ["shards"] = shards,
            ["kill_to_resume_s"] = Figures.Seconds(killedAt, resumed.Max()),
            ["silo_restart_to_resume_s"] = Figures.Seconds(restartedAt, resumed.Max()),
        };
    }, submit: ["--shards", shards.ToString(System.Globalization.CultureInfo.InvariantCulture)]);

    [Fact]
    public Task Stopping_and_restarting_every_silo_resumes_unattended() => RunAsync("restart-all", async (cluster, jobId) =>
    {
        await cluster.WaitUntilUnderWayAsync(jobId, JobTimeout);
        var stoppingAt = DateTime.UtcNow;
        foreach (var silo in cluster.Silos) silo.Process.Terminate();
        foreach (var silo in cluster.Silos)
            Assert.True(await silo.Process.WaitForExitAsync(TimeSpan.FromSeconds(60)), $"{silo.Name} did not stop on SIGTERM");
        var stoppedAt = DateTime.UtcNow;
        // The control silo first: the job resumes with no compute silo in the cluster and must wait for them,
        // not burn its images' attempts (start order is not guaranteed by compose or Kubernetes).
        cluster.Control.Restart();
        var controlAt = await cluster.Control.WaitStartedAsync();
        var resumedAt = await cluster.Control.Process.WaitForLineAsync(Resumed(jobId), JobTimeout);
        foreach (var silo in cluster.Compute) silo.Restart();
        await Task.WhenAll(cluster.Compute.Select(s => s.WaitStartedAsync()));
        var computeAt = DateTime.UtcNow;
        return new()
        {
            ["graceful_stop_s"] = Figures.Seconds(stoppingAt, stoppedAt),
            ["control_start_to_resume_s"] = Figures.Seconds(controlAt, resumedAt),
            ["compute_silos_back_after_resume_s"] = Figures.Seconds(resumedAt, computeAt),
        };
    });

    /// <summary>Each image waits before its forward pass (ComputeOptions.ImageDelay): on a quiet machine the 64-image job
    /// otherwise ended while the second compute silo was still starting, before the cut.</summary>
    static readonly string[] SlowImages = ["--MaskInversion:ImageDelay=00:00:02"];

    [Fact]
    public async Task Partitioning_a_compute_silo_loses_nothing()
    {
        using var network = NetworkNamespace.Create();
        await RunAsync("partition", async (cluster, jobId) =>
        {
            // The job starts with the silo to be cut off as its only compute silo, so work is surely in flight there
            // when the cut comes (with both up from the start, placement could leave it idle and the fault hit nothing).
            await cluster.WaitUntilUnderWayAsync(jobId, JobTimeout);
            await cluster.Start(cluster.Spec("compute-1", SiloRole.Compute, address: network.HostAddress) with { Extra = SlowImages }).WaitStartedAsync();
            var partitionedAt = DateTime.UtcNow;
            network.Partition();
            var doneAt = await cluster.WaitForMetricsAsync(jobId, JobTimeout);
            network.Heal();
            // Back on the network, the cut-off silo reads that it was declared dead and stops itself.
            var isolated = cluster.Compute.Single(s => s.Spec.Netns is not null);
            bool stopped = await isolated.Process.WaitForExitAsync(TimeSpan.FromSeconds(60));
            output.WriteLine($"isolated silo after healing: {(stopped ? $"exited {isolated.Process.ExitCode}" : "still running")}");
            return new()
            {
                ["partition_to_first_redispatch_s"] = SecondsUntil(cluster.Control, Redispatch, partitionedAt),
                ["partition_to_declared_dead_s"] = SecondsUntil(cluster.Control, DeclaredDead, partitionedAt),
                ["partition_to_job_end_s"] = Figures.Seconds(partitionedAt, doneAt),
                ["isolated_silo_stopped_after_heal"] = stopped,
            };
        }, start: cluster => cluster.StartAsync(
            cluster.Spec("control", SiloRole.Control, address: network.HostAddress),
            cluster.Spec("compute-2", SiloRole.Compute, address: network.Address, netns: network.Name, redisAddress: network.HostAddress) with { Extra = SlowImages }),
            redisBind: [network.HostAddress], expectRetries: true);
    }

    [Fact]
    public Task Coordinator_crash_between_closing_a_part_and_its_checkpoint_loses_nothing() => RunAsync("crash-at-checkpoint", async (cluster, jobId) =>
    {
        var control = cluster.Control;
        // RecoveryOptions.CrashAfterClosingPart=1: the coordinator SIGKILLs its silo right after closing part 1.
        Assert.True(await control.Process.WaitForExitAsync(JobTimeout), "the fault injection never fired");
        var crashedAt = DateTime.UtcNow;
        Assert.Contains(control.Process.Lines, l => l.Contains("FAULT INJECTION", StringComparison.Ordinal));
        Assert.Equal(137, control.Process.ExitCode);   // 128 + SIGKILL
        var orphan = Path.Combine(cluster.JobFolder(jobId), "masks", "part-00001.parquet");
        Assert.True(File.Exists(orphan), "the closed, uncommitted part should be on disk at the crash");
        control.Restart(control.Spec with { Extra = [] });
        await control.WaitStartedAsync();
        var resumedAt = await control.Process.WaitForLineAsync(Resumed(jobId), JobTimeout);
        return new() { ["crash_to_resume_s"] = Figures.Seconds(crashedAt, resumedAt) };
    }, start: cluster => cluster.StartAsync(
        cluster.Spec("control", SiloRole.Control) with { Extra = ["--Recovery:CrashAfterClosingPart=1"] },
        cluster.Spec("compute-1", SiloRole.Compute), cluster.Spec("compute-2", SiloRole.Compute)));

    /// <summary>Starts a cluster (default: control + two compute silos), submits the job, runs the fault, waits for the
    /// job's metrics.json without calling the cluster, and compares everything with the clean run.</summary>
    async Task RunAsync(string jobId, Func<ProcessCluster, string, Task<Dictionary<string, object>>> fault,
        Func<ProcessCluster, Task>? start = null, string[]? redisBind = null, bool expectRetries = false, string[]? submit = null)
    {
        using var cluster = await ProcessCluster.StartRedisAsync(jobId, redisBind ?? []);
        try
        {
            await (start ?? (c => c.StartAsync(c.Spec("control", SiloRole.Control), c.Spec("compute-1", SiloRole.Compute), c.Spec("compute-2", SiloRole.Compute))))(cluster);
            var submittedAt = DateTime.UtcNow;
            await cluster.SubmitAsync(job.Data, jobId, submit ?? []);
            var figures = await fault(cluster, jobId);
            var doneAt = await cluster.WaitForMetricsAsync(jobId, JobTimeout);

            var outputs = await JobOutputs.ReadAsync(cluster.JobFolder(jobId));
            outputs.AssertSameAs(job.Clean, jobId);
            var status = ClientCli.Parse(await cluster.Client.ResultsAsync(jobId));
            Assert.Equal("Completed", status.State);
            Assert.Equal(job.Masks, status.MasksDone);
            Assert.Equal(0, status.MasksFailed);
            if (expectRetries) Assert.True(status.Retries > 0, "no image was re-dispatched: the fault hit no work in flight");

            figures["job_s"] = Figures.Seconds(submittedAt, doneAt);
            figures["clean_job_s"] = Math.Round(job.CleanDuration.TotalSeconds, 2);
            figures["retries"] = status.Retries;
            output.WriteLine(Figures.Record(jobId, figures));
        }
        catch (Exception)
        {
            cluster.Keep = true;
            output.WriteLine(cluster.Describe());
            throw;
        }
    }

    /// <summary>Seconds from <paramref name="from"/> to the silo's first line matching <paramref name="pattern"/> (-1: none).</summary>
    static double SecondsUntil(SiloProcess silo, Regex pattern, DateTime from) =>
        silo.Process.FirstLine(pattern, from) is { } at ? Figures.Seconds(from, at) : -1;

    static async Task<int> RemindersOfAsync(ProcessCluster cluster, string jobId) =>
        (await cluster.Redis!.Database.SortedSetRangeByRankAsync($"{cluster.ClusterId}/reminders"))
            .Count(r => r.ToString().Contains($"/{jobId}", StringComparison.Ordinal) || r.ToString().Contains(jobId, StringComparison.Ordinal));
}
