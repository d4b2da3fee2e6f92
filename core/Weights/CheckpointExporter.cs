using MaskInversion.Core.Models;
using MaskInversion.Core.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace MaskInversion.Core.Weights;

/// <summary>Saves a <see cref="ClipModel"/>'s weights as safetensors in OpenCLIP or Hugging Face
/// CLIPModel layout, with the config in the metadata so <see cref="CheckpointLoader.InferConfig"/> recovers it.</summary>
public static class CheckpointExporter
{
    /// <summary>Writes the state dict under OpenCLIP names.</summary>
    public static void SaveOpenClip(ClipModel model, string path, ScalarType? dtype = null) =>
        SafeTensorsWriter.Save(path, model.named_parameters().Select(p => (p.name, (Tensor)p.parameter)), dtype, Metadata(model.Config));

    /// <summary>Writes the weights under Hugging Face CLIPModel names (q/k/v split, projections transposed,
    /// position_ids buffers included as transformers writes them).</summary>
    public static void SaveHuggingFace(ClipModel model, string path, ScalarType? dtype = null)
    {
        using var scope = torch.NewDisposeScope();
        SafeTensorsWriter.Save(path, HuggingFaceTensors(model), dtype, Metadata(model.Config));
    }

    /// <summary>The model's tensors under Hugging Face names; views of the parameters, owned by the caller's dispose scope.</summary>
    public static IReadOnlyList<(string name, Tensor tensor)> HuggingFaceTensors(ClipModel model)
    {
        var result = new List<(string, Tensor)>();
        foreach (var (name, parameter) in model.named_parameters())
        {
            var source = CheckpointKeys.SourceFor(CheckpointLayout.HuggingFace, name)
                ?? throw new InvalidOperationException($"Parameter '{name}' has no Hugging Face CLIPModel equivalent.");
            var value = parameter.detach();
            if (source.Transpose) value = value.t();
            var parts = source.Keys.Count == 1 ? [value] : value.chunk(source.Keys.Count, 0);
            for (int i = 0; i < parts.Length; i++) result.Add((source.Keys[i], parts[i]));
        }
        var c = model.Config;
        result.Add(("vision_model.embeddings.position_ids", PositionIds(c.Vision.GridSize * c.Vision.GridSize + 1)));
        result.Add(("text_model.embeddings.position_ids", PositionIds(c.Text.ContextLength)));
        return result;
    }

    /// <summary>HF's position_ids buffer: [[0, 1, …, n − 1]] (int64).</summary>
    static Tensor PositionIds(int n)
    {
        using var end = n.ToScalar();
        using var ids = torch.arange(Scalars.Zero, end, Scalars.One, dtype: ScalarType.Int64);
        return ids.unsqueeze(0);
    }

    static Dictionary<string, string> Metadata(ClipConfig config) => new()
    {
        ["format"] = "pt", // what transformers expects of a PyTorch-origin safetensors file
        [CheckpointLoader.ConfigMetadataKey] = config.ToOpenClipJson(),
        [CheckpointLoader.NameMetadataKey] = config.Name,
    };
}
