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
    /// whatever fits is loaded and the rest is reported. A tensor holding NaN or ±∞ throws, naming it; the model is
    /// then partly loaded and must be discarded (<see cref="LoadModel"/> does).</summary>
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
                var value = view.Read(source);
                // NaN or ±∞ in a weight would give a job of NaN scores that still "completes": refuse the file, naming the tensor.
                if (value.is_floating_point() && !value.isfinite().all().item<bool>()) throw NonFinite(view, source, path);
                parameter.copy_(value); // copy_ converts F16/BF16 to the parameter's dtype
            }
        }
        model.visual.ClearResampleCache();
        return report;
    }

    static CheckpointException NonFinite(CheckpointView view, TensorSource source, string path)
    {
        foreach (var key in source.Keys)
        {
            using var part = view.Read(TensorSource.Single(key));
            using var bad = part.isfinite().logical_not();
            long count = bad.sum().item<long>();
            if (count > 0)
                return new CheckpointException($"'{path}' is damaged: tensor '{view.Prefix}{key}' holds {count:N0} NaN or infinite value(s) " +
                    $"of {part.NumberOfElements:N0}; loading stopped there.");
        }
        return new CheckpointException($"'{path}' is damaged: the tensors of {string.Join(", ", source.Keys)} hold NaN or infinite values.");
    }

    /// <summary>Checks a checkpoint against <paramref name="config"/> from its header alone (no tensor is read and no
    /// full-size model is built): pickle refused, layout known, every parameter's keys present, nothing unexpected, and
    /// the dimensions the shapes imply equal to the config's. What <see cref="Load"/> with strict would refuse, fast.</summary>
    public static LoadReport Inspect(ClipConfig config, string path)
    {
        PickleGuard.ThrowIfPickle(path);
        using var view = CheckpointView.Open(path);
        // Parameter names depend only on the layer counts: a model that small has them all.
        var names = new ClipConfig(config.Name, 8, new VisionConfig(16, 8, 8, config.Vision.Layers, 8), new TextConfig(4, 8, 8, 1, config.Text.Layers));
        List<string> parameters;
        using (torch.no_grad())
        using (var skeleton = new ClipModel(names))
            parameters = skeleton.named_parameters().Select(p => p.name).ToList();
        var missing = new List<string>();
        var consumed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var name in parameters)
        {
            if (view.SourceFor(name) is not { } source) { missing.Add($"{name} (no {view.Layout} equivalent)"); continue; }
            foreach (var key in source.Keys)
                if (view.Info(key) is null) missing.Add(key); else consumed.Add(key);
        }
        var ignored = view.Keys.Where(k => CheckpointKeys.IsIgnored(view.Layout, k)).Order(StringComparer.Ordinal).ToList();
        var unexpected = view.Keys.Where(k => !consumed.Contains(k) && !CheckpointKeys.IsIgnored(view.Layout, k)).Order(StringComparer.Ordinal).ToList();
        var architecture = CheckpointArchitecture.From(view).Differences(config).ToList();
        return new LoadReport(path, view.Layout, view.Prefix, 0, missing, unexpected, [], architecture, ignored);
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
