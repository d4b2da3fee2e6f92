using MaskInversion.Core.Datasets;
using MaskInversion.Core.Imaging;
using MaskInversion.Grains;
using Orleans.TestingHost;

namespace MaskInversion.Cluster.Tests;

/// <summary>A cluster whose silos allow datasets under allowed/ and job folders under allowed/jobs only; outside/ holds
/// a readable image and mask that must never be read through a job.</summary>
public sealed class ConfinedClusterFixture : IAsyncLifetime
{
    public string Base { get; } = Path.Combine(Path.GetTempPath(), "mi-confine-" + Guid.NewGuid().ToString("N"));
    public string Allowed => Path.Combine(Base, "allowed");
    public string Jobs => Path.Combine(Allowed, "jobs");
    public string Outside => Path.Combine(Base, "outside");
    public string SecretImage => Path.Combine(Outside, "secret.jpg");
    public string SecretMask => Path.Combine(Outside, "secret.png");
    public InProcessTestCluster Cluster { get; private set; } = null!;
    public JobFixtureData Data { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Jobs);
        Directory.CreateDirectory(Outside);
        Data = new JobFixtureData(images: 3, faults: false, folder: Path.Combine(Allowed, "fixture"));
        // Real, decodable files outside: a refusal must not depend on them being unreadable.
        var first = DatasetReaders.Open("openimages", Data.Dataset.Root, Data.Dataset.Split).ReadImages().First(r => r.Image is not null).Image!;
        File.Copy(first.ImagePath, SecretImage);
        File.Copy(first.Masks[0].Source.PngPath!, SecretMask);
        Cluster = await TestCluster.StartAsync(3, paths: new PathOptions { DatasetRoots = [Allowed], OutputRoots = [Jobs] });
    }

    public async Task DisposeAsync()
    {
        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
        try { Directory.Delete(Base, recursive: true); } catch (IOException) { }
    }
}

/// <summary>#14 / #9: dataset, classes and output paths are confined to the folders configured on the silo. Whole-job
/// paths are refused at submit (nothing opened, nothing leaked); item paths outside are that item's error, the job goes
/// on; a refusal reads the same whether or not the file exists.</summary>
public sealed class ConfinementTests(ConfinedClusterFixture f) : IClassFixture<ConfinedClusterFixture>
{
    JobSettings Spec(string name) => f.Data.Settings(name) with { OutputFolder = Path.Combine(f.Jobs, name) };

    [Fact]
    public async Task A_job_naming_files_outside_the_roots_is_refused_at_submit_and_leaks_nothing()
    {
        // Files that exist and that a silo process could read.
        string hostFile = File.Exists("/etc/hostname") ? "/etc/hostname" : f.SecretImage, secretLines = File.Exists("/etc/passwd") ? "/etc/passwd" : f.SecretMask;
        var linkToOutside = Path.Combine(f.Allowed, "link-out");
        Directory.CreateSymbolicLink(linkToOutside, f.Outside);
        var cases = new (string Name, JobSettings Spec, string Setting)[]
        {
            ("etc", Spec("refused-etc") with { Format = "jsonl", DatasetRoot = hostFile, ClassesFile = secretLines }, "DatasetRoot"),
            ("classes", Spec("refused-classes") with { ClassesFile = secretLines }, "ClassesFile"),
            ("dotdot", Spec("refused-dotdot") with { DatasetRoot = Path.Combine(f.Allowed, "..", "outside") }, "DatasetRoot"),
            ("symlink", Spec("refused-symlink") with { DatasetRoot = linkToOutside }, "DatasetRoot"),
            ("output", Spec("refused-output") with { OutputFolder = Path.Combine(f.Outside, "job") }, "OutputFolder"),
            ("output-dotdot", Spec("refused-output-dotdot") with { OutputFolder = Path.Combine(f.Jobs, "..", "..", "outside", "job2") }, "OutputFolder"),
        };
        foreach (var (name, spec, setting) in cases)
        {
            var job = f.Cluster.Client.GetGrain<IJobCoordinatorGrain>("job-refused-" + name);
            var e = await Assert.ThrowsAnyAsync<ArgumentException>(() => job.SubmitAsync(spec));
            Assert.Contains("\n  " + setting + ":", e.Message);   // the refusal lists each problem on its own line
            Assert.Contains("outside the folders this cluster allows", e.Message);
            Assert.Equal(JobState.NotStarted, (await job.GetProgressAsync()).State);
            Assert.Empty((await job.GetResultsAsync()).ClassNames ?? []);
            foreach (var secret in new[] { hostFile, secretLines }.Where(File.Exists).Where(p => new FileInfo(p).Length < 100_000))
                foreach (var line in File.ReadAllLines(secret).Where(l => l.Trim().Length > 3))
                    Assert.DoesNotContain(line.Trim(), e.Message);
        }
        Assert.False(Directory.Exists(Path.Combine(f.Outside, "job")));
        Assert.False(Directory.Exists(Path.Combine(f.Outside, "job2")));
    }

