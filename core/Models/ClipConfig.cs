using System.Text.Json;
using System.Text.Json.Nodes;

namespace MaskInversion.Core.Models;

/// <summary>Image tower hyper-parameters, named as in OpenCLIP's <c>vision_cfg</c>.</summary>
public sealed record VisionConfig(int ImageSize, int PatchSize, int Width, int Layers, int HeadWidth = 64, double MlpRatio = 4.0)
{
    public int Heads => Width / HeadWidth;
    public int GridSize => ImageSize / PatchSize;
    public int MlpWidth => (int)(Width * MlpRatio);
}

/// <summary>Text tower hyper-parameters, named as in OpenCLIP's <c>text_cfg</c>.</summary>
public sealed record TextConfig(int ContextLength, int VocabSize, int Width, int Heads, int Layers, double MlpRatio = 4.0)
{
    public int MlpWidth => (int)(Width * MlpRatio);
}

/// <summary>A CLIP model's architecture: OpenCLIP's model config plus the activation choice.</summary>
/// <param name="QuickGelu">OpenAI weights were trained with QuickGELU; LAION/OpenCLIP ones with exact GELU.</param>
public sealed record ClipConfig(string Name, int EmbedDim, VisionConfig Vision, TextConfig Text, bool QuickGelu = false)
{
    static readonly string[] BuiltIn = ["ViT-B-32", "ViT-B-16", "ViT-L-14", "ViT-H-14"];

    /// <summary>Parses an OpenCLIP model config JSON (the files under open_clip/model_configs).</summary>
    public static ClipConfig FromOpenClipJson(string name, string json)
    {
        var root = JsonNode.Parse(json)?.AsObject() ?? throw new InvalidDataException($"Model config '{name}' is not a JSON object.");
        var v = root["vision_cfg"]?.AsObject() ?? throw new InvalidDataException($"Model config '{name}' has no vision_cfg.");
        var t = root["text_cfg"]?.AsObject() ?? throw new InvalidDataException($"Model config '{name}' has no text_cfg.");
        int Req(JsonObject o, string key, string section) =>
            o[key]?.GetValue<int>() ?? throw new InvalidDataException($"Model config '{name}': {section}.{key} is missing.");
        var vision = new VisionConfig(
            ImageSize: Req(v, "image_size", "vision_cfg"),
            PatchSize: Req(v, "patch_size", "vision_cfg"),
            Width: Req(v, "width", "vision_cfg"),
            Layers: Req(v, "layers", "vision_cfg"),
            HeadWidth: v["head_width"]?.GetValue<int>() ?? 64,
            MlpRatio: v["mlp_ratio"]?.GetValue<double>() ?? 4.0);
        var text = new TextConfig(
            ContextLength: t["context_length"]?.GetValue<int>() ?? 77,
            VocabSize: t["vocab_size"]?.GetValue<int>() ?? 49408,
            Width: Req(t, "width", "text_cfg"),
            Heads: t["heads"]?.GetValue<int>() ?? 8,
            Layers: Req(t, "layers", "text_cfg"),
            MlpRatio: t["mlp_ratio"]?.GetValue<double>() ?? 4.0);
        var cfg = new ClipConfig(name, Req(root, "embed_dim", "root"), vision, text, root["quick_gelu"]?.GetValue<bool>() ?? false);
        cfg.Validate();
        return cfg;
    }

    public static ClipConfig FromFile(string path) =>
        FromOpenClipJson(Path.GetFileNameWithoutExtension(path), File.ReadAllText(path));

    /// <summary>The OpenCLIP configs we know by name; values identical to open_clip's model_configs JSON.</summary>
    public static ClipConfig Named(string name) => name switch
    {
        "ViT-B-32" => new(name, 512, new VisionConfig(224, 32, 768, 12), new TextConfig(77, 49408, 512, 8, 12)),
        "ViT-B-16" => new(name, 512, new VisionConfig(224, 16, 768, 12), new TextConfig(77, 49408, 512, 8, 12)),
        "ViT-L-14" => new(name, 768, new VisionConfig(224, 14, 1024, 24), new TextConfig(77, 49408, 768, 12, 12)),
        "ViT-H-14" => new(name, 1024, new VisionConfig(224, 14, 1280, 32, HeadWidth: 80), new TextConfig(77, 49408, 1024, 16, 24)),
        "Tiny-Test" => Tiny(),
        _ => throw new ArgumentException($"Unknown model '{name}'. Known: {string.Join(", ", BuiltIn)}, Tiny-Test, or pass an OpenCLIP config JSON file."),
    };

    public static IReadOnlyList<string> KnownNames => BuiltIn;

    /// <summary>A very small CLIP for unit tests: 4×4 patch grid at 32 px, two blocks.</summary>
    public static ClipConfig Tiny(int imageSize = 32, int patch = 8, int width = 32, int layers = 2, int headWidth = 8, int embed = 16, int vocab = 64, int ctx = 16) =>
        new("Tiny-Test", embed, new VisionConfig(imageSize, patch, width, layers, headWidth), new TextConfig(ctx, vocab, width, Math.Max(1, width / headWidth), layers));

    /// <summary>Selects the activation from the pretrained tag as OpenCLIP does ("openai" means QuickGELU).</summary>
    public ClipConfig WithPretrainedTag(string? tag) =>
        tag is null ? this : this with { QuickGelu = QuickGelu || tag.Equals("openai", StringComparison.OrdinalIgnoreCase) };

    public void Validate()
    {
        if (Vision.Width % Vision.HeadWidth != 0)
            throw new InvalidDataException($"Model config '{Name}': vision width {Vision.Width} is not a multiple of head width {Vision.HeadWidth}.");
        if (Vision.ImageSize % Vision.PatchSize != 0)
            throw new InvalidDataException($"Model config '{Name}': image size {Vision.ImageSize} is not a multiple of patch size {Vision.PatchSize}.");
        if (Text.Width % Text.Heads != 0)
            throw new InvalidDataException($"Model config '{Name}': text width {Text.Width} is not a multiple of {Text.Heads} heads.");
    }

    public string ToOpenClipJson() => new JsonObject
    {
        ["embed_dim"] = EmbedDim,
        ["quick_gelu"] = QuickGelu,
        ["vision_cfg"] = new JsonObject
        {
            ["image_size"] = Vision.ImageSize, ["layers"] = Vision.Layers, ["width"] = Vision.Width,
            ["head_width"] = Vision.HeadWidth, ["patch_size"] = Vision.PatchSize, ["mlp_ratio"] = Vision.MlpRatio,
        },
        ["text_cfg"] = new JsonObject
        {
            ["context_length"] = Text.ContextLength, ["vocab_size"] = Text.VocabSize, ["width"] = Text.Width,
            ["heads"] = Text.Heads, ["layers"] = Text.Layers, ["mlp_ratio"] = Text.MlpRatio,
        },
    }.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
}
