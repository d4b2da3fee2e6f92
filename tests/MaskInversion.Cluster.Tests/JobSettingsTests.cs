using MaskInversion.Core.Datasets;
using MaskInversion.Core.Imaging;
using MaskInversion.Core.Inversion;
using MaskInversion.Core.Pipeline;
using MaskInversion.Grains;

namespace MaskInversion.Cluster.Tests;

/// <summary>The one settings record and its one conversion to the core's settings.</summary>
public sealed class JobSettingsTests
{
    [Fact]
    public void The_records_defaults_are_the_cores()
    {
        var defaults = new JobSettings();
        Assert.Equal(new InversionOptions(), defaults.ToInversionOptions());
        var engine = defaults.ToEngineSettings([]);
        var core = new EngineSettings();
        Assert.Equal((core.ImageSize, core.Templates, core.RandomSeed, core.ModelFamily, core.Resize),
            (engine.ImageSize, engine.Templates, engine.RandomSeed, engine.ModelFamily, engine.Resize));
    }

    [Fact]
    public void Every_setting_reaches_the_part_that_uses_it()
    {
        var job = new JobSettings
        {
            Format = "coco", DatasetRoot = "/d", Split = "val2014", ClassesFile = "/c.txt", IncludeCrowd = true, DatasetName = "n", MaxImages = 7,
            ModelFamily = "openclip", Model = "ViT-B-32", Weights = "/w.safetensors", PretrainedTag = "openai", Tokenizer = "/t", ImageSize = 224, Resize = "Float",
            Templates = "single", Seed = 9, Methods = ["crop"], InversionPath = "Explicit", Iterations = 3, LearningRate = 0.5, Alpha = 5,
            WeightDecay = 0.01, OutputFolder = "/o", SaveEmbeddings = true, OverlaySamples = 1, MaxInFlight = 2, MaxAttempts = 3,
        };
        var e = job.ToEngineSettings(["a", "b"], "cpu");
        Assert.Equal(("openclip", "ViT-B-32", "/w.safetensors", "openai", "/t", 224, ResizeMode.Float, "single", 9L, "cpu"),
            (e.ModelFamily, e.Model, e.Weights, e.PretrainedTag, e.Tokenizer, e.ImageSize, e.Resize, e.Templates, e.RandomSeed, e.Device));
        Assert.Equal(["a", "b"], e.ClassNames);
        Assert.Equal(new InversionOptions { Path = InversionPath.Explicit, Iterations = 3, LearningRate = 0.5, Alpha = 5, WeightDecay = 0.01 }, e.Inversion);
        var r = job.ToReaderOptions();
        Assert.Equal(("coco", "/d", "val2014", "/c.txt", true), (r.Format, r.Root, r.Split, r.ClassesFile, r.IncludeCrowd));
        Assert.Equal(["crop"], job.ToRegionMethods().Select(m => m.Name));

        // A new member must be placed: mapped above, or used by the coordinator / outputs (listed here).
        string[] coordinator = [nameof(JobSettings.DatasetName), nameof(JobSettings.MaxImages), nameof(JobSettings.OutputFolder),
            nameof(JobSettings.SaveEmbeddings), nameof(JobSettings.OverlaySamples), nameof(JobSettings.MaxInFlight), nameof(JobSettings.MaxAttempts), nameof(JobSettings.Shards)];
        string[] converted = [nameof(JobSettings.Format), nameof(JobSettings.DatasetRoot), nameof(JobSettings.Split), nameof(JobSettings.ClassesFile),
            nameof(JobSettings.IncludeCrowd), nameof(JobSettings.ModelFamily), nameof(JobSettings.Model), nameof(JobSettings.Weights),
            nameof(JobSettings.PretrainedTag), nameof(JobSettings.Tokenizer), nameof(JobSettings.ImageSize), nameof(JobSettings.Resize), nameof(JobSettings.Templates),
            nameof(JobSettings.Seed), nameof(JobSettings.Methods), nameof(JobSettings.InversionPath), nameof(JobSettings.Iterations),
            nameof(JobSettings.LearningRate), nameof(JobSettings.Alpha), nameof(JobSettings.WeightDecay)];
        Assert.Equal(typeof(JobSettings).GetProperties().Select(p => p.Name).Where(n => n != "EqualityContract").Order(),
            coordinator.Concat(converted).Order());
    }