    [Fact]
    public async Task Item_paths_outside_the_roots_are_per_item_errors_and_the_job_goes_on()
    {
        var manifest = new ManifestDataset(Path.Combine(f.Allowed, "manifest"), f.Data.Dataset);
        var clean = manifest.Write("clean.jsonl");
        var good = manifest.Images[0];
        var link = Path.Combine(manifest.Folder, "link.jpg");
        File.CreateSymbolicLink(link, f.SecretImage);
        var missingOutside = Path.Combine(f.Outside, "no-such-image.jpg");
        manifest.Add(new("dotdot", "../../outside/secret.jpg", [good.Masks[0] with { Id = "dotdot-m" }]));
        manifest.Add(new("absolute", f.SecretImage, [good.Masks[0] with { Id = "absolute-m" }]));
        manifest.Add(new("missing-outside", missingOutside, [good.Masks[0] with { Id = "missing-outside-m" }]));
        manifest.Add(new("symlink", link, [good.Masks[0] with { Id = "symlink-m" }]));
        manifest.Add(new("etc", "/etc/hostname", [good.Masks[0] with { Id = "etc-m" }]));
        manifest.Add(new("mask-dotdot", good.Image, [good.Masks[0] with { Id = "mask-dotdot-m", Path = "../../outside/secret.png" }]));
        var path = manifest.Write("confined.jsonl");

        var cleanSpec = Spec("items-clean") with { Format = "jsonl", DatasetRoot = clean, Split = null, ClassesFile = manifest.ClassesFile };
        var expected = f.Data.Direct(cleanSpec);
        var spec = cleanSpec with { DatasetRoot = path, OutputFolder = Path.Combine(f.Jobs, "items") };
        var job = f.Cluster.Client.GetGrain<IJobCoordinatorGrain>("job-items-confined");
        await job.SubmitAsync(spec);
        var done = await TestCluster.WaitAsync(job, TimeSpan.FromMinutes(2));

        Assert.Equal(JobState.Completed, done.State);
        Assert.Equal((3, f.Data.Dataset.Masks, 0L), (done.ImagesDone, done.MasksDone, done.ImagesFailed));
        Assert.Equal(6, done.ReadErrors);
        Expect.SameCounts(expected, await job.GetResultsAsync());
        var errors = (await JobRows.MasksAsync(spec.OutputFolder)).Where(r => r.Error is not null).ToList();
        foreach (var id in new[] { "dotdot", "absolute", "missing-outside", "symlink", "etc" })
            Assert.Contains(errors, r => r.ImageId == id && r.Error!.Contains("outside the folders this cluster allows"));
        Assert.Contains(errors, r => r.Error!.Contains("../../outside/secret.png") && r.Error.Contains("outside the folders this cluster allows"));
        // The same words whether or not the refused file exists.
        string Said(string id, string file) =>
            System.Text.RegularExpressions.Regex.Replace(errors.Single(r => r.ImageId == id).Error!, @"^\S+:\d+: ", "").Replace(file, "<path>").Replace(id, "<id>");
        Assert.Equal(Said("absolute", f.SecretImage), Said("missing-outside", missingOutside));
    }

