using MaskInversion.Grains;
using Xunit.Abstractions;

namespace MaskInversion.Process.Tests;

/// <summary>Process tests that need no clean reference run (development clustering, the web endpoints).</summary>
[CollectionDefinition(Name)]
public sealed class StandaloneCollection
{
    public const string Name = "process-standalone";
}

/// <summary>
/// Localhost (development) clustering, three silo processes with default roles. Job state lives in memory on the
/// primary silo only (PrimaryHeldState): killing another silo, with the coordinators (and, before, job records) that
/// lived on it, must leave every earlier job's status as it was (issue #14: they read NotStarted, 0 masks).
/// </summary>
[Collection(StandaloneCollection.Name)]
public sealed class DevelopmentClusterTests(ITestOutputHelper output)
{
    const int Jobs = 6;

    [Fact]
    public async Task Every_job_keeps_its_state_when_a_silo_is_killed()
    {
        using var scenes = new Scenes(4);
        using var cluster = ProcessCluster.Development("dev", out int primarySilo, out int primaryGateway);
        try
        {
            await cluster.StartAsync(
                cluster.Spec("primary", SiloRole.Both) with { SiloPort = primarySilo, GatewayPort = primaryGateway, PrimarySiloPort = primarySilo },
                cluster.Spec("silo-2", SiloRole.Both) with { PrimarySiloPort = primarySilo },
                cluster.Spec("silo-3", SiloRole.Both) with { PrimarySiloPort = primarySilo });
            var jobs = Enumerable.Range(1, Jobs).Select(i => $"dev-{i}").ToList();
            // Six jobs: their coordinators and (before the fix) their state spread over all three silos.
            await Task.WhenAll(jobs.Select(j => cluster.Client.RunAsync(["submit", "--job", j, .. scenes.SubmitArguments(cluster.Outputs, inFlight: 2)])));
            foreach (var j in jobs) await cluster.WaitForMetricsAsync(j, TimeSpan.FromMinutes(2));

            await using var admin = await OrleansAdmin.ConnectLocalhostAsync(primaryGateway, cluster.ClusterId);
            var before = new List<JobProgress>();
            foreach (var j in jobs) before.Add(await admin.Grains.GetGrain<IJobCoordinatorGrain>(j).GetProgressAsync());
            Assert.All(before, p => Assert.Equal((JobState.Completed, (long)scenes.Masks), (p.State, p.MasksDone)));
            // Every in-memory storage grain (all job and mask records) is on the primary.
            var storage = await admin.SiloPortsOfAsync("MemoryStorageGrain");
            Assert.NotEmpty(storage);
            Assert.All(storage, port => Assert.Equal(primarySilo, port));
            var coordinatorsOnVictim = (await admin.SiloPortsOfAsync("JobCoordinatorGrain")).Count(p => p == cluster.Silos[1].Spec.SiloPort);

            // One silo (with the coordinators that lived there): the two survivors declare it dead within seconds
            // (a lone survivor doubts its own health and takes over a minute).
            cluster.Silos[1].Process.Kill();

            for (int i = 0; i < Jobs; i++)
            {
                var after = await ProgressOnceAnsweredAsync(admin, jobs[i]);
                output.WriteLine($"{jobs[i]}: before {before[i].State} {before[i].MasksDone} masks, after {after.State} {after.MasksDone} masks");
                Assert.Equal((before[i].State, before[i].ImagesDone, before[i].MasksDone, before[i].MasksFailed),
                    (after.State, after.ImagesDone, after.MasksDone, after.MasksFailed));
            }
            output.WriteLine($"{coordinatorsOnVictim} of {Jobs} coordinators were on the killed silo");
            // And the CLI still reads a job's results.
            Assert.Equal("Completed", ClientCli.Parse(await cluster.Client.ResultsAsync(jobs[0])).State);
        }
        catch (Exception)
        {
            cluster.Keep = true;
            output.WriteLine(cluster.Describe());
            throw;
        }
    }

    /// <summary>A coordinator that lived on the killed silo answers once membership has declared that silo dead.</summary>
    static async Task<JobProgress> ProgressOnceAnsweredAsync(OrleansAdmin admin, string job)
    {
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (true)
        {
            try
            {
                return await admin.Grains.GetGrain<IJobCoordinatorGrain>(job).GetProgressAsync().WaitAsync(TimeSpan.FromSeconds(20));
            }
            catch (Exception ex) when (ex is OrleansException or TimeoutException && DateTime.UtcNow < deadline)
            {
                await Task.Delay(500);
            }
        }
    }
}
