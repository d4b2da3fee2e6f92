using System.Text.RegularExpressions;

namespace MaskInversion.Core.Weights;

/// <summary>How a checkpoint names CLIP's tensors.</summary>
public enum CheckpointLayout
{
    /// <summary>OpenCLIP / OpenAI state dict: <c>visual.transformer.resblocks.N…</c>, the names of <see cref="Models.ClipModel"/>.</summary>
    OpenClip,
    /// <summary>Hugging Face transformers <c>CLIPModel</c>: <c>vision_model.encoder.layers.N…</c>, split q/k/v.</summary>
    HuggingFace,
}

/// <summary>Where an OpenCLIP parameter lives in a checkpoint: one key, or several concatenated along
/// dim 0 (Hugging Face's q, k, v → in_proj), optionally stored transposed (HF's Linear projections).</summary>
internal sealed record TensorSource(IReadOnlyList<string> Keys, bool Transpose = false)
{
    public static TensorSource Single(string key, bool transpose = false) => new([key], transpose);
}

/// <summary>The key-name correspondence between OpenCLIP parameter names and each layout.</summary>
internal static partial class CheckpointKeys
{
    static readonly Dictionary<string, TensorSource> HuggingFaceFixed = new(StringComparer.Ordinal)
    {
        ["visual.class_embedding"] = TensorSource.Single("vision_model.embeddings.class_embedding"),
        ["visual.conv1.weight"] = TensorSource.Single("vision_model.embeddings.patch_embedding.weight"),
        ["visual.positional_embedding"] = TensorSource.Single("vision_model.embeddings.position_embedding.weight"),
        ["visual.ln_pre.weight"] = TensorSource.Single("vision_model.pre_layrnorm.weight"), // sic: HF's spelling
        ["visual.ln_pre.bias"] = TensorSource.Single("vision_model.pre_layrnorm.bias"),
        ["visual.ln_post.weight"] = TensorSource.Single("vision_model.post_layernorm.weight"),
        ["visual.ln_post.bias"] = TensorSource.Single("vision_model.post_layernorm.bias"),
        ["visual.proj"] = TensorSource.Single("visual_projection.weight", transpose: true),
        ["token_embedding.weight"] = TensorSource.Single("text_model.embeddings.token_embedding.weight"),
        ["positional_embedding"] = TensorSource.Single("text_model.embeddings.position_embedding.weight"),
        ["ln_final.weight"] = TensorSource.Single("text_model.final_layer_norm.weight"),
        ["ln_final.bias"] = TensorSource.Single("text_model.final_layer_norm.bias"),
        ["text_projection"] = TensorSource.Single("text_projection.weight", transpose: true),
        ["logit_scale"] = TensorSource.Single("logit_scale"),
    };

    static readonly Dictionary<string, string> HuggingFaceBlockParts = new(StringComparer.Ordinal)
    {
        ["ln_1"] = "layer_norm1", ["ln_2"] = "layer_norm2", ["attn.out_proj"] = "self_attn.out_proj",
        ["mlp.c_fc"] = "mlp.fc1", ["mlp.c_proj"] = "mlp.fc2",
    };

    // Buffers that carry no weights: HF's position_ids, OpenAI's scalar hyper-parameters.
    static readonly HashSet<string> HuggingFaceIgnored = ["vision_model.embeddings.position_ids", "text_model.embeddings.position_ids"];
    static readonly HashSet<string> OpenClipIgnored = ["input_resolution", "context_length", "vocab_size"];

    [GeneratedRegex(@"^(visual\.)?transformer\.resblocks\.(\d+)\.(.+)\.(weight|bias)$")]
    private static partial Regex OpenClipBlockKey();

    [GeneratedRegex(@"^(visual\.)?transformer\.resblocks\.(\d+)\.attn\.in_proj_(weight|bias)$")]
    private static partial Regex OpenClipInProjKey();

    /// <summary>Detects the layout from key names (after prefix stripping), or null when neither fits.</summary>
    public static CheckpointLayout? Detect(IEnumerable<string> keys)
    {
        bool openClip = false, huggingFace = false;
        foreach (var k in keys)
        {
            openClip |= k.StartsWith("visual.", StringComparison.Ordinal);
            huggingFace |= k.StartsWith("vision_model.", StringComparison.Ordinal) || k.StartsWith("text_model.", StringComparison.Ordinal);
        }
        return (openClip, huggingFace) switch
        {
            (true, false) => CheckpointLayout.OpenClip,
            (false, true) => CheckpointLayout.HuggingFace,
            _ => null,
        };
    }

    public static bool IsIgnored(CheckpointLayout layout, string key) =>
        (layout == CheckpointLayout.HuggingFace ? HuggingFaceIgnored : OpenClipIgnored).Contains(key);

    /// <summary>Key prefix of the numbered transformer blocks of one tower.</summary>
    public static string LayerPrefix(CheckpointLayout layout, bool vision) => (layout, vision) switch
    {
        (CheckpointLayout.OpenClip, true) => "visual.transformer.resblocks.",
        (CheckpointLayout.OpenClip, false) => "transformer.resblocks.",
        (CheckpointLayout.HuggingFace, true) => "vision_model.encoder.layers.",
        _ => "text_model.encoder.layers.",
    };

    /// <summary>Where OpenCLIP parameter <paramref name="name"/> is stored in <paramref name="layout"/>; null if nowhere.</summary>
    public static TensorSource? SourceFor(CheckpointLayout layout, string name)
    {
        if (layout == CheckpointLayout.OpenClip) return TensorSource.Single(name);
        if (HuggingFaceFixed.TryGetValue(name, out var fixedSource)) return fixedSource;

        if (OpenClipInProjKey().Match(name) is { Success: true } inProj)
        {
            var prefix = LayerPrefix(CheckpointLayout.HuggingFace, inProj.Groups[1].Success) + inProj.Groups[2].Value + ".self_attn.";
            var kind = inProj.Groups[3].Value;
            return new TensorSource([$"{prefix}q_proj.{kind}", $"{prefix}k_proj.{kind}", $"{prefix}v_proj.{kind}"]);
        }
        if (OpenClipBlockKey().Match(name) is { Success: true } block && HuggingFaceBlockParts.TryGetValue(block.Groups[3].Value, out var part))
        {
            var prefix = LayerPrefix(CheckpointLayout.HuggingFace, block.Groups[1].Success) + block.Groups[2].Value + ".";
            return TensorSource.Single($"{prefix}{part}.{block.Groups[4].Value}");
        }
        return null;
    }

    /// <summary>Number of blocks of one tower: one more than the highest block index among the keys.</summary>
    public static int CountLayers(IEnumerable<string> keys, CheckpointLayout layout, bool vision)
    {
        var prefix = LayerPrefix(layout, vision);
        int count = 0;
        foreach (var k in keys)
        {
            if (!k.StartsWith(prefix, StringComparison.Ordinal)) continue;
            var rest = k.AsSpan(prefix.Length);
            int dot = rest.IndexOf('.');
            if (dot > 0 && int.TryParse(rest[..dot], out var index)) count = Math.Max(count, index + 1);
        }
        return count;
    }
}
