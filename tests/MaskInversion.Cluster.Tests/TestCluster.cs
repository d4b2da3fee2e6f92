using MaskInversion.Core.Datasets;
using MaskInversion.Core.Metrics;
using MaskInversion.Core.Pipeline;
using MaskInversion.Grains;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;

namespace MaskInversion.Cluster.Tests;

/// <summary>An in-process cluster: Silo_0 is a control silo (gateway, coordinators, no compute), the others are
/// compute silos (image and mask grains, no coordinators). Heterogeneous, so placement must respect roles.</summary>
public static class TestCluster
{
    /// <param name="compute">Changes the compute silos' options (e.g. fault injection).</param>
    /// <param name="paths">The silos' allowed folders; default: the development roots (current directory and temp).</param>
    public static async Task<InProcessTestCluster> StartAsync(int silos, Action<ComputeOptions>? compute = null, PathOptions? paths = null)
    {
        var builder = new InProcessTestClusterBuilder((short)silos);
        builder.Options.AssumeHomogenousSilosForTesting = false;
        builder.ConfigureSilo((options, silo) =>
        {
            bool control = options.SiloName == "Silo_0";
            silo.AddMemoryGrainStorage(StorageNames.Jobs);
            silo.AddMemoryGrainStorage(StorageNames.Masks);
            silo.UseInMemoryReminderService();
            var computeOptions = new ComputeOptions { Compute = !control, Coordinator = control, BatchLinger = TimeSpan.FromMilliseconds(200) };
            if (!control) compute?.Invoke(computeOptions);
            silo.AddMaskInversion(computeOptions);
            if (paths is not null) silo.Services.Configure<PathOptions>(p => (p.DatasetRoots, p.OutputRoots) = (paths.DatasetRoots, paths.OutputRoots));
        });
        var cluster = builder.Build();
        await cluster.DeployAsync();
        // The client learns which silo hosts which grain class from the cluster manifest, which can lag the deploy on a
        // loaded machine ("Could not find an implementation for interface IJobCoordinatorGrain"): wait for it.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            try
            {
                cluster.Client.GetGrain<IJobCoordinatorGrain>("manifest-probe");
                if (silos < 2) break;
                cluster.Client.GetGrain<IImageGrain>("manifest-probe");
                break;
            }
            catch (ArgumentException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
        }
        return cluster;
    }

    public static ComputeExecutor Executor(InProcessSiloHandle silo) => silo.ServiceProvider.GetRequiredService<ComputeExecutor>();

    /// <summary>Polls until <paramref name="until"/> (default: the job ended). Fails when nothing settles for
    /// <paramref name="stall"/>: a lost image stalls a job for ever, while a loaded machine only slows it.</summary>
    public static async Task<JobProgress> WaitAsync(IJobCoordinatorGrain job, TimeSpan stall, Func<JobProgress, bool>? until = null)
    {
        until ??= p => p.State is JobState.Completed or JobState.Cancelled or JobState.Failed;
        var deadline = DateTime.UtcNow + stall;
        long settled = -1;
        while (true)
        {
            var p = await job.GetProgressAsync();
            if (until(p)) return p;
            long now = p.ImagesDone + p.ImagesFailed + p.ReadErrors;
            if (now != settled) (settled, deadline) = (now, DateTime.UtcNow + stall);
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Job {p.JobId} settled nothing for {stall} ({p.State}): {p}");
            await Task.Delay(100);
        }
    }
}

/// <summary>A generated dataset plus the tiny random model, in a temporary folder.</summary>
public sealed class JobFixtureData : IDisposable
{
    public string Folder { get; }
    public SyntheticDataset.Info Dataset { get; }
    public TinyModelFiles Model { get; }

    /// <param name="folder">Where to write (default: a new temp folder); deleted on dispose.</param>
    public JobFixtureData(int images, bool faults, int masksPerImage = 2, string? folder = null)
    {
        Folder = folder ?? Path.Combine(Path.GetTempPath(), "mi-cluster-" + Guid.NewGuid().ToString("N"));
        Dataset = SyntheticDataset.Write(Path.Combine(Folder, "data"), images, masksPerImage, seed: 7, corruptImage: faults, missingMask: faults);
        Model = TinyModelFiles.Write(Path.Combine(Folder, "model"), SyntheticDataset.Classes.Select(c => c.Name));
    }

    public JobSettings Settings(string output, params string[] methods) => new()
    {
        Format = "openimages", DatasetRoot = Dataset.Root, Split = Dataset.Split,
        Model = Model.ConfigPath, Tokenizer = Model.TokenizerFolder, Templates = "single",
        Methods = methods.Length == 0 ? ["maskinversion", "clip"] : methods,
        Iterations = 2, LearningRate = 0.1, ImageSize = 32, Seed = 3,
        OutputFolder = Path.Combine(Folder, output), OverlaySamples = 2, MaxInFlight = 4, MaxAttempts = 6,
        DatasetName = "synthetic",
    };

    /// <summary>The same masks straight through one RegionEngine, from the same settings: what the cluster must
    /// reproduce exactly.</summary>
    public Dictionary<string, RetrievalMetrics> Direct(JobSettings job)
    {
        var reader = DatasetReaders.Open(job.ToReaderOptions());
        var classes = JobClassesOf(reader);
        using var engine = RegionEngine.Load(job.ToEngineSettings(reader.Classes.Select(c => c.Name).ToArray()));
        var acc = job.ToRegionMethods().ToDictionary(m => m.Name, _ => new RetrievalAccumulator());
        foreach (var image in DirectRun.Run(engine, DirectRun.Images(reader, job.MaxImages), job.ToRegionMethods()))
        {
            var classOf = image.Image.Masks.ToDictionary(m => m.MaskId, m => classes[m.ClassId!]);
            foreach (var r in image.Results)
                acc[r.Method.Name].Add(image.Image.ImageId, r.MaskId, classOf[r.MaskId], r.TopClasses);
        }
        return acc.ToDictionary(kv => kv.Key, kv => kv.Value.Compute());
    }

    static Dictionary<string, int> JobClassesOf(IDatasetReader reader) =>
        reader.Classes.Select((c, i) => (c.Id, i)).ToDictionary(t => t.Id, t => t.i);

    public void Dispose()
    {
        try { Directory.Delete(Folder, recursive: true); } catch (IOException) { }
    }
}
