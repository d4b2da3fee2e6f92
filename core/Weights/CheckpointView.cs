using TorchSharp;
using static TorchSharp.torch;

namespace MaskInversion.Core.Weights;

/// <summary>A safetensors checkpoint seen through its layout: keys with any wrapper prefix removed, and
/// OpenCLIP parameters resolved to (possibly concatenated, transposed) checkpoint tensors.</summary>
internal sealed class CheckpointView : IDisposable
{
    // DataParallel/Lightning wrappers prepend these to every key.
    static readonly string[] WrapperPrefixes = ["module.", "state_dict."];

    readonly SafeTensorsFile file;
    readonly Dictionary<string, TensorInfo> tensors;

    public string Path => file.Path;
    public string Prefix { get; }
    public CheckpointLayout Layout { get; }
    public IReadOnlyDictionary<string, string> Metadata => file.Metadata;
    public IEnumerable<string> Keys => tensors.Keys;

    CheckpointView(SafeTensorsFile file, string prefix, CheckpointLayout layout)
    {
        this.file = file;
        Prefix = prefix;
        Layout = layout;
        tensors = file.Tensors.Values.ToDictionary(t => t.Name[prefix.Length..], StringComparer.Ordinal);
    }

    public static CheckpointView Open(string path)
    {
        var file = SafeTensorsFile.Open(path);
        try
        {
            var prefix = "";
            var keys = file.Tensors.Keys.ToList();
            bool stripped;
            do
            {
                stripped = false;
                foreach (var p in WrapperPrefixes)
                {
                    if (keys.Count == 0 || !keys.All(k => k.StartsWith(p, StringComparison.Ordinal))) continue;
                    prefix += p;
                    keys = keys.Select(k => k[p.Length..]).ToList();
                    stripped = true;
                }
            } while (stripped);
            var layout = CheckpointKeys.Detect(keys) ?? throw new CheckpointException(
                $"'{path}' is neither an OpenCLIP checkpoint (keys 'visual.…') nor a Hugging Face CLIPModel one " +
                $"(keys 'vision_model.…', 'text_model.…'). First keys: {string.Join(", ", keys.Order(StringComparer.Ordinal).Take(5))}.");
            return new CheckpointView(file, prefix, layout);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    public TensorInfo? Info(string key) => tensors.GetValueOrDefault(key);

    public TensorSource? SourceFor(string openClipName) => CheckpointKeys.SourceFor(Layout, openClipName);

    /// <summary>The OpenCLIP-layout shape of a parameter, or null if its tensors are absent or disagree.</summary>
    public long[]? ShapeOf(string openClipName)
    {
        if (SourceFor(openClipName) is not { } source) return null;
        var shapes = new List<IReadOnlyList<long>>();
        foreach (var key in source.Keys)
        {
            if (Info(key) is not { } info) return null;
            shapes.Add(info.Shape);
        }
        var first = shapes[0];
        if (shapes.Count > 1)
        {
            if (first.Count == 0 || shapes.Any(s => s.Count != first.Count || !s.Skip(1).SequenceEqual(first.Skip(1)))) return null;
            return [shapes.Sum(s => s[0]), .. first.Skip(1)];
        }
        if (source.Transpose) return first.Count == 2 ? [first[1], first[0]] : null;
        return [.. first];
    }

    /// <summary>The checkpoint shapes that would make up a parameter of shape <paramref name="parameterShape"/>.</summary>
    public static long[] ExpectedShape(TensorSource source, IReadOnlyList<long> parameterShape)
    {
        if (source.Keys.Count > 1)
            return [parameterShape[0] / source.Keys.Count, .. parameterShape.Skip(1)];
        if (source.Transpose && parameterShape.Count == 2) return [parameterShape[1], parameterShape[0]];
        return [.. parameterShape];
    }

    /// <summary>Reads a parameter's value in OpenCLIP layout, in the checkpoint's dtype.</summary>
    public Tensor Read(TensorSource source)
    {
        using var scope = torch.NewDisposeScope();
        var parts = source.Keys.Select(k => file.Read(Prefix + k)).ToArray();
        var value = parts.Length == 1 ? parts[0] : torch.cat(parts, 0);
        if (source.Transpose) value = value.t().contiguous();
        return value.MoveToOuterDisposeScope();
    }

    public void Dispose() => file.Dispose();
}
