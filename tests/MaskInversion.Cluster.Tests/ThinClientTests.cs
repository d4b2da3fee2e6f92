using System.Reflection;
using MaskInversion.Client.Jobs;
using MaskInversion.Grains;

namespace MaskInversion.Cluster.Tests;

/// <summary>The job client (submit, status, watch, results, cancel) is built on the grain abstractions only: its
/// assembly closure holds neither the engine nor TorchSharp, so those commands never load them.</summary>
public sealed class ThinClientTests
{
    static SortedSet<string> Closure(Assembly root)
    {
        var seen = new SortedSet<string>(StringComparer.Ordinal);
        var queue = new Queue<AssemblyName>([root.GetName()]);
        while (queue.TryDequeue(out var name))
        {
            // The shared framework cannot reference our assemblies; skipping it keeps the walk short.
            if (name.Name is null || name.Name.StartsWith("System.", StringComparison.Ordinal) || name.Name is "System" or "mscorlib" or "netstandard") continue;
            if (!seen.Add(name.Name)) continue;
            Assembly a;
            try { a = Assembly.Load(name); }
            catch (FileNotFoundException) { continue; }   // compile-time only (not deployed): cannot load anything either
            foreach (var r in a.GetReferencedAssemblies()) queue.Enqueue(r);
        }
        return seen;
    }

    [Fact]
    public void The_job_client_references_neither_the_engine_nor_TorchSharp()
    {
        var thin = Closure(typeof(JobSettingsOptions).Assembly);
        Assert.Contains("MaskInversion.Grains.Abstractions", thin);
        Assert.Contains("Orleans.Core.Abstractions", thin);
        Assert.DoesNotContain("MaskInversion.Core", thin);
        Assert.DoesNotContain("MaskInversion.Grains", thin);
        Assert.DoesNotContain(thin, n => n.StartsWith("TorchSharp", StringComparison.Ordinal));

        // The same walk does find them from the grain implementations, so the check above can fail.
        var full = Closure(typeof(ComputeExecutor).Assembly);
        Assert.Contains("MaskInversion.Core", full);
        Assert.Contains(full, n => n.StartsWith("TorchSharp", StringComparison.Ordinal));
    }

    [Fact]
    public void Exit_codes_are_distinct_and_follow_the_jobs_state()
    {
        int[] codes = [ExitCodes.Ok, ExitCodes.JobFailed, ExitCodes.Usage, ExitCodes.NoSuchJob, ExitCodes.Cancelled, ExitCodes.NoCluster];
        Assert.Equal(codes.Length, codes.Distinct().Count());
        Assert.Equal([ExitCodes.NoSuchJob, ExitCodes.Ok, ExitCodes.Ok, ExitCodes.Cancelled, ExitCodes.Ok, ExitCodes.JobFailed],
            Enum.GetValues<JobState>().Select(ExitCodes.Of));   // NotStarted, Running, Cancelling, Cancelled, Completed, Failed
        foreach (var code in codes) Assert.Contains($"{code} ", ExitCodes.Help);
    }
}
