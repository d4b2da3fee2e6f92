using System.Text.Json;
using MaskInversion.Core.Models;
using MaskInversion.Core.Weights;
using MaskInversion.Grains;

namespace MaskInversion.Cluster.Tests;

/// <summary>#13 "Mistakes must not look like success", on the cluster: a job that cannot work is refused at submit
/// with every reason and never created; a job in which every item fails ends Failed and says why.</summary>
public sealed class JobAdmissionTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    IJobCoordinatorGrain Job(string id) => fixture.Cluster.Client.GetGrain<IJobCoordinatorGrain>(id);

    async Task<string> RefusedAsync(string id, JobSettings settings)
    {
        var result = await Job(id).TrySubmitAsync(settings);
        Assert.False(result.Accepted, $"job {id} was accepted");
        Assert.Null(result.Progress);
        // Not created: no state, no list entry, no output folder.
        Assert.Equal(JobState.NotStarted, (await Job(id).GetProgressAsync()).State);
        Assert.Null(await fixture.Cluster.Client.GetGrain<IJobRegistryGrain>(IJobRegistryGrain.Key).GetAsync(id));
        Assert.False(Directory.Exists(settings.OutputFolder), "a refused job wrote outputs");
        return Assert.Single(result.Problems);
    }

    [Fact]
    public async Task A_job_whose_model_weights_tokenizer_or_dataset_cannot_work_is_refused_with_the_reason_and_not_created()
    {
        using var data = new JobFixtureData(images: 2, faults: false);
        var good = data.Settings("refused");
        var files = Path.Combine(data.Folder, "files");
        Directory.CreateDirectory(files);
        File.WriteAllBytes(Path.Combine(files, "model.bin"), [0x80, 0x02, 0x7d, 0x71, 0x00]);
        File.WriteAllText(Path.Combine(files, "junk.safetensors"), "not a checkpoint at all");
        // A checkpoint of another architecture (width 48 instead of the config's 32).
        var other = TinyModelFiles.Write(Path.Combine(files, "wide"), SyntheticDataset.Classes.Select(c => c.Name), width: 48);
        using (var wide = ClipModel.CreateRandom(ClipConfig.FromFile(other.ConfigPath), seed: 1))
            CheckpointExporter.SaveOpenClip(wide, Path.Combine(files, "wide.safetensors"));

        Assert.StartsWith("Model: Unknown model 'ViT-Q-99'", await RefusedAsync("bad-model", good with { Model = "ViT-Q-99" }));
        Assert.Matches("^Weights: '.*missing.safetensors' does not exist", await RefusedAsync("missing-weights", good with { Weights = Path.Combine(files, "missing.safetensors") }));
        Assert.Contains("never unpickles", await RefusedAsync("pickle-weights", good with { Weights = Path.Combine(files, "model.bin") }));
        Assert.Contains("not a valid safetensors file", await RefusedAsync("junk-weights", good with { Weights = Path.Combine(files, "junk.safetensors") }));
        Assert.StartsWith("Weights: ", await RefusedAsync("wrong-architecture", good with { Weights = Path.Combine(files, "wide.safetensors") }));
        Assert.Matches("^Tokenizer: '.*nowhere' does not exist", await RefusedAsync("missing-tokenizer", good with { Tokenizer = Path.Combine(files, "nowhere") }));
        Assert.StartsWith("Tokenizer: ", await RefusedAsync("no-tokenizer", good with { Tokenizer = null }));
        Assert.StartsWith("Dataset: ", await RefusedAsync("missing-dataset", good with { DatasetRoot = Path.Combine(files, "no-dataset") }));
        Assert.StartsWith("Dataset: unknown format 'imagenet'", await RefusedAsync("bad-format", good with { Format = "imagenet" }));
        Assert.StartsWith("Settings: Unknown resize", await RefusedAsync("bad-resize", good with { Resize = "nearest" }));

        // Every problem at once, each naming its setting.
        var all = await Job("everything-wrong").TrySubmitAsync(good with { Model = "ViT-Q-99", Templates = "no-such-set", DatasetRoot = Path.Combine(files, "no-dataset") });
        Assert.Equal(["Dataset", "Model", "Templates"], all.Problems.Select(p => p[..p.IndexOf(':')]).Order());
        Assert.StartsWith("Job 'everything-wrong' refused:\n  ", all.Refusal("everything-wrong"));

        // SubmitAsync throws the same reasons; the good settings are accepted under the same id afterwards.
        var thrown = await Assert.ThrowsAsync<ArgumentException>(() => Job("bad-model").SubmitAsync(good with { Model = "ViT-Q-99" }));
        Assert.Contains("Unknown model 'ViT-Q-99'", thrown.Message);
        var accepted = await Job("bad-model").TrySubmitAsync(good);
        Assert.True(accepted.Accepted, string.Join("; ", accepted.Problems));
        Assert.Equal(JobState.Completed, (await TestCluster.WaitAsync(Job("bad-model"), TimeSpan.FromMinutes(2))).State);
        // A different job under a taken id is refused, not an exception.
        Assert.Contains("already exists with different settings", Assert.Single((await Job("bad-model").TrySubmitAsync(good with { Iterations = 3 })).Problems));
    }

    [Fact]
    public async Task A_completed_job_writes_its_model_name_config_state_and_dice_loss_and_describes_its_embeddings()
    {
        using var data = new JobFixtureData(images: 2, faults: false);
        var job = data.Settings("described") with { SaveEmbeddings = true };
        await Job("described").SubmitAsync(job);
        Assert.Equal(JobState.Completed, (await TestCluster.WaitAsync(Job("described"), TimeSpan.FromMinutes(2))).State);

        using var metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(job.OutputFolder, "metrics.json")));
        var mi = metrics.RootElement.EnumerateArray().Single(e => e.GetProperty("method").GetString() == "maskinversion");
        Assert.Equal("tiny-clip", mi.GetProperty("model").GetString());   // the config file's name, not its path
        var diceLoss = mi.GetProperty("metrics").GetProperty("mean_dice_loss").GetDouble();
        Assert.InRange(diceLoss, 0, 1);
        Assert.Equal(diceLoss, (await Job("described").GetResultsAsync()).Methods.Single(m => m.Method == "maskinversion").MeanDiceLoss!.Value, 6);
        var clip = metrics.RootElement.EnumerateArray().Single(e => e.GetProperty("method").GetString() == "clip");
        Assert.False(clip.GetProperty("metrics").TryGetProperty("mean_dice_loss", out _));   // no inversion, no Dice
        var run = mi.GetProperty("run");
        Assert.Equal("completed", run.GetProperty("state").GetString());
        Assert.False(run.TryGetProperty("error", out _));
        var config = run.GetProperty("config");
        Assert.Equal((2, 0.1, 0.0, 32, "single", "auto", "pil"), (config.GetProperty("iterations").GetInt32(), config.GetProperty("lr").GetDouble(),
            config.GetProperty("alpha").GetDouble(), config.GetProperty("image_size").GetInt32(), config.GetProperty("templates").GetString(),
            config.GetProperty("inversion_path").GetString(), config.GetProperty("resize").GetString()));

        using var embeddings = JsonDocument.Parse(File.ReadAllText(Path.Combine(job.OutputFolder, "embeddings", "embeddings.json")));
        Assert.Equal("tiny-clip", embeddings.RootElement.GetProperty("model").GetString());
        Assert.Equal(16, embeddings.RootElement.GetProperty("dimension").GetInt32());   // the tiny model's embed width
        Assert.False(embeddings.RootElement.GetProperty("l2_normalized").GetBoolean());
    }

    [Fact]
    public async Task A_job_whose_every_item_fails_the_same_way_ends_failed_with_that_error()
    {
        using var data = new JobFixtureData(images: 4, faults: false);
        foreach (var image in Directory.GetFiles(data.Dataset.Root, "*.jpg", SearchOption.AllDirectories))
            File.WriteAllBytes(image, "this is not a JPEG"u8.ToArray());
        var job = data.Settings("all-failed");
        await Job("all-failed").SubmitAsync(job);
        var end = await TestCluster.WaitAsync(Job("all-failed"), TimeSpan.FromMinutes(2));

        Assert.Equal(JobState.Failed, end.State);
        Assert.Equal((0, data.Dataset.Masks), (end.MasksDone, end.MasksFailed));
        Assert.StartsWith($"every item failed the same way ({data.Dataset.Masks} items): ", end.Error);
        Assert.Matches("img000[0-3]", end.Error);   // the first item's error, as it was reported
        using var metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(job.OutputFolder, "metrics.json")));
        var run = metrics.RootElement.EnumerateArray().First().GetProperty("run");
        Assert.Equal(("failed", end.Error), (run.GetProperty("state").GetString(), run.GetProperty("error").GetString()));
        var listed = await fixture.Cluster.Client.GetGrain<IJobRegistryGrain>(IJobRegistryGrain.Key).GetAsync("all-failed");
        Assert.Equal((JobState.Failed, end.Error), (listed!.State, listed.Error));
    }

    [Fact]
    public async Task A_job_in_which_nothing_succeeds_fails_also_when_the_errors_differ_and_one_success_keeps_it_completed()
    {
        using var data = new JobFixtureData(images: 4, faults: false);
        var images = Directory.GetFiles(data.Dataset.Root, "*.jpg", SearchOption.AllDirectories).Order().ToArray();
        File.WriteAllBytes(images[0], "this is not a JPEG"u8.ToArray());
        foreach (var mask in Directory.GetFiles(data.Dataset.Root, "*.png", SearchOption.AllDirectories).Where(m => !m.Contains(Path.GetFileNameWithoutExtension(images[0]))))
            File.Delete(mask);
        await Job("mixed-failures").SubmitAsync(data.Settings("mixed-failures"));
        var end = await TestCluster.WaitAsync(Job("mixed-failures"), TimeSpan.FromMinutes(2));
        Assert.Equal(JobState.Failed, end.State);
        Assert.StartsWith($"no item succeeded: {data.Dataset.Masks} failed with different errors", end.Error);

        using var partly = new JobFixtureData(images: 4, faults: false);
        foreach (var image in Directory.GetFiles(partly.Dataset.Root, "*.jpg", SearchOption.AllDirectories).Order().Skip(1))
            File.WriteAllBytes(image, "this is not a JPEG"u8.ToArray());
        await Job("one-success").SubmitAsync(partly.Settings("one-success"));
        var some = await TestCluster.WaitAsync(Job("one-success"), TimeSpan.FromMinutes(2));
        Assert.Equal((JobState.Completed, 3L, 1L), (some.State, some.ImagesFailed, some.ImagesDone));
    }

    [Fact]
    public void Errors_that_differ_only_in_the_items_names_or_numbers_agree()
    {
        var s = new JobShardState { MasksFailed = 2 };
        JobVerdict.RecordFailure(s, "ImageLoadException: '/data/images/img0001.jpg' is not an image", "img0001", "/data/images/img0001.jpg", "img0001_m1");
        JobVerdict.RecordFailure(s, "ImageLoadException: '/data/images/img0002.jpg' is not an image", "img0002", "/data/images/img0002.jpg", "img0002_m0");
        Assert.False(s.ItemErrorsDiffer);
        Assert.Equal("every item failed the same way (2 items): ImageLoadException: '/data/images/img0001.jpg' is not an image", JobVerdict.FailureReason(s));
        JobVerdict.RecordFailure(s, "MaskLoadException: mask 'm7' is missing", "img0003", "/data/images/img0003.jpg", "m7");
        Assert.True(s.ItemErrorsDiffer);
        Assert.StartsWith("no item succeeded: 2 failed with different errors", JobVerdict.FailureReason(s));
        s.MasksDone = 1;
        Assert.Null(JobVerdict.FailureReason(s));   // one success: the job measured something
        Assert.StartsWith("the dataset yielded no image", JobVerdict.FailureReason(new JobShardState { Settings = new JobSettings() }));
    }
}