    [Fact]
    public void Normalise_expands_method_groups_and_refuses_bad_settings_by_name()
    {
        var job = new JobSettings { OutputFolder = "/out/job", InversionPath = "Implicit" };
        var normal = job.Normalise();
        Assert.Equal(["maskinversion", "clip", "crop", "masked_crop", "red_circle", "blur"], normal.Methods);
        Assert.Equal("implicit", normal.InversionPath);
        Assert.True(normal.SameAs(normal.Normalise()));
        Assert.False(normal.SameAs(normal with { Methods = ["maskinversion"] }));

        Assert.Contains("'sharpen'", Assert.Throws<ArgumentException>(() => (job with { Methods = ["sharpen"] }).Normalise()).Message);
        Assert.Contains("'sideways'", Assert.Throws<ArgumentException>(() => (job with { InversionPath = "sideways" }).Normalise()).Message);
        Assert.Throws<ArgumentException>(() => (job with { InversionPath = "1" }).Normalise());
        Assert.Contains("absolute", Assert.Throws<ArgumentException>(() => (job with { OutputFolder = "out" }).Normalise()).Message);
        Assert.Contains("MaxInFlight", Assert.Throws<ArgumentException>(() => (job with { MaxInFlight = 0 }).Normalise()).Message);
        Assert.Equal("LearningRate", Assert.Throws<ArgumentOutOfRangeException>(() => (job with { LearningRate = 0 }).Normalise()).ParamName);
        Assert.Equal("WeightDecay", Assert.Throws<ArgumentOutOfRangeException>(() => (job with { WeightDecay = -1 }).Normalise()).ParamName);
        Assert.Equal("float", (job with { Resize = "FLOAT" }).Normalise().Resize);
        Assert.Contains("'bilinear'", Assert.Throws<ArgumentException>(() => (job with { Resize = "bilinear" }).Normalise()).Message);
        // A referring job embeds its expressions as text: without a tokenizer it is refused at submit, not per image.
        Assert.Contains("tokenizer", Assert.Throws<ArgumentException>(() => (job with { Format = "refcoco" }).Normalise()).Message);
        Assert.Equal("refcoco", (job with { Format = "refcoco", Tokenizer = "/t" }).Normalise().Format);
    }

    /// <summary>The thin client decides referring defaults (α) without the core: its list must be the core's.</summary>
    [Fact]
    public void Referring_formats_are_the_cores()
    {
        Assert.Equal(DatasetReaders.Formats.Where(DatasetReaders.IsReferring), DatasetFormats.Referring);
        Assert.All(DatasetReaders.Formats, f => Assert.Equal(DatasetReaders.IsReferring(f), DatasetFormats.IsReferring(f.ToUpperInvariant())));
    }

    /// <summary>client submit: α defaults to the paper's 5 for referring formats and to 0 otherwise; an explicit --alpha
    /// wins either way; --resize reaches the record.</summary>
    [Fact]
    public void Submit_options_default_alpha_by_format()
    {
        JobSettings Bind(params string[] args)
        {
            var options = new MaskInversion.Client.Jobs.JobSettingsOptions();
            var command = new System.CommandLine.Command("submit");
            options.AddTo(command);
            var parsed = command.Parse(["--dataset", "/data/x", .. args]);
            Assert.Empty(parsed.Errors);
            return options.Bind(parsed, "job");
        }
        Assert.Equal(0, Bind("--format", "coco").Alpha);
        Assert.Equal(DatasetFormats.ReferringAlpha, Bind("--format", "refcoco").Alpha);
        Assert.Equal(DatasetFormats.ReferringAlpha, Bind("--format", "PhraseCut").Alpha);
        Assert.Equal(0, Bind("--format", "refcocog", "--alpha", "0").Alpha);
        Assert.Equal(2.5, Bind("--format", "voc", "--alpha", "2.5").Alpha);
        Assert.Equal(("pil", "float"), (Bind().Resize, Bind("--resize", "float").Resize));
    }
}
