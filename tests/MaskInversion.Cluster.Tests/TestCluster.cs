using MaskInversion.Core.Datasets;
using MaskInversion.Core.Metrics;
using MaskInversion.Core.Pipeline;
using MaskInversion.Grains;
using MaskInversion.Grains.Demo;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;

namespace MaskInversion.Cluster.Tests;

/// <summary>An in-process cluster: Silo_0 is a control silo (gateway, coordinators, no compute), the others are
/// compute silos (image and mask grains, no coordinators). Heterogeneous, so placement must respect roles.</summary>
public static class TestCluster
{
    public static async Task<InProcessTestCluster> StartAsync(int silos)
    {
        var builder = new InProcessTestClusterBuilder((short)silos);
        builder.Options.AssumeHomogenousSilosForTesting = false;
        builder.ConfigureSilo((options, silo) =>
        {
            bool control = options.SiloName == "Silo_0";
            silo.AddMemoryGrainStorage(StorageNames.Jobs);
            silo.AddMemoryGrainStorage(StorageNames.Masks);
            silo.UseInMemoryReminderService();
            silo.AddMaskInversion(new ComputeOptions { Compute = !control, Coordinator = control, BatchLinger = TimeSpan.FromMilliseconds(200) });
        });
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return cluster;
    }

    public static ComputeExecutor Executor(InProcessSiloHandle silo) => silo.ServiceProvider.GetRequiredService<ComputeExecutor>();

    public static async Task<JobProgress> WaitAsync(IJobCoordinatorGrain job, TimeSpan timeout, Func<JobProgress, bool>? until = null)
    {
        until ??= p => p.State is JobState.Completed or JobState.Cancelled or JobState.Failed;
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var p = await job.GetProgressAsync();
            if (until(p)) return p;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Job {p.JobId} still {p.State} after {timeout}: {p}");
            await Task.Delay(100);
        }
    }
}

/// <summary>A generated dataset plus the tiny random model, in a temporary folder.</summary>
public sealed class JobFixtureData : IDisposable
{
    public string Folder { get; } = Path.Combine(Path.GetTempPath(), "mi-cluster-" + Guid.NewGuid().ToString("N"));
    public SyntheticDataset.Info Dataset { get; }
    public TinyModelFiles Model { get; }

    public JobFixtureData(int images, bool faults, int masksPerImage = 2)
    {
        Dataset = SyntheticDataset.Write(Path.Combine(Folder, "data"), images, masksPerImage, seed: 7, corruptImage: faults, missingMask: faults);
        Model = TinyModelFiles.Write(Path.Combine(Folder, "model"), SyntheticDataset.Classes.Select(c => c.Name));
    }

    public JobSpec Spec(string output, params string[] methods) => new()
    {
        Format = "openimages", DatasetRoot = Dataset.Root, Split = Dataset.Split,
        Model = Model.ConfigPath, Tokenizer = Model.TokenizerFolder, Templates = "single",
        Methods = methods.Length == 0 ? ["maskinversion", "clip"] : methods,
        Iterations = 2, LearningRate = 0.1, ImageSize = 32, Seed = 3,
        OutputFolder = Path.Combine(Folder, output), OverlaySamples = 2, MaxInFlight = 4, MaxAttempts = 6,
        DatasetName = "synthetic",
    };

    public static EngineSpec Engine(JobSpec spec) => new(spec.Model, spec.Weights, spec.PretrainedTag, spec.Tokenizer, spec.ImageSize, spec.Templates,
        SyntheticDataset.Classes.Select(c => c.Name).ToArray(), spec.Iterations, spec.LearningRate, spec.Alpha, spec.Seed);

    /// <summary>The same masks straight through one RegionEngine: what the cluster must reproduce exactly.</summary>
    public Dictionary<string, RetrievalMetrics> Direct(JobSpec spec)
    {
        using var engine = RegionEngine.Load(Engine(spec).ToSettings());
        var methods = spec.Methods.Select(RegionMethods.Parse).ToList();
        var acc = spec.Methods.ToDictionary(m => m, _ => new RetrievalAccumulator());
        var reader = DatasetReaders.Open(spec.Format, spec.DatasetRoot, spec.Split);
        var index = reader.Classes.Select((c, i) => (c.Id, i)).ToDictionary(t => t.Id, t => t.i);
        foreach (var record in reader.ReadImages())
        {
            if (record.Image is not { } image) continue;
            PreparedImage prepared;
            try { prepared = engine.Prepare(image.ImageId, image.ImagePath); }
            catch (Exception) { continue; }   // the corrupt image: an error, not a result
            using (prepared)
            {
                var inputs = new List<MaskInput>();
                foreach (var m in image.Masks)
                {
                    try { inputs.Add(new MaskInput(m.MaskId, Conversions.LoadMask(m.Source.ToData(), prepared.Image.Width, prepared.Image.Height))); }
                    catch (Exception) { }   // the missing mask file
                }
                var classOf = image.Masks.ToDictionary(m => m.MaskId, m => index[m.ClassId!]);
                foreach (var r in engine.Evaluate(prepared, inputs, methods))
                    acc[r.Method.Name()].Add(image.ImageId, r.MaskId, classOf[r.MaskId], r.TopClasses);
            }
        }
        return acc.ToDictionary(kv => kv.Key, kv => kv.Value.Compute());
    }

    public void Dispose()
    {
        try { Directory.Delete(Folder, recursive: true); } catch (IOException) { }
    }
}
