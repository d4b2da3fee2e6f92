using MaskInversion.Core.Models;

namespace MaskInversion.Core.Weights;

/// <summary>The architecture a checkpoint's tensor shapes imply; a field is null when the tensor it is read
/// from is absent. Head counts are not visible in shapes and so are not part of it.</summary>
internal sealed record CheckpointArchitecture(
    int? VisionWidth, int? PatchSize, int? Grid, int VisionLayers, int? VisionMlpWidth, int? EmbedDim,
    int? TextWidth, int? ContextLength, int? VocabSize, int TextLayers, int? TextMlpWidth)
{
    public static CheckpointArchitecture From(CheckpointView view)
    {
        int? Dim(string name, int axis) => view.ShapeOf(name) is { } s && s.Length > axis ? (int)s[axis] : null;
        int? grid = null;
        if (Dim("visual.positional_embedding", 0) is { } positions)
        {
            int g = (int)Math.Round(Math.Sqrt(positions - 1));
            if (g * g == positions - 1) grid = g;
        }
        return new(
            VisionWidth: Dim("visual.class_embedding", 0) ?? Dim("visual.conv1.weight", 0),
            PatchSize: Dim("visual.conv1.weight", 2),
            Grid: grid,
            VisionLayers: CheckpointKeys.CountLayers(view.Keys, view.Layout, vision: true),
            VisionMlpWidth: Dim("visual.transformer.resblocks.0.mlp.c_fc.weight", 0),
            EmbedDim: Dim("visual.proj", 1) ?? Dim("text_projection", 1),
            TextWidth: Dim("token_embedding.weight", 1) ?? Dim("ln_final.weight", 0),
            ContextLength: Dim("positional_embedding", 0),
            VocabSize: Dim("token_embedding.weight", 0),
            TextLayers: CheckpointKeys.CountLayers(view.Keys, view.Layout, vision: false),
            TextMlpWidth: Dim("transformer.resblocks.0.mlp.c_fc.weight", 0));
    }

    /// <summary>One line per dimension where the checkpoint and <paramref name="config"/> disagree.</summary>
    public IEnumerable<string> Differences(ClipConfig config)
    {
        var (v, t) = (config.Vision, config.Text);
        static string? Diff(int? checkpoint, int configured, string what) =>
            checkpoint is { } c && c != configured ? $"checkpoint has {what} {c}, config has {configured}" : null;
        var lines = new[]
        {
            VisionLayers != v.Layers ? $"checkpoint has {VisionLayers} vision layers, config has {v.Layers}" : null,
            Diff(VisionWidth, v.Width, "vision width"),
            Diff(PatchSize, v.PatchSize, "patch size"),
            Grid is { } g && g != v.GridSize ? $"checkpoint's vision positional embedding is for a {g}×{g} patch grid, config has {v.GridSize}×{v.GridSize} (image size {v.ImageSize}, patch {v.PatchSize})" : null,
            Diff(VisionMlpWidth, v.MlpWidth, "vision MLP width"),
            Diff(EmbedDim, config.EmbedDim, "embedding dimension"),
            TextLayers != t.Layers ? $"checkpoint has {TextLayers} text layers, config has {t.Layers}" : null,
            Diff(TextWidth, t.Width, "text width"),
            Diff(ContextLength, t.ContextLength, "text context length"),
            Diff(VocabSize, t.VocabSize, "vocabulary size"),
            Diff(TextMlpWidth, t.MlpWidth, "text MLP width"),
        };
        return lines.OfType<string>();
    }
}
