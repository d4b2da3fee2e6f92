namespace MaskInversion.Core.Pipeline;

/// <summary>How a region (mask) is turned into an embedding: MaskInversion, its mask-quality ablations,
/// or one of the paper's baselines (DESIGN.md §3).</summary>
public enum RegionMethod
{
    MaskInversion,
    /// <summary>The global image embedding (same for every mask of an image).</summary>
    Clip,
    Crop,
    MaskedCrop,
    RedCircle,
    Blur,
    MaskInversionBox,
    MaskInversionErode,
    MaskInversionDilate,
}

public static class RegionMethods
{
    static readonly Dictionary<string, RegionMethod> ByName = new(StringComparer.OrdinalIgnoreCase)
    {
        ["maskinversion"] = RegionMethod.MaskInversion,
        ["clip"] = RegionMethod.Clip,
        ["crop"] = RegionMethod.Crop,
        ["masked_crop"] = RegionMethod.MaskedCrop,
        ["red_circle"] = RegionMethod.RedCircle,
        ["blur"] = RegionMethod.Blur,
        ["maskinversion_box"] = RegionMethod.MaskInversionBox,
        ["maskinversion_erode"] = RegionMethod.MaskInversionErode,
        ["maskinversion_dilate"] = RegionMethod.MaskInversionDilate,
    };

    public static IReadOnlyList<RegionMethod> Baselines { get; } =
        [RegionMethod.Clip, RegionMethod.Crop, RegionMethod.MaskedCrop, RegionMethod.RedCircle, RegionMethod.Blur];

    public static IReadOnlyList<RegionMethod> Ablations { get; } =
        [RegionMethod.MaskInversionBox, RegionMethod.MaskInversionErode, RegionMethod.MaskInversionDilate];

    public static IReadOnlyList<RegionMethod> All { get; } = Enum.GetValues<RegionMethod>();

    /// <summary>The snake_case name used on the command line and in outputs.</summary>
    public static string Name(this RegionMethod method) => ByName.First(kv => kv.Value == method).Key;

    public static RegionMethod Parse(string name) =>
        ByName.TryGetValue(name.Trim(), out var m)
            ? m
            : throw new ArgumentException($"Unknown method '{name}'. Known: {string.Join(", ", ByName.Keys)}, or 'baselines', 'ablations', 'all'.");

    /// <summary>Parses a comma-separated list; the groups 'baselines', 'ablations' and 'all' expand.</summary>
    public static IReadOnlyList<RegionMethod> ParseList(string text)
    {
        var result = new List<RegionMethod>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            IEnumerable<RegionMethod> add = part.ToLowerInvariant() switch
            {
                "baselines" => Baselines,
                "ablations" => Ablations,
                "all" => All,
                _ => [Parse(part)],
            };
            foreach (var m in add) if (!result.Contains(m)) result.Add(m);
        }
        if (result.Count == 0) throw new ArgumentException("No methods given.");
        return result;
    }

    public static bool IsInversion(this RegionMethod m) =>
        m is RegionMethod.MaskInversion or RegionMethod.MaskInversionBox or RegionMethod.MaskInversionErode or RegionMethod.MaskInversionDilate;
}
