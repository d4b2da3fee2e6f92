using static TorchSharp.torch;

namespace MaskInversion.Core.Weights;

/// <summary>The safetensors dtype strings this project reads and writes, and their TorchSharp types.</summary>
public static class SafeTensorsDType
{
    // Floats carry weights; I64/I32 appear as buffers (Hugging Face's position_ids).
    static readonly Dictionary<string, ScalarType> ByName = new(StringComparer.Ordinal)
    {
        ["F32"] = ScalarType.Float32,
        ["F16"] = ScalarType.Float16,
        ["BF16"] = ScalarType.BFloat16,
        ["F64"] = ScalarType.Float64,
        ["I64"] = ScalarType.Int64,
        ["I32"] = ScalarType.Int32,
    };

    public static IReadOnlyCollection<string> Supported => ByName.Keys;

    public static bool TryParse(string name, out ScalarType type) => ByName.TryGetValue(name, out type);

    public static bool IsSupported(ScalarType type) => ByName.ContainsValue(type);

    public static string NameOf(ScalarType type) =>
        ByName.FirstOrDefault(kv => kv.Value == type).Key
        ?? throw new NotSupportedException($"Tensors of type {type} cannot be stored; supported: {string.Join(", ", Supported)}.");

    public static int SizeOf(ScalarType type) => type switch
    {
        ScalarType.Float32 or ScalarType.Int32 => 4,
        ScalarType.Float16 or ScalarType.BFloat16 => 2,
        ScalarType.Float64 or ScalarType.Int64 => 8,
        _ => throw new NotSupportedException($"Tensors of type {type} cannot be stored; supported: {string.Join(", ", Supported)}."),
    };

    public static bool IsFloating(ScalarType type) =>
        type is ScalarType.Float32 or ScalarType.Float16 or ScalarType.BFloat16 or ScalarType.Float64;
}
