using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using MaskInversion.Client.Jobs;
using MaskInversion.Grains;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using Orleans.Storage;
using Spectre.Console;

namespace MaskInversion.Client.Commands;

/// <summary>
/// <c>bench coordinator</c>: the real coordinator (dataset stream, dispatcher window, metric registry, Parquet parts,
/// checkpoints, job list) over a synthetic JSON-lines dataset of any size, with the compute replaced by
/// <see cref="CannedImageProcessor"/>, so what is timed is the coordinator's own bookkeeping. Job state goes through
/// <see cref="MeasuredGrainStorage"/> (serialised on every write, like Redis), which reports its size. Prints one JSON
/// line per interval: images settled, images/s, persisted state bytes, managed heap and RSS.
/// </summary>
public static class CoordinatorBenchmark
{
    public sealed record Settings(string DataFolder, int Images, int MasksPerImage, double SampleSeconds, JobSettings Job);

    const int Classes = 10;

    public static async Task<int> RunAsync(Settings s, CancellationToken ct)
    {
        var (manifest, classesFile) = EnsureManifest(Path.GetFullPath(s.DataFolder), s.Images, s.MasksPerImage);
        // Submit checks the engine settings although the canned outcomes never run them: name the bundled model.
        var bundle = DemoCommand.Bundle();
        var job = s.Job with
        {
            Model = Path.Combine(bundle, MaskInversion.Core.Training.MiniClip.ConfigFile),
            Weights = Path.Combine(bundle, MaskInversion.Core.Training.MiniClip.WeightsFile), Tokenizer = bundle, Templates = "single",
            ImageSize = MaskInversion.Core.Models.ClipConfig.FromFile(Path.Combine(bundle, MaskInversion.Core.Training.MiniClip.ConfigFile)).Vision.ImageSize,
            Format = "jsonl", DatasetRoot = manifest, ClassesFile = classesFile, DatasetName = "synthetic-coordinator", OverlaySamples = 0,
            OutputFolder = Path.GetFullPath(Path.Combine("out", "bench-coordinator", DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture))),
        };

        MeasuredGrainStorage? storage = null;
        var start = MemorySample.AfterFullGc();
        Console.WriteLine($"{{\"bench\":\"coordinator\",\"phase\":\"start\",{start.Json}}}");
        await using var cluster = await EmbeddedCluster.StartAsync(new ComputeOptions { Compute = false },
            EmbeddedCluster.PathsFor(manifest, Path.GetDirectoryName(job.OutputFolder)!), ct, silo =>
        {
            silo.Services.AddSingleton<IImageProcessor, CannedImageProcessor>();
            silo.Services.AddKeyedSingleton<IGrainStorage>(StorageNames.Jobs, (sp, _) => storage = new MeasuredGrainStorage(sp.GetRequiredService<Serializer>()));
        });

        var grain = cluster.Job($"bench-coordinator-{Guid.NewGuid():N}");
        var clock = Stopwatch.StartNew();
        await grain.SubmitAsync(job);
        var rows = new List<(double T, long Images, double Rate, long StateBytes, MemorySample Memory)>();
        var p = await JobSampler.UntilEndedAsync(grain, clock, TimeSpan.FromSeconds(s.SampleSeconds), p => p.ImagesDone + p.ImagesFailed + p.ReadErrors,
            (_, t, images, rate) =>
            {
                var row = (t, images, rate, storage?.LastJobStateBytes ?? 0, MemorySample.Now());
                rows.Add(row);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{{\"bench\":\"coordinator\",\"t_s\":{row.t:F1},\"images\":{row.images},\"images_per_s\":{row.rate:F0},\"state_bytes\":{row.Item4},{row.Item5.Json}}}"));
                return Task.CompletedTask;
            }, ct);
        double seconds = clock.Elapsed.TotalSeconds;
        if (p.State != JobState.Completed) throw new InvalidOperationException("Benchmark job did not complete: " + JobView.Line(p));
        var end = MemorySample.AfterFullGc();

