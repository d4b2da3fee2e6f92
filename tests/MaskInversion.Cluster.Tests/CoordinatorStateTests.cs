using System.Collections.Concurrent;
using System.Globalization;
using MaskInversion.Grains;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using Orleans.Storage;
using Orleans.TestingHost;

namespace MaskInversion.Cluster.Tests;

/// <summary>
/// The coordinator's persisted state must not grow with the dataset: its only collection indexed by dataset position
/// (the settled ordinals above the watermark) stays under <see cref="JobShardState.SettledWindow"/>, even when
/// images finish out of order and one image holds the watermark back for a long time. Compute is replaced by images
/// that finish at once (one of them late), so thousands of images settle in well under a second.
/// </summary>
public sealed class CoordinatorStateTests : IDisposable
{
    const int Images = 3000;
    const int MaxInFlight = 4;
    readonly string folder = Path.Combine(Path.GetTempPath(), "mi-coordinator-state-" + Guid.NewGuid().ToString("N"));

    [Theory]
    [InlineData(1)]
    [InlineData(3)]   // sharded: each shard's set stays within its window, and its watermark steps over the others' ordinals
    public async Task Settled_ordinals_above_the_watermark_stay_within_the_window_while_one_image_is_late(int shards)
    {
        Directory.CreateDirectory(folder);
        var manifest = Path.Combine(folder, "manifest.jsonl");
        File.WriteAllLines(manifest, Enumerable.Range(0, Images).Select(i => string.Create(CultureInfo.InvariantCulture,
            $"{{\"image\":\"img/{i:D5}.png\",\"id\":\"{i:D5}\",\"masks\":[{{\"mask\":\"m/{i:D5}.png\",\"label\":\"c{i % 3}\"}}]}}")));
        File.WriteAllLines(Path.Combine(folder, "classes.txt"), ["c0", "c1", "c2"]);

        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.Services.AddKeyedSingleton<IGrainStorage>(StorageNames.Jobs, (sp, _) => new RecordingStorage(sp.GetRequiredService<Serializer>()));
            silo.Services.AddSingleton<IImageProcessor>(new OneLateImage("00010", TimeSpan.FromSeconds(1.5)));
            silo.UseInMemoryReminderService();
            silo.AddMaskInversion(new ComputeOptions { Compute = false });
        });
        await using var cluster = builder.Build();
        await cluster.DeployAsync();

        // A real (tiny) model: submit checks the engine settings even though the canned processor never runs them.
        var model = TinyModelFiles.Write(Path.Combine(folder, "model"), ["c0", "c1", "c2"]);
        var job = cluster.Client.GetGrain<IJobCoordinatorGrain>("state-window");
        await job.SubmitAsync(new JobSettings
        {
            Model = model.ConfigPath, Tokenizer = model.TokenizerFolder, Templates = "single", ImageSize = 32,
            Format = "jsonl", DatasetRoot = manifest, ClassesFile = Path.Combine(folder, "classes.txt"), Methods = ["maskinversion"],
            OutputFolder = Path.Combine(folder, "out"), OverlaySamples = 0, MaxInFlight = MaxInFlight * shards, Shards = shards,   // each shard MaxInFlight
        });
        var p = await TestCluster.WaitAsync(job, stall: TimeSpan.FromSeconds(60));

        Assert.Equal(JobState.Completed, p.State);
        Assert.Equal(Images, p.ImagesDone);
        var storage = (RecordingStorage)cluster.Silos[0].ServiceProvider.GetRequiredKeyedService<IGrainStorage>(StorageNames.Jobs);
        // Without the window every image after the late one was settled above the watermark while it waited.
        Assert.InRange(storage.MaxSettledAbove, 1, JobShardState.SettledWindow(MaxInFlight) - 1);
        var finals = storage.LastByGrain.Values.ToList();
        Assert.Equal(shards, finals.Count);
        Assert.All(finals, last =>
        {
            // The first ordinal past the dataset that is the shard's own.
            Assert.InRange(last.Watermark, Images, Images + shards - 1);
            Assert.Equal(last.Shard, last.Watermark % shards);
            Assert.Empty(last.SettledAbove);
        });
        Assert.Equal(Images, finals.Sum(s => s.ImagesDone));
    }

    public void Dispose()
    {
        try { Directory.Delete(folder, recursive: true); } catch (IOException) { }
    }

    /// <summary>Every image is answered at once (its masks ranked with their true class first), except one, which is
    /// answered after a delay: the watermark waits for it while the rest stream past.</summary>
    sealed class OneLateImage(string lateImageId, TimeSpan delay) : IImageProcessor
    {
        public async Task<ImageOutcome> ProcessAsync(IGrainFactory grains, ImageWork work)
        {
            if (work.ImageId == lateImageId) await Task.Delay(delay);
            var masks = work.Masks.Select(m => new MaskRecord(m.MaskId, m.ClassIndex,
                work.Job.Methods.Select(method => new MethodResult(method, [Math.Max(0, m.ClassIndex)], [1f], 0.5f, null)).ToArray(), null)).ToArray();
            return new ImageOutcome(work.ImageId, masks, null);
        }
    }

    /// <summary>Grain storage in memory that serialises every write (as a remote store would) and keeps the largest
    /// settled-above set any coordinator state was written with.</summary>
    sealed class RecordingStorage(Serializer serializer) : IGrainStorage
    {
        readonly ConcurrentDictionary<(string, GrainId), byte[]> entries = new();
        int maxSettledAbove;

        public int MaxSettledAbove => Volatile.Read(ref maxSettledAbove);
        /// <summary>Each shard's last written state.</summary>
        public ConcurrentDictionary<GrainId, JobShardState> LastByGrain { get; } = new();

        public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
        {
            if (entries.TryGetValue((stateName, grainId), out var bytes))
                (grainState.State, grainState.ETag, grainState.RecordExists) = (serializer.Deserialize<T>(bytes), "1", true);
            return Task.CompletedTask;
        }

        public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
        {
            var bytes = serializer.SerializeToArray(grainState.State);
            entries[(stateName, grainId)] = bytes;
            (grainState.ETag, grainState.RecordExists) = ("1", true);
            if (grainState.State is JobShardState)
            {
                var copy = serializer.Deserialize<JobShardState>(bytes)!;
                LastByGrain[grainId] = copy;
                lock (entries) maxSettledAbove = Math.Max(maxSettledAbove, copy.SettledAbove.Count);
            }
            return Task.CompletedTask;
        }

        public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
        {
            entries.TryRemove((stateName, grainId), out _);
            (grainState.ETag, grainState.RecordExists) = (null, false);
            return Task.CompletedTask;
        }
    }
}
