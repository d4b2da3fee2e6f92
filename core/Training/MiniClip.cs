using MaskInversion.Core.Models;
using MaskInversion.Core.Synthetic;
using MaskInversion.Core.Text;
using MaskInversion.Core.Weights;

namespace MaskInversion.Core.Training;

/// <summary>MiniCLIP's architecture knobs. The defaults are the bundled model's: a 12×12 patch grid at
/// 96 px (fine enough for LeGrad maps of objects 2–5 patches wide) that trains in under 45 CPU minutes.</summary>
public sealed record MiniClipShape
{
    public int ImageSize { get; init; } = 96;
    public int PatchSize { get; init; } = 8;
    public int VisionWidth { get; init; } = 64;
    public int VisionLayers { get; init; } = 4;
    public int VisionHeadWidth { get; init; } = 32;
    public int ContextLength { get; init; } = 24;
    public int TextWidth { get; init; } = 64;
    public int TextHeads { get; init; } = 2;
    public int TextLayers { get; init; } = 2;
    public int EmbedDim { get; init; } = 64;
}

/// <summary>The project's own small CLIP, trained on generated scenes (no pretrained weights can be
/// downloaded here): its config, its scene distribution, and the bundled checkpoint.</summary>
public static class MiniClip
{
    public const string ModelName = "MiniCLIP";
    /// <summary>Folder of the bundled files, under the source tree (core/Models/MiniClip) and the build output.</summary>
    public const string FolderName = "MiniClip";
    public const string WeightsFile = "miniclip.safetensors";
    public const string ConfigFile = "miniclip.json";
    /// <summary>Scene generator seed of held-out evaluation: training streams use small seeds (0, 1, …).</summary>
    public const int HeldOutSceneSeed = 1_000_003;

    public static ClipConfig Config(int vocabSize, MiniClipShape? shape = null)
    {
        var s = shape ?? new MiniClipShape();
        var config = new ClipConfig(ModelName, s.EmbedDim,
            new VisionConfig(s.ImageSize, s.PatchSize, s.VisionWidth, s.VisionLayers, s.VisionHeadWidth),
            new TextConfig(s.ContextLength, vocabSize, s.TextWidth, s.TextHeads, s.TextLayers));
        config.Validate();
        return config;
    }

    /// <summary>Scenes rendered at the model's input size (so no resize blurs the shapes), 1–4 solid objects
    /// of at least 0.28 of the side (≈ 27 px at 96 px, over three patches). A 36-minute CPU budget did not suffice
    /// to learn shapes under the stripe/dot/checker textures (a textured run stalled at colour-only accuracy), so
    /// MiniCLIP's world is solid shapes on the cluttered backgrounds.</summary>
    public static SceneOptions Scenes(int imageSize, int minObjects = 1, int maxObjects = 4) => new()
    {
        Width = imageSize,
        Height = imageSize,
        MinObjects = minObjects,
        MaxObjects = maxObjects,
        MinSizeFraction = 0.28,
        MaxSizeFraction = 0.45,
        Textures = [ObjectTexture.Solid],
    };

    /// <summary>The bundled folder: <c>Models/MiniClip/</c> beside the running assembly (copied there by the build),
    /// else <c>core/Models/MiniClip</c> found by walking up from it. Null when neither holds the weights.</summary>
    public static string? Locate()
    {
        var output = Path.Combine(AppContext.BaseDirectory, "Models", FolderName);
        if (File.Exists(Path.Combine(output, WeightsFile))) return output;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var source = Path.Combine(dir.FullName, "core", "Models", FolderName);
            if (File.Exists(Path.Combine(source, WeightsFile))) return source;
        }
        return null;
    }

    /// <summary>Loads the bundled (or the given folder's) weights, config and vocabulary.</summary>
    public static MiniClipBundle LoadBundled(string? directory = null)
    {
        directory ??= Locate() ?? throw new FileNotFoundException(
            $"The bundled MiniCLIP was not found: expected Models/{FolderName}/{WeightsFile} beside {AppContext.BaseDirectory} or core/Models/{FolderName} above it.");
        var config = ClipConfig.FromFile(Path.Combine(directory, ConfigFile)) with { Name = ModelName };
        var tokenizer = ClipTokenizer.Load(directory);
        if (tokenizer.VocabSize != config.Text.VocabSize)
            throw new InvalidDataException($"{directory}: the vocabulary has {tokenizer.VocabSize} tokens but the model expects {config.Text.VocabSize}.");
        var model = CheckpointLoader.LoadModel(config, Path.Combine(directory, WeightsFile));
        model.eval();
        return new MiniClipBundle(model, tokenizer, SceneVocabulary.Default.ClassNames.ToArray(), directory);
    }

    /// <summary>Writes a trained model's files (weights, config, vocabulary) into <paramref name="directory"/>.</summary>
    public static void Save(ClipModel model, string vocabularyDirectory, string directory)
    {
        Directory.CreateDirectory(directory);
        CheckpointExporter.SaveOpenClip(model, Path.Combine(directory, WeightsFile), TorchSharp.torch.ScalarType.Float32);
        File.WriteAllText(Path.Combine(directory, ConfigFile), model.Config.ToOpenClipJson());
        if (Path.GetFullPath(vocabularyDirectory) != Path.GetFullPath(directory))
            foreach (var file in new[] { "vocab.json", "merges.txt" })
                File.Copy(Path.Combine(vocabularyDirectory, file), Path.Combine(directory, file), overwrite: true);
    }
}

/// <summary>A loaded MiniCLIP: model (eval mode), tokenizer and the class names it was trained on.</summary>
public sealed class MiniClipBundle(ClipModel model, ClipTokenizer tokenizer, IReadOnlyList<string> classNames, string directory) : IDisposable
{
    public ClipModel Model { get; } = model;
    public ClipTokenizer Tokenizer { get; } = tokenizer;
    public IReadOnlyList<string> ClassNames { get; } = classNames;
    public string Directory { get; } = directory;
    public int ImageSize => Model.Config.Vision.ImageSize;

    public void Dispose() => Model.Dispose();
}