        var table = new Table().AddColumns("t (s)", "images", "images/s", "state bytes", "RSS MB", "managed MB");
        foreach (var r in rows)
            table.AddRow(F(r.T, "F0"), r.Images.ToString(CultureInfo.InvariantCulture), F(r.Rate, "F0"), r.StateBytes.ToString(CultureInfo.InvariantCulture),
                F(r.Memory.RssMb, "F0"), F(r.Memory.ManagedMb, "F0"));
        AnsiConsole.Write(table);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{{\"bench\":\"coordinator\",\"phase\":\"end\",\"shards\":{job.Shards},\"images\":{p.ImagesDone},\"masks\":{p.MasksDone},\"seconds\":{seconds:F1},\"images_per_s\":{p.ImagesDone / seconds:F0},\"state_bytes_max\":{storage?.MaxJobStateBytes ?? 0},\"state_writes\":{storage?.JobStateWrites ?? 0},{end.Json}}}"));
        return 0;
    }

    static string F(double v, string format) => v.ToString(format, CultureInfo.InvariantCulture);

    /// <summary>manifest.jsonl of <paramref name="images"/> lines (made once per size; the files it names need not exist:
    /// nothing opens them) and a classes file.</summary>
    static (string Manifest, string Classes) EnsureManifest(string folder, int images, int masksPerImage)
    {
        Directory.CreateDirectory(folder);
        var classes = Path.Combine(folder, "classes.txt");
        File.WriteAllLines(classes, Enumerable.Range(0, Classes).Select(c => $"c{c}"));
        var manifest = Path.Combine(folder, $"manifest-{images}x{masksPerImage}.jsonl");
        if (File.Exists(manifest)) return (manifest, classes);
        var partial = manifest + ".partial";
        using (var w = new StreamWriter(partial))
        {
            for (int i = 0; i < images; i++)
            {
                w.Write(string.Create(CultureInfo.InvariantCulture, $"{{\"image\":\"img/{i:D7}.png\",\"id\":\"{i:D7}\",\"masks\":["));
                for (int m = 0; m < masksPerImage; m++)
                    w.Write(string.Create(CultureInfo.InvariantCulture, $"{(m > 0 ? "," : "")}{{\"mask\":\"m/{i:D7}_{m}.png\",\"label\":\"c{(i + m) % Classes}\"}}"));
                w.WriteLine("]}");
            }
        }
        File.Move(partial, manifest, overwrite: true);
        return (manifest, classes);
    }
}

/// <summary>
/// Bench only (registered by <c>bench coordinator</c>, never by a silo): answers every image at once with a
/// plausible outcome — each mask ranked top-10 with its true class first for every method, Dice 0.5 — so the
/// coordinator's metrics, rows and checkpoints do their full work without any compute.
/// </summary>
public sealed class CannedImageProcessor : IImageProcessor
{
    public Task<ImageOutcome> ProcessAsync(IGrainFactory grains, ImageWork work)
    {
        int classes = Math.Max(1, work.ClassNames.Length);
        var masks = work.Masks.Select(m =>
        {
            int first = Math.Max(0, m.ClassIndex);
            var top = Enumerable.Range(0, Math.Min(10, classes)).Select(k => (first + k) % classes).ToArray();
            var scores = top.Select((_, k) => 1f - 0.05f * k).ToArray();
            return new MaskRecord(m.MaskId, m.ClassIndex, work.Job.Methods.Select(method => new MethodResult(method, top, scores, 0.5f, null)).ToArray(), null);
        }).ToArray();
        return Task.FromResult(new ImageOutcome(work.ImageId, masks, null));
    }
}

/// <summary>
/// Bench only: grain storage in this process's memory that serialises every write with the silo's serializer (as a
/// remote store would) and remembers the size of the job coordinators' state, the figure that must stay bounded.
/// </summary>
public sealed class MeasuredGrainStorage(Serializer serializer) : IGrainStorage
{
    readonly ConcurrentDictionary<(string, GrainId), (byte[] Bytes, string ETag)> entries = new();
    long lastJobStateBytes, maxJobStateBytes, jobStateWrites;

    public long LastJobStateBytes => Interlocked.Read(ref lastJobStateBytes);
    public long MaxJobStateBytes => Interlocked.Read(ref maxJobStateBytes);
    public long JobStateWrites => Interlocked.Read(ref jobStateWrites);

    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        if (entries.TryGetValue((stateName, grainId), out var e))
        {
            grainState.State = serializer.Deserialize<T>(e.Bytes);
            grainState.ETag = e.ETag;
            grainState.RecordExists = true;
        }
        return Task.CompletedTask;
    }

    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var bytes = serializer.SerializeToArray(grainState.State);
        var etag = Guid.NewGuid().ToString("N");
        entries[(stateName, grainId)] = (bytes, etag);
        grainState.ETag = etag;
        grainState.RecordExists = true;
        if (grainState.State is JobShardState or JobCoordinatorState)
        {
            Interlocked.Exchange(ref lastJobStateBytes, bytes.Length);
            Interlocked.Increment(ref jobStateWrites);
            long max;
            while ((max = Interlocked.Read(ref maxJobStateBytes)) < bytes.Length && Interlocked.CompareExchange(ref maxJobStateBytes, bytes.Length, max) != max) { }
        }
        return Task.CompletedTask;
    }

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        entries.TryRemove((stateName, grainId), out _);
        grainState.ETag = null;
        grainState.RecordExists = false;
        return Task.CompletedTask;
    }
}
