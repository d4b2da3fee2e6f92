using MaskInversion.Core.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MaskInversion.Core.Weights;

/// <summary>Loads CLIP weights from safetensors checkpoints in OpenCLIP or Hugging Face layout into a
/// <see cref="ClipModel"/>. Pickle checkpoints are refused outright.</summary>
public static class CheckpointLoader
{
    /// <summary>Metadata keys written by <see cref="CheckpointExporter"/> so heads and activation survive a round trip.</summary>
    public const string ConfigMetadataKey = "maskinversion.clip_config";
    public const string NameMetadataKey = "maskinversion.model_name";

    /// <summary>Copies the checkpoint's tensors into <paramref name="model"/>'s parameters. With
    /// <paramref name="strict"/> any missing, unexpected or mis-shaped tensor throws one
    /// <see cref="CheckpointException"/> listing them all, before the model is touched; otherwise
    /// whatever fits is loaded and the rest is reported.</summary>
    public static LoadReport Load(ClipModel model, string path, bool strict = true)
    {
        PickleGuard.ThrowIfPickle(path);
        using var view = CheckpointView.Open(path);

        var missing = new List<string>();
        var mismatches = new List<ShapeMismatch>();
        var consumed = new HashSet<string>(StringComparer.Ordinal);
        var plan = new List<(Parameter parameter, TensorSource source)>();
        foreach (var (name, parameter) in model.named_parameters())
        {
            if (view.SourceFor(name) is not { } source)
            {
                missing.Add($"{name} (no {view.Layout} equivalent)");
                continue;
            }
            var absent = source.Keys.Where(k => view.Info(k) is null).ToList();
            consumed.UnionWith(source.Keys.Except(absent));
            if (absent.Count > 0)
            {
                missing.AddRange(absent);
                continue;
            }
            var expected = CheckpointView.ExpectedShape(source, parameter.shape);
            var bad = source.Keys.Select(k => view.Info(k)!).Where(info => !info.Shape.SequenceEqual(expected)).ToList();
            mismatches.AddRange(bad.Select(info => new ShapeMismatch(info.Name[view.Prefix.Length..], expected, info.Shape)));
            if (bad.Count == 0) plan.Add((parameter, source));
        }
        var ignored = view.Keys.Where(k => CheckpointKeys.IsIgnored(view.Layout, k)).Order(StringComparer.Ordinal).ToList();
        var unexpected = view.Keys.Where(k => !consumed.Contains(k) && !CheckpointKeys.IsIgnored(view.Layout, k)).Order(StringComparer.Ordinal).ToList();
        var architecture = CheckpointArchitecture.From(view).Differences(model.Config).ToList();

        var report = new LoadReport(path, view.Layout, view.Prefix, plan.Count, missing, unexpected, mismatches, architecture, ignored);
        if (strict && !report.IsComplete) throw new CheckpointException(report);

        using (torch.no_grad())
        {
            foreach (var (parameter, source) in plan)
            {
                using var scope = torch.NewDisposeScope();
                parameter.copy_(view.Read(source)); // copy_ converts F16/BF16 to the parameter's dtype
            }
        }
        model.visual.ClearResampleCache();
        return report;
    }

    /// <summary>Builds a model for <paramref name="config"/> and loads <paramref name="path"/> into it strictly.</summary>
    public static ClipModel LoadModel(ClipConfig config, string path)
    {
        PickleGuard.ThrowIfPickle(path);
        ClipModel model;
        using (torch.no_grad()) model = new ClipModel(config);
        try
        {
            Load(model, path, strict: true);
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>Derives the architecture from tensor shapes (either layout). Head counts are not stored in
    /// weights: they come from the file's <see cref="ConfigMetadataKey"/> when it agrees with the shapes,
    /// else from OpenCLIP's convention (64-wide heads; 80 for ViT-H's 1280 width). QuickGELU likewise
    /// comes only from that metadata; pass the pretrained tag to <see cref="ClipConfig.WithPretrainedTag"/>.</summary>
    public static ClipConfig InferConfig(string path)
    {
        PickleGuard.ThrowIfPickle(path);
        using var view = CheckpointView.Open(path);
        var a = CheckpointArchitecture.From(view);
        var name = view.Metadata.GetValueOrDefault(NameMetadataKey) ?? System.IO.Path.GetFileNameWithoutExtension(path);

        var absent = new List<string>();
        int Need(int? value, string what)
        {
            if (value is { } v && v > 0) return v;
            absent.Add(what);
            return 0;
        }
        int visionWidth = Need(a.VisionWidth, "vision width (visual.class_embedding)");
        int patch = Need(a.PatchSize, "patch size (visual.conv1.weight)");
        int grid = Need(a.Grid, "patch grid (visual.positional_embedding with 1 + g² rows)");
        int visionLayers = Need(a.VisionLayers, "vision layers");
        int visionMlp = Need(a.VisionMlpWidth, "vision MLP width (block 0 mlp.c_fc.weight)");
        int embed = Need(a.EmbedDim, "embedding dimension (visual.proj)");
        int textWidth = Need(a.TextWidth, "text width (token_embedding.weight)");
        int context = Need(a.ContextLength, "context length (positional_embedding)");
        int vocab = Need(a.VocabSize, "vocabulary size (token_embedding.weight)");
        int textLayers = Need(a.TextLayers, "text layers");
        int textMlp = Need(a.TextMlpWidth, "text MLP width (block 0 mlp.c_fc.weight)");
        if (absent.Count > 0)
            throw new CheckpointException($"Cannot infer a CLIP config from '{path}': it lacks {string.Join("; ", absent)}.");

        if (view.Metadata.TryGetValue(ConfigMetadataKey, out var json))
        {
            var stored = ClipConfig.FromOpenClipJson(name, json);
            if (!a.Differences(stored).Any()) return stored;
        }

        int headWidth = visionWidth == 1280 ? 80 : 64;
        if (visionWidth % headWidth != 0 || textWidth % 64 != 0)
            throw new CheckpointException(
                $"Cannot tell the head count of '{path}' (vision width {visionWidth}, text width {textWidth} are not multiples of 64 " +
                "and the file carries no config metadata); pass an OpenCLIP model config JSON instead.");
        var config = new ClipConfig(name, embed,
            new VisionConfig(grid * patch, patch, visionWidth, visionLayers, headWidth, MlpRatio(visionMlp, visionWidth, path)),
            new TextConfig(context, vocab, textWidth, textWidth / 64, textLayers, MlpRatio(textMlp, textWidth, path)));
        config.Validate();
        return config;
    }

    static double MlpRatio(int mlpWidth, int width, string path)
    {
        double ratio = (double)mlpWidth / width;
        if ((int)(width * ratio) != mlpWidth)
            throw new CheckpointException($"'{path}': MLP width {mlpWidth} is not representable as a ratio of width {width}.");
        return ratio;
    }
}
