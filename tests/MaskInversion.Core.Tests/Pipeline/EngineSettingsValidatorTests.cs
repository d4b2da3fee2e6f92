using System.Text.Json;
using MaskInversion.Core.Datasets;
using MaskInversion.Core.Imaging;
using MaskInversion.Core.Models;
using MaskInversion.Core.Pipeline;
using MaskInversion.Core.Synthetic;
using MaskInversion.Core.Tests.Datasets;
using MaskInversion.Core.Tests.Text;
using MaskInversion.Core.Tests.Weights;
using MaskInversion.Core.Weights;

namespace MaskInversion.Core.Tests.Pipeline;

/// <summary>#13: a job whose engine cannot work is refused at submit with every reason, before any image is dispatched.</summary>
public sealed class EngineSettingsValidatorTests : IDisposable
{
    readonly TempDirectory dir = new();
    readonly TinyClipVocabulary vocabulary = new();
    readonly EngineSettings good;

    public EngineSettingsValidatorTests()
    {
        // A tiny model whose vocabulary holds the tiny tokenizer's, given as an OpenCLIP config file.
        var config = ClipConfig.Tiny(vocab: 128) with { Name = "tiny" };
        File.WriteAllText(dir.File("tiny.json"), config.ToOpenClipJson());
        using var model = ClipModel.CreateRandom(config, seed: 1);
        CheckpointExporter.SaveOpenClip(model, dir.File("tiny.safetensors"));
        good = new EngineSettings
        {
            Model = dir.File("tiny.json"), Weights = dir.File("tiny.safetensors"), Tokenizer = vocabulary.Directory,
            ImageSize = 32, Device = "cpu", ClassNames = ["cat", "dog"], Templates = "single",
        };
    }

    public void Dispose()
    {
        dir.Dispose();
        vocabulary.Dispose();
    }

    static string Only(IReadOnlyList<string> problems) => Assert.Single(problems);

    [Fact]
    public void WorkingSettingsHaveNoProblemsAndTheEngineLoadsFromThem()
    {
        Assert.Empty(EngineSettingsValidator.Validate(good));
        Assert.Empty(EngineSettingsValidator.Validate(good with { Model = null }));   // the architecture inferred from the weights
        using var engine = RegionEngine.Load(good);
        Assert.Equal(2, engine.ClassCount);
    }

    [Fact]
    public void EachBrokenSettingIsNamed()
    {
        Assert.StartsWith("Model: Unknown model 'ViT-Q-99'", Only(EngineSettingsValidator.Validate(good with { Model = "ViT-Q-99" })));
        Assert.StartsWith("Model: ", Only(EngineSettingsValidator.Validate(good with { Model = dir.File("none.json") })));
        Assert.Contains("does not exist", Only(EngineSettingsValidator.Validate(good with { Weights = dir.File("missing.safetensors") })));

        File.Copy(good.Weights!, dir.File("model.bin"));
        Assert.Contains("never unpickles", Only(EngineSettingsValidator.Validate(good with { Weights = dir.File("model.bin") })));
        File.WriteAllText(dir.File("junk.safetensors"), "definitely not a checkpoint, only text");
        Assert.Contains("not a valid safetensors file", Only(EngineSettingsValidator.Validate(good with { Weights = dir.File("junk.safetensors") })));

        var architecture = Only(EngineSettingsValidator.Validate(good with { Model = "ViT-B-16", ImageSize = 224 }));
        Assert.StartsWith("Weights: ", architecture);
        Assert.Contains("checkpoint has 2 vision layers, config has 12", architecture);

        Assert.StartsWith("Classes: ", Only(EngineSettingsValidator.Validate(good with { ClassNames = [] })));
        Assert.StartsWith("Tokenizer: ", Only(EngineSettingsValidator.Validate(good with { Tokenizer = null })));
        File.WriteAllText(dir.File("vocab.txt"), "\u0001\u0002");
        Assert.StartsWith("Tokenizer: ", Only(EngineSettingsValidator.Validate(good with { Tokenizer = dir.File("vocab.txt") })));
        Assert.Contains(EngineSettingsValidator.Validate(good with { Model = "Tiny-Test" }), p => p.Contains("larger than the model's (64)"));
        Assert.StartsWith("Templates: ", Only(EngineSettingsValidator.Validate(good with { Templates = "no-such-set" })));
        Assert.StartsWith("ImageSize: ", Only(EngineSettingsValidator.Validate(good with { ImageSize = 30 })));
        Assert.StartsWith("Device: ", Only(EngineSettingsValidator.Validate(good with { Device = "tpu" })));
    }

