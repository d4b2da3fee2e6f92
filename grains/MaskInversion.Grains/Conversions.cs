using MaskInversion.Core.Datasets;
using MaskInversion.Core.Imaging;
using MaskInversion.Core.Inversion;
using MaskInversion.Core.Pipeline;

namespace MaskInversion.Grains;

/// <summary>Between the wire records of the abstractions and the core's types.</summary>
public static class Conversions
{
    /// <summary>Side of the explainability maps kept for overlays.</summary>
    public const int OverlayMapSize = 64;

    public static EngineSettings ToSettings(this EngineSpec s) => new()
    {
        Model = s.Model, Weights = s.Weights, PretrainedTag = s.PretrainedTag, Tokenizer = s.Tokenizer,
        ImageSize = s.ImageSize, ClassNames = s.ClassNames, Templates = s.Templates, TopK = 10, RandomSeed = s.Seed,
        Inversion = new InversionOptions { Iterations = s.Iterations, LearningRate = s.LearningRate, Alpha = s.Alpha },
        ReturnedMapSize = OverlayMapSize,
    };

    public static MaskSourceData ToData(this MaskSource s) =>
        new(s.Kind.ToString(), s.PngPath, s.Polygons, s.RleCounts, s.RleString, s.Height, s.Width, s.Label);

    public static MaskSource ToSource(this MaskSourceData d) =>
        new(Enum.Parse<MaskSourceKind>(d.Kind), d.PngPath, d.Polygons, d.RleCounts, d.RleString, d.Height, d.Width, d.Label);

    /// <summary>Decodes a mask at the image's size (OpenImages mask PNGs may be another size than their image).</summary>
    public static BinaryMask LoadMask(MaskSourceData source, int imageWidth, int imageHeight)
    {
        var mask = MaskRasterizer.Rasterize(source.ToSource(), p => MaskLoader.Load(p));
        return mask.Width == imageWidth && mask.Height == imageHeight ? mask : MaskLoader.Resize(mask, imageWidth, imageHeight);
    }

    public static MethodResult ToMethodResult(this MaskResult r) =>
        new(r.Method.Name(), r.TopClasses, r.TopScores, r.Dice, r.Embedding);
}
