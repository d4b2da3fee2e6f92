using System.Diagnostics;
using System.Globalization;
using MaskInversion.Client.Jobs;
using MaskInversion.Core.Datasets;
using MaskInversion.Core.Models;
using MaskInversion.Core.Pipeline;
using MaskInversion.Core.Training;
using MaskInversion.Grains;
using Spectre.Console;

namespace MaskInversion.Client.Commands;

/// <summary>
/// The same masks through the cluster (an in-process silo: grains, executor, batching, outputs) and directly through
/// one RegionEngine on this machine (<see cref="DirectRun"/>), both built from the same job settings. Both exclude
/// model loading and warm up on one image first, so the ratio is the cluster's overhead per mask. Data: held-out
/// MiniCLIP scenes (2–4 objects each) with MiniCLIP's vocabulary for the class prompts.
/// </summary>
public static class ClusterBenchmark
{
    /// <param name="Model">A named OpenCLIP architecture with seeded random weights, or "miniclip" (the bundled model).</param>
    public sealed record Settings(string DataFolder, int Images, string Model, int ImageSize, JobSettings Job);

    public static async Task<int> RunAsync(Settings s, CancellationToken ct)
    {
        EmbeddedCluster.BeforeFirstTensor();
        var bundle = DemoCommand.Bundle();
        bool mini = s.Model.Equals("miniclip", StringComparison.OrdinalIgnoreCase);
        int imageSize = mini ? ClipConfig.FromFile(Path.Combine(bundle, MiniClip.ConfigFile)).Vision.ImageSize : s.ImageSize;
        var (root, split, _, _) = DemoCommand.EnsureSceneDataset(s.DataFolder, s.Images, imageSize);
        var job = s.Job with
        {
            Format = "openimages", DatasetRoot = root, Split = split, DatasetName = "miniclip-scenes-heldout",
            Model = mini ? Path.Combine(bundle, MiniClip.ConfigFile) : s.Model, Weights = mini ? Path.Combine(bundle, MiniClip.WeightsFile) : null,
            Tokenizer = bundle, Templates = "single", ImageSize = imageSize, OverlaySamples = 0,
            OutputFolder = Path.GetFullPath(Path.Combine("out", "bench-cluster", DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture))),
        };

        double clusterRate;
        long masks;
        await using (var cluster = await EmbeddedCluster.StartAsync(new ComputeOptions(), EmbeddedCluster.PathsFor(root, Path.GetDirectoryName(job.OutputFolder)!), ct))
        {
            await RunJobAsync(cluster, "warmup", job with { MaxImages = 1, OutputFolder = job.OutputFolder + "-warmup" }, ct);
            var sw = Stopwatch.StartNew();
            var done = await RunJobAsync(cluster, "timed", job, ct);
            clusterRate = done.MasksDone / sw.Elapsed.TotalSeconds;
            masks = done.MasksDone;
        }

        var reader = DatasetReaders.Open(job.ToReaderOptions());
        using var engine = RegionEngine.Load(job.ToEngineSettings(reader.Classes.Select(c => c.Name).ToArray()));
        var methods = job.ToRegionMethods();
        var images = DirectRun.Images(reader).ToList();
        Count(DirectRun.Run(engine, images.Take(1), methods));
        var clock = Stopwatch.StartNew();
        long directMasks = Count(DirectRun.Run(engine, images, methods));
        double directRate = directMasks / clock.Elapsed.TotalSeconds;

        var ratio = clusterRate / directRate;
        var table = new Table().AddColumns("path", "masks", "masks/s");
        table.AddRow("cluster (in-process silo)", masks.ToString(CultureInfo.InvariantCulture), clusterRate.ToString("F2", CultureInfo.InvariantCulture));
        table.AddRow("direct RegionEngine", directMasks.ToString(CultureInfo.InvariantCulture), directRate.ToString("F2", CultureInfo.InvariantCulture));
        AnsiConsole.Write(table);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{{\"bench\":\"cluster\",\"model\":\"{s.Model}\",\"image_size\":{imageSize},\"images\":{s.Images},\"masks\":{masks},\"iterations\":{job.Iterations},\"methods\":\"{string.Join(',', job.Methods)}\",\"cluster_masks_per_s\":{clusterRate:F3},\"direct_masks_per_s\":{directRate:F3},\"ratio\":{ratio:F3}}}"));
        return 0;
    }

    static async Task<JobProgress> RunJobAsync(ClusterConnection cluster, string name, JobSettings job, CancellationToken ct)
    {
        var grain = cluster.Job($"bench-{name}-{Guid.NewGuid():N}");
        await grain.SubmitAsync(job);
        while (true)
        {
            var p = await grain.GetProgressAsync();
            if (JobView.Finished(p))
                return p.State == JobState.Completed ? p : throw new InvalidOperationException("Benchmark job did not complete: " + JobView.Line(p));
            await Task.Delay(20, ct);
        }
    }

    static long Count(IEnumerable<DirectImageResult> run) => run.Sum(i => (long)i.Image.Masks.Count - i.MaskErrors.Count);
}
