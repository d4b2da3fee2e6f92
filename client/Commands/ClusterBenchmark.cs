using System.Diagnostics;
using System.Globalization;
using MaskInversion.Core.Datasets;
using MaskInversion.Core.Pipeline;
using MaskInversion.Grains;
using Spectre.Console;

namespace MaskInversion.Client.Commands;

/// <summary>
/// The same masks through the cluster (an in-process silo: grains, executor, batching, outputs) and directly through
/// one RegionEngine on this machine. Both exclude model loading and warm up on one image first, so the ratio is
/// the cluster's overhead per mask.
/// </summary>
public static class ClusterBenchmark
{
    public sealed record Settings(string DataFolder, int Images, int MasksPerImage, int Iterations, string Methods, int InFlight,
        string Model = "tiny", int ImageSize = 224);

    public static async Task<int> RunAsync(Settings s, CancellationToken ct)
    {
        var data = DemoCommand.EnsureDataset(s.DataFolder, s.Images, s.MasksPerImage);
        var tiny = DemoCommand.WriteDefaultModel(data.Root);
        var spec = new JobSpec
        {
            Format = "openimages", DatasetRoot = data.Root, Split = data.Split, Tokenizer = tiny.TokenizerFolder,
            Model = s.Model.Equals("tiny", StringComparison.OrdinalIgnoreCase) ? tiny.ConfigPath : s.Model,
            Templates = "single", ImageSize = s.Model.Equals("tiny", StringComparison.OrdinalIgnoreCase) ? 64 : s.ImageSize, Iterations = s.Iterations,
            Methods = RegionMethods.ParseList(s.Methods).Select(m => m.Name()).ToArray(),
            OverlaySamples = 0, MaxInFlight = s.InFlight,
            OutputFolder = Path.GetFullPath(Path.Combine("out", "bench-cluster", DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture))),
        };

        double clusterRate;
        long masks;
        await using (var cluster = await ClusterConnection.StartEmbeddedAsync(new ComputeOptions(), ct))
        {
            await RunJobAsync(cluster, "warmup", spec with { MaxImages = 1, OutputFolder = spec.OutputFolder + "-warmup" }, ct);
            var sw = Stopwatch.StartNew();
            var done = await RunJobAsync(cluster, "timed", spec, ct);
            clusterRate = done.MasksDone / sw.Elapsed.TotalSeconds;
            masks = done.MasksDone;
        }

        var reader = DatasetReaders.Open(spec.Format, spec.DatasetRoot, spec.Split);
        var engineSpec = new EngineSpec(spec.Model, null, null, spec.Tokenizer, spec.ImageSize, spec.Templates,
            reader.Classes.Select(c => c.Name).ToArray(), spec.Iterations, spec.LearningRate, spec.Alpha, spec.Seed);
        var methods = spec.Methods.Select(RegionMethods.Parse).ToList();
        using var engine = RegionEngine.Load(engineSpec.ToSettings());
        var images = reader.ReadImages().Where(r => r.Image is not null).Select(r => r.Image!).ToList();
        Direct(engine, images.Take(1), methods);
        var clock = Stopwatch.StartNew();
        long directMasks = Direct(engine, images, methods);
        double directRate = directMasks / clock.Elapsed.TotalSeconds;

        var ratio = clusterRate / directRate;
        var table = new Table().AddColumns("path", "masks", "masks/s");
        table.AddRow("cluster (in-process silo)", masks.ToString(CultureInfo.InvariantCulture), clusterRate.ToString("F2", CultureInfo.InvariantCulture));
        table.AddRow("direct RegionEngine", directMasks.ToString(CultureInfo.InvariantCulture), directRate.ToString("F2", CultureInfo.InvariantCulture));
        AnsiConsole.Write(table);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{{\"bench\":\"cluster\",\"model\":\"{s.Model}\",\"image_size\":{spec.ImageSize},\"images\":{s.Images},\"masks\":{masks},\"iterations\":{s.Iterations},\"methods\":\"{string.Join(',', spec.Methods)}\",\"cluster_masks_per_s\":{clusterRate:F3},\"direct_masks_per_s\":{directRate:F3},\"ratio\":{ratio:F3}}}"));
        return 0;
    }

    static async Task<JobProgress> RunJobAsync(ClusterConnection cluster, string name, JobSpec spec, CancellationToken ct)
    {
        var job = cluster.Grains.GetGrain<IJobCoordinatorGrain>($"bench-{name}-{Guid.NewGuid():N}");
        await job.SubmitAsync(spec);
        while (true)
        {
            var p = await job.GetProgressAsync();
            if (JobView.Finished(p))
                return p.State == JobState.Completed ? p : throw new InvalidOperationException("Benchmark job did not complete: " + JobView.Line(p));
            await Task.Delay(20, ct);
        }
    }

    static long Direct(RegionEngine engine, IEnumerable<DatasetImage> images, IReadOnlyList<RegionMethod> methods)
    {
        long n = 0;
        foreach (var image in images)
        {
            using var prepared = engine.Prepare(image.ImageId, image.ImagePath);
            var inputs = image.Masks.Select(m => new MaskInput(m.MaskId, Conversions.LoadMask(m.Source.ToData(), prepared.Image.Width, prepared.Image.Height))).ToList();
            engine.Evaluate(prepared, inputs, methods);
            n += inputs.Count;
        }
        return n;
    }
}