    [Fact]
    public void EveryProblemIsReportedAtOnce()
    {
        var problems = EngineSettingsValidator.Validate(good with { Model = "ViT-Q-99", ClassNames = [], Templates = "x" });
        Assert.Equal(3, problems.Count);
        var e = Assert.Throws<InvalidJobSettingsException>(() => EngineSettingsValidator.ThrowIfInvalid(problems));
        Assert.All(problems, p => Assert.Contains(p, e.Message));
    }

    [Fact]
    public void FilesOutsideTheAllowedRootsAreRefusedAlikeWhetherTheyExist()
    {
        var paths = new PathPolicy([dir.Root]);
        Assert.DoesNotContain(EngineSettingsValidator.Validate(good with { Tokenizer = null, ClassNames = [] }, paths), p => p.StartsWith("Weights"));
        string Refusal(string weights) => Only(EngineSettingsValidator.Validate(good with { Weights = weights }, new PathPolicy([dir.Root, vocabulary.Directory]))).Replace(weights, "<w>");
        Assert.Equal(Refusal("/etc/hostname"), Refusal("/etc/no-such-file"));
        Assert.Contains("outside the folders", Refusal("/etc/hostname"));
    }

    [Fact]
    public void DatasetsAreCheckedForFormatFilesAndClasses()
    {
        using var data = new TempDir();
        Assert.Contains("unknown format", Only(EngineSettingsValidator.ValidateDataset("pascal-voc-2099", data.Path)));
        Assert.StartsWith("Dataset: ", Only(EngineSettingsValidator.ValidateDataset("openimages", data.File("nowhere"))));

        using (var w = new OpenImagesWriter(data.File("oi"), "validation", [new("/m/cat", "Cat")])) w.AddMask("i1", "/m/cat", TestMasks.Rect(8, 8, 0, 0, 4, 4));
        Assert.Empty(EngineSettingsValidator.ValidateDataset("openimages", data.File("oi")));

        File.WriteAllText(data.File("empty.jsonl"), "\n");
        Assert.Contains("defines no classes", Only(EngineSettingsValidator.ValidateDataset("jsonl", data.File("empty.jsonl"))));

        File.WriteAllText(data.File("instances.json"), "[1, 2, 3]");
        Assert.Contains("does not start with a JSON object", Only(EngineSettingsValidator.ValidateDataset("coco", data.File("instances.json"))));

        var options = new DatasetReaderOptions { Paths = new PathPolicy([data.File("oi")]) };
        Assert.Contains("outside the folders", Only(EngineSettingsValidator.ValidateDataset("jsonl", "/etc/hostname", readerOptions: options)));
    }

    [Fact]
    public void A_jobs_engine_takes_its_classes_from_the_dataset_or_has_none_and_always_needs_a_tokenizer()
    {
        // A job's class names are the dataset's (or, referring, none): an empty list is not a problem there.
        Assert.Empty(EngineSettingsValidator.Validate(good with { ClassNames = [] }, classesFromDataset: true));
        Assert.StartsWith("Classes: ", Only(EngineSettingsValidator.Validate(good with { ClassNames = [] })));
        // Without class names given, only a job knows it will embed text.
        Assert.DoesNotContain(EngineSettingsValidator.Validate(good with { ClassNames = [], Tokenizer = null }), p => p.StartsWith("Tokenizer"));
        Assert.StartsWith("Tokenizer: the job embeds", Only(EngineSettingsValidator.Validate(good with { ClassNames = [], Tokenizer = null }, classesFromDataset: true)));
    }

    [Fact]
    public void A_referring_dataset_has_no_class_list_and_is_not_refused_for_it()
    {
        using var data = new TempDir();
        ReferringDataset.WriteRefCoco(data.File("refcoco"), 2, seed: 9, ReferringWorld.Options(new SceneOptions { Width = 64, Height = 48 }));
        Assert.Empty(EngineSettingsValidator.ValidateDataset("refcoco", data.File("refcoco"), "val"));
        Assert.StartsWith("Dataset: ", Only(EngineSettingsValidator.ValidateDataset("refcoco", data.File("nowhere"), "val")));
    }
}
