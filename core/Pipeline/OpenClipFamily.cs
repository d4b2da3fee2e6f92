using MaskInversion.Core.Imaging;
using MaskInversion.Core.Inversion;
using MaskInversion.Core.Models;
using MaskInversion.Core.Text;
using MaskInversion.Core.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace MaskInversion.Core.Pipeline;

/// <summary>OpenCLIP ViTs (OpenAI and LAION weights, Hugging Face layout too): a named architecture, an OpenCLIP
/// config JSON, or the architecture inferred from a safetensors checkpoint; none = seeded random weights.</summary>
public sealed class OpenClipFamily : IModelFamily
{
    public const string FamilyName = "openclip";
    public string Name => FamilyName;

    /// <summary>The default family: any model name, config or checkpoint is tried as OpenCLIP.</summary>
    public bool CanLoad(EngineSettings settings) => settings.Model is not null || settings.Weights is not null;

    public IRegionModel Load(EngineSettings settings)
    {
        var model = LoadModel(settings);
        try
        {
            var tokenizer = settings.Tokenizer is null ? null : ClipTokenizer.Load(settings.Tokenizer);
            return new OpenClipRegionModel(model, tokenizer, settings);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    public static ClipModel LoadModel(EngineSettings s)
    {
        ClipConfig config;
        if (s.Model is null)
            config = s.Weights is null
                ? throw new ArgumentException("Give a model name or config (--model), weights (--weights), or both.")
                : CheckpointLoader.InferConfig(s.Weights);
        else
            config = File.Exists(s.Model) ? ClipConfig.FromFile(s.Model) : ClipConfig.Named(s.Model);
        config = config.WithPretrainedTag(s.PretrainedTag);
        return s.Weights is null ? ClipModel.CreateRandom(config, s.RandomSeed) : CheckpointLoader.LoadModel(config, s.Weights);
    }
}

/// <summary>A loaded OpenCLIP model as the engine uses it; owns the model.</summary>
public sealed class OpenClipRegionModel : IRegionModel
{
    public ClipModel Clip { get; }
    public Device Device { get; }
    public Preprocessor Preprocessor { get; }
    public MaskInverter Inverter { get; }
    public ZeroShotClassifier? Classifier { get; }
    readonly ClipTokenizer? tokenizer;

    /// <summary>Takes ownership of <paramref name="model"/>, moves it to the settings' device and builds the class prompts.</summary>
    public OpenClipRegionModel(ClipModel model, ClipTokenizer? tokenizer, EngineSettings settings)
    {
        Device = RegionEngine.ResolveDevice(settings.Device);
        Clip = model;
        this.tokenizer = tokenizer;
        model.to(Device);
        model.eval();
        Preprocessor = new Preprocessor(settings.ImageSize, resize: settings.Resize);
        Inverter = new MaskInverter(model.visual);
        if (settings.ClassNames.Count > 0)
        {
            if (tokenizer is null) throw new ArgumentException("Class names were given but no tokenizer: set EngineSettings.Tokenizer.");
            Classifier = new ZeroShotClassifier(model, tokenizer, settings.ClassNames, PromptTemplates.Get(settings.Templates));
        }
    }

    public Tensor EncodeImages(Tensor pixels) => Clip.EncodeImage(pixels);

    public Tensor EncodeTexts(IReadOnlyList<string> texts, IReadOnlyList<string> templates) =>
        ZeroShotClassifier.BuildClassEmbeddings(Clip,
            tokenizer ?? throw new InvalidOperationException("This engine was loaded without a tokenizer: set EngineSettings.Tokenizer to encode text."),
            texts, templates);

    public void Dispose()
    {
        Classifier?.Dispose();
        Inverter.Dispose();
        Clip.Dispose();
    }
}
