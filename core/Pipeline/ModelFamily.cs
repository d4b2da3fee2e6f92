using MaskInversion.Core.Imaging;
using MaskInversion.Core.Inversion;
using MaskInversion.Core.Text;
using static TorchSharp.torch;

namespace MaskInversion.Core.Pipeline;

/// <summary>
/// A family of vision-language models the engine can run: how to recognise and load one. OpenCLIP (OpenAI and
/// LAION ViTs, <see cref="OpenClipFamily"/>) is the only family today. SigLIP would be a second: its own
/// checkpoint layout and text tower, its own normalisation constants (Preprocessor mean/std), and — because it
/// pools with an attention head instead of a class token — its own inverter for the decomposition.
/// </summary>
public interface IModelFamily
{
    /// <summary>The name <see cref="EngineSettings.ModelFamily"/> selects it by.</summary>
    string Name { get; }

    /// <summary>Whether the settings name a model of this family (used when no family is named).</summary>
    bool CanLoad(EngineSettings settings);

    /// <summary>Loads the frozen model, its tokenizer and class prompts onto <see cref="EngineSettings.Device"/>.</summary>
    IRegionModel Load(EngineSettings settings);
}

/// <summary>A loaded, frozen vision-language model: the parts the engine and its region methods use.</summary>
public interface IRegionModel : IDisposable
{
    Device Device { get; }

    /// <summary>Turns images into the model's input pixels (the engine's size, the family's mean and std).</summary>
    Preprocessor Preprocessor { get; }

    /// <summary>The forward-once cache of an image and the K-step token optimisation against it.</summary>
    MaskInverter Inverter { get; }

    /// <summary>Class text embeddings and top-k; null when the engine has no classes.</summary>
    ZeroShotClassifier? Classifier { get; }

    /// <summary>Global embeddings (B, d) of a pixel batch: what the visual-prompt baselines read.</summary>
    Tensor EncodeImages(Tensor pixels);

    /// <summary>L2-normalised text embeddings (T, d), one per text, each averaged over the templates (referring
    /// expressions use the single "{}" template). Throws when the model was loaded without a tokenizer.</summary>
    Tensor EncodeTexts(IReadOnlyList<string> texts, IReadOnlyList<string> templates);
}

/// <summary>The model families an engine may load, tried in order; register another before loading engines.</summary>
public static class ModelFamilies
{
    static readonly object Gate = new();
    static readonly List<IModelFamily> Registered = [new OpenClipFamily()];

    /// <summary>Adds a family ahead of the built-in ones, so it is asked first.</summary>
    public static void Register(IModelFamily family)
    {
        lock (Gate) Registered.Insert(0, family);
    }

    public static IReadOnlyList<IModelFamily> All { get { lock (Gate) return Registered.ToArray(); } }

    /// <summary>The family the settings name, else the first that recognises the model.</summary>
    public static IModelFamily Resolve(EngineSettings settings)
    {
        var all = All;
        if (settings.ModelFamily is { } name)
            return all.FirstOrDefault(f => f.Name.Equals(name, StringComparison.OrdinalIgnoreCase))
                ?? throw new ArgumentException($"Unknown model family '{name}'. Known: {string.Join(", ", all.Select(f => f.Name))}.");
        return all.FirstOrDefault(f => f.CanLoad(settings))
            ?? throw new ArgumentException($"No model family recognises model '{settings.Model ?? settings.Weights}'.");
    }
}
