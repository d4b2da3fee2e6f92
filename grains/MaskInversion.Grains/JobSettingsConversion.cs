using MaskInversion.Core.Datasets;
using MaskInversion.Core.Imaging;
using MaskInversion.Core.Inversion;
using MaskInversion.Core.Pipeline;

namespace MaskInversion.Grains;

/// <summary>The one conversion from a job's <see cref="JobSettings"/> to the core's settings (engine, inversion,
/// dataset reader, methods), and the normalisation the coordinator applies at submit.</summary>
public static class JobSettingsConversion
{
    /// <summary>Side of the explainability maps kept for overlays.</summary>
    public const int OverlayMapSize = 64;

    /// <param name="classNames">The dataset's class names (the coordinator reads them; the job does not choose them).</param>
    /// <param name="device">The compute silo's device ("auto", "cpu", "cuda[:N]"): the silo's choice, not the job's.</param>
    public static EngineSettings ToEngineSettings(this JobSettings s, IReadOnlyList<string> classNames, string device = "auto") => new()
    {
        ModelFamily = s.ModelFamily, Model = s.Model, Weights = s.Weights, PretrainedTag = s.PretrainedTag, Tokenizer = s.Tokenizer,
        ImageSize = s.ImageSize, Resize = ParseResize(s.Resize), Device = device, ClassNames = classNames, Templates = s.Templates, TopK = 10, RandomSeed = s.Seed,
        Inversion = s.ToInversionOptions(),
        ReturnedMapSize = OverlayMapSize,
    };

    public static InversionOptions ToInversionOptions(this JobSettings s) => new()
    {
        Path = ParsePath(s.InversionPath), Iterations = s.Iterations, LearningRate = s.LearningRate, Alpha = s.Alpha, WeightDecay = s.WeightDecay,
    };

    /// <param name="paths">Where the reader may read (a silo passes its <see cref="JobPaths.Datasets"/>); unrestricted by default.</param>
    public static DatasetReaderOptions ToReaderOptions(this JobSettings s, PathPolicy? paths = null) => new()
    {
        Format = s.Format, Root = s.DatasetRoot, Split = s.Split, ClassesFile = s.ClassesFile, IncludeCrowd = s.IncludeCrowd,
        Paths = paths ?? PathPolicy.Unrestricted,
    };

    /// <summary>The job's methods from the registry (<see cref="RegionMethods"/>); groups expand.</summary>
    public static IReadOnlyList<RegionMethod> ToRegionMethods(this JobSettings s) => RegionMethods.ParseList(s.Methods);

    /// <summary>Method groups expanded to canonical names, and what can be checked before the dataset and the model
    /// are opened; a bad setting is refused with the setting named.</summary>
    public const int MaxShards = 256;

    public static JobSettings Normalise(this JobSettings s)
    {
        if (!Path.IsPathFullyQualified(s.OutputFolder)) throw new ArgumentException($"Output folder must be an absolute path, got '{s.OutputFolder}'.");
        if (s.MaxInFlight < 1) throw new ArgumentException($"MaxInFlight must be ≥ 1, got {s.MaxInFlight}.");
        if (s.MaxAttempts < 1) throw new ArgumentException($"MaxAttempts must be ≥ 1, got {s.MaxAttempts}.");
        if (s.Shards is < 1 or > MaxShards) throw new ArgumentException($"Shards must be between 1 and {MaxShards}, got {s.Shards}.");
        if (s.MaxInFlight < s.Shards)
            throw new ArgumentException($"MaxInFlight ({s.MaxInFlight}) must be at least Shards ({s.Shards}): each shard dispatches its share of it.");
        s.ToInversionOptions().Validate();
        ParseResize(s.Resize);
        if (DatasetFormats.IsReferring(s.Format) && s.Tokenizer is null)
            throw new ArgumentException($"A {s.Format} job needs a tokenizer (Tokenizer, --tokenizer): its referring expressions are embedded as text.");
        return s with
        {
            Methods = s.ToRegionMethods().Select(m => m.Name).ToArray(), InversionPath = s.InversionPath.ToLowerInvariant(), Resize = s.Resize.ToLowerInvariant(),
        };
    }

    static ResizeMode ParseResize(string resize) => resize.ToLowerInvariant() switch
    {
        "pil" => ResizeMode.Pil,
        "float" => ResizeMode.Float,
        _ => throw new ArgumentException($"Unknown resize '{resize}'; expected pil (the reference's 8-bit bicubic) or float."),
    };

    static InversionPath ParsePath(string path) =>
        path.Length > 0 && path.All(char.IsAsciiLetter) && Enum.TryParse<InversionPath>(path, ignoreCase: true, out var p)
            ? p
            : throw new ArgumentException($"Unknown inversion path '{path}'; expected auto, vanilla, explicit or implicit.");
}