    [Fact]
    public async Task A_coco_file_name_leaving_the_images_folder_is_that_images_error()
    {
        var root = Path.Combine(f.Allowed, "coco");
        Directory.CreateDirectory(Path.Combine(root, "annotations"));
        Directory.CreateDirectory(Path.Combine(root, "val2017"));
        var good = DatasetReaders.Open("openimages", f.Data.Dataset.Root, f.Data.Dataset.Split).ReadImages().First(r => r.Image is not null).Image!;
        File.Copy(good.ImagePath, Path.Combine(root, "val2017", "good.jpg"));
        var rgb = ImageLoader.Load(good.ImagePath);
        string Image(int id, string file) => $$"""{"id": {{id}}, "file_name": "{{file}}", "width": {{rgb.Width}}, "height": {{rgb.Height}}}""";
        string Ann(int id, int image) => $$"""{"id": {{id}}, "image_id": {{image}}, "category_id": 1, "iscrowd": 0, "area": 100, "bbox": [2, 2, 20, 20], "segmentation": [[2, 2, 22, 2, 22, 22, 2, 22]]}""";
        File.WriteAllText(Path.Combine(root, "annotations", "instances_val2017.json"), $$"""
            {"images": [{{Image(1, "good.jpg")}}, {{Image(2, "../../../outside/secret.jpg")}}, {{Image(3, f.SecretImage)}}],
             "annotations": [{{Ann(10, 1)}}, {{Ann(20, 2)}}, {{Ann(30, 3)}}],
             "categories": [{"id": 1, "name": "cat"}]}
            """);
        var spec = Spec("coco-confined") with { Format = "coco", DatasetRoot = root, Split = "val2017" };
        var job = f.Cluster.Client.GetGrain<IJobCoordinatorGrain>("job-coco-confined");
        await job.SubmitAsync(spec);
        var done = await TestCluster.WaitAsync(job, TimeSpan.FromMinutes(2));

        Assert.Equal(JobState.Completed, done.State);
        Assert.Equal((1, 1, 2), (done.ImagesDone, done.MasksDone, done.ReadErrors));
        var errors = (await JobRows.MasksAsync(spec.OutputFolder)).Where(r => r.Error is not null).ToList();
        Assert.Contains(errors, r => r.ImageId == "2" && r.Error!.Contains("../../../outside/secret.jpg") && r.Error.Contains("outside the folders"));
        Assert.Contains(errors, r => r.ImageId == "3" && r.Error!.Contains("outside the folders"));
    }

    /// <summary>A plain Orleans client can call compute grains directly, past the coordinator: they confine too.</summary>
    [Fact]
    public async Task Compute_grains_called_directly_confine_images_masks_and_overlays()
    {
        var job = Spec("direct");
        var good = DatasetReaders.Open(job.ToReaderOptions()).ReadImages().First(r => r.Image is not null).Image!;
        var mask = good.Masks[0];
        var work = new MaskWork(mask.MaskId, 0, mask.ClassId, mask.Source.ToData(), false);
        var image = f.Cluster.Client.GetGrain<IImageGrain>(GrainKeys.Image("direct", "secret"));
        var outcome = await image.ProcessAsync(new ImageWork("direct", "secret", f.SecretImage, [work], job, ["cat", "dog", "bird"], null));
        Assert.Contains("outside the folders this cluster allows", outcome.Error);

        var outsideMask = work with { MaskId = "outside-mask", Source = MaskSource.Png(f.SecretMask).ToData() };
        var masks = f.Cluster.Client.GetGrain<IImageGrain>(GrainKeys.Image("direct", good.ImageId));
        var result = await masks.ProcessAsync(new ImageWork("direct", good.ImageId, good.ImagePath, [work, outsideMask], job, ["cat", "dog", "bird"], null));
        Assert.Null(result.Error);
        Assert.Null(result.Masks[0].Error);
        Assert.Contains("outside the folders this cluster allows", result.Masks[1].Error);

        var overlayOutside = job with { OutputFolder = Path.Combine(f.Outside, "overlays-job") };
        var refused = f.Cluster.Client.GetGrain<IImageGrain>(GrainKeys.Image("direct-out", good.ImageId));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => refused.ProcessAsync(new ImageWork("direct-out", good.ImageId, good.ImagePath, [work with { Overlay = true }], overlayOutside, ["cat", "dog", "bird"], null)));
        Assert.False(Directory.Exists(overlayOutside.OutputFolder));
    }
}
