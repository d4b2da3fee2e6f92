using MaskInversion.Core.Imaging;
using MaskInversion.Core.Inversion;

namespace MaskInversion.Core.Pipeline;

/// <summary>What a <see cref="RegionEngine"/> loads: model, weights, tokenizer, classes, and the inversion
/// hyper-parameters. Plain data; a cluster job's come from its settings record by one conversion
/// (grains: JobSettingsConversion.ToEngineSettings).</summary>
public sealed record EngineSettings
{
    /// <summary>The <see cref="IModelFamily"/> to load with ("openclip"); null = the first family that recognises the model.</summary>
    public string? ModelFamily { get; init; }
    /// <summary>OpenCLIP model name (ViT-B-16, …) or a path to an OpenCLIP config JSON; null infers it from the weights.</summary>
    public string? Model { get; init; }
    /// <summary>Safetensors checkpoint (OpenCLIP or Hugging Face layout); null = seeded random weights.</summary>
    public string? Weights { get; init; }
    /// <summary>Pretrained tag; "openai" selects QuickGELU as OpenCLIP does.</summary>
    public string? PretrainedTag { get; init; }
    /// <summary>bpe_simple_vocab_16e6.txt.gz, a vocab.json, or a folder with vocab.json + merges.txt.</summary>
    public string? Tokenizer { get; init; }
    public int ImageSize { get; init; } = 448;
    /// <summary>How images are resized to <see cref="ImageSize"/>: the reference's 8-bit PIL bicubic (default) or libtorch's on floats.</summary>
    public ResizeMode Resize { get; init; } = ResizeMode.Pil;
    /// <summary>"auto" (CUDA when libtorch has it, else CPU), "cpu", "cuda" or "cuda:N".</summary>
    public string Device { get; init; } = "auto";
    /// <summary>Class display names; the index is the class id used in metrics.</summary>
    public IReadOnlyList<string> ClassNames { get; init; } = [];
    /// <summary>"imagenet80" or "single".</summary>
    public string Templates { get; init; } = "imagenet80";
    public int TopK { get; init; } = 10;
    public long RandomSeed { get; init; } = 0;
    public InversionOptions Inversion { get; init; } = new();
    /// <summary>Side of the explainability maps returned for overlays (downsampled), 0 = none.</summary>
    public int ReturnedMapSize { get; init; } = 0;
}
