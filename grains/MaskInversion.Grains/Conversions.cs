using MaskInversion.Core.Datasets;
using MaskInversion.Core.Pipeline;

namespace MaskInversion.Grains;

/// <summary>Between the small wire records of the abstractions and the core's types (job settings have their own
/// file: <see cref="JobSettingsConversion"/>).</summary>
public static class Conversions
{
    public static MaskSourceData ToData(this MaskSource s) =>
        new(s.Kind.ToString(), s.PngPath, s.Polygons, s.RleCounts, s.RleString, s.Height, s.Width, s.Label);

    public static MaskSource ToSource(this MaskSourceData d) =>
        new(Enum.Parse<MaskSourceKind>(d.Kind), d.PngPath, d.Polygons, d.RleCounts, d.RleString, d.Height, d.Width, d.Label);

    public static MethodResult ToMethodResult(this MaskResult r) =>
        new(r.Method.Name, r.TopClasses, r.TopScores, r.DiceLoss, r.Embedding);
}
