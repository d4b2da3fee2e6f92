namespace MaskInversion.Grains;

/// <summary>Everything a job needs, as plain data (paths must be readable by every silo: a shared file system).</summary>
/// <remarks>Mirrors the core's EngineSettings/InversionOptions rather than carrying them, so the wire format is
/// owned here by Orleans' generated serializers and the client needs no TorchSharp.</remarks>
[GenerateSerializer, Immutable]
public sealed record JobSpec
{
    /// <summary>openimages, coco or jsonl.</summary>
    [Id(0)] public string Format { get; init; } = "openimages";
    [Id(1)] public string DatasetRoot { get; init; } = "";
    [Id(2)] public string? Split { get; init; }
    [Id(3)] public string? ClassesFile { get; init; }
    /// <summary>Model name (ViT-B-16, Tiny-Test) or OpenCLIP config JSON path; null infers from the weights.</summary>
    [Id(4)] public string? Model { get; init; }
    [Id(5)] public string? Weights { get; init; }
    [Id(6)] public string? PretrainedTag { get; init; }
    [Id(7)] public string? Tokenizer { get; init; }
    /// <summary>Method names as RegionMethods.ParseList accepts them (maskinversion, clip, crop, …).</summary>
    [Id(8)] public string[] Methods { get; init; } = ["maskinversion"];
    [Id(9)] public int Iterations { get; init; } = 10;
    [Id(10)] public double LearningRate { get; init; } = 0.1;
    [Id(11)] public double Alpha { get; init; }
    [Id(12)] public int ImageSize { get; init; } = 448;
    /// <summary>imagenet80 or single.</summary>
    [Id(13)] public string Templates { get; init; } = "imagenet80";
    /// <summary>The job folder: metrics.json, masks/, embeddings/, overlays/.</summary>
    [Id(14)] public string OutputFolder { get; init; } = "";
    [Id(15)] public bool SaveEmbeddings { get; init; }
    /// <summary>How many masks (the first ones dispatched) get PNG overlays of image, mask and final map.</summary>
    [Id(16)] public int OverlaySamples { get; init; } = 8;
    /// <summary>0 = the whole dataset.</summary>
    [Id(17)] public int MaxImages { get; init; }
    /// <summary>Images dispatched and not yet finished, cluster-wide: the coordinator's back-pressure.</summary>
    [Id(18)] public int MaxInFlight { get; init; } = 16;
    /// <summary>Attempts per image on transient failures (silo loss, timeouts).</summary>
    [Id(19)] public int MaxAttempts { get; init; } = 5;
    [Id(20)] public long Seed { get; init; }
    /// <summary>Dataset name written into metrics.json.</summary>
    [Id(21)] public string DatasetName { get; init; } = "dataset";
}

/// <summary>What a compute silo needs to build (or reuse) a RegionEngine: one per distinct value.</summary>
[GenerateSerializer, Immutable]
public sealed record EngineSpec(
    [property: Id(0)] string? Model,
    [property: Id(1)] string? Weights,
    [property: Id(2)] string? PretrainedTag,
    [property: Id(3)] string? Tokenizer,
    [property: Id(4)] int ImageSize,
    [property: Id(5)] string Templates,
    [property: Id(6)] string[] ClassNames,
    [property: Id(7)] int Iterations,
    [property: Id(8)] double LearningRate,
    [property: Id(9)] double Alpha,
    [property: Id(10)] long Seed)
{
    /// <summary>Value identity for the silo's engine cache (records compare arrays by reference).</summary>
    public string CacheKey => string.Join('\u001f', Model, Weights, PretrainedTag, Tokenizer, ImageSize, Templates,
        string.Join('\u001e', ClassNames), Iterations, LearningRate.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
        Alpha.ToString("R", System.Globalization.CultureInfo.InvariantCulture), Seed);
}
