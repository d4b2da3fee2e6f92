namespace MaskInversion.Grains;

/// <summary>
/// Everything a job chooses, as plain data: the one settings record. The client builds it from its options
/// (client/Jobs: JobSettingsOptions), the coordinator normalises and keeps it, compute silos get it with each image
/// and turn it into the core's engine settings by one conversion (grains: JobSettingsConversion). Paths must be
/// readable by every silo (a shared file system). Defaults are the paper's and the reference code's; a test
/// checks that the inversion defaults equal the core's.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record JobSettings
{
    // The dataset and how to read it (core: DatasetReaderOptions).
    /// <summary>openimages, coco, jsonl, voc, pascal-context (class retrieval) or refcoco, refcoco+, refcocog, phrasecut
    /// (referring expressions, <see cref="DatasetFormats.IsReferring"/>).</summary>
    [Id(0)] public string Format { get; init; } = "openimages";
    [Id(1)] public string DatasetRoot { get; init; } = "";
    [Id(2)] public string? Split { get; init; }
    [Id(3)] public string? ClassesFile { get; init; }
    /// <summary>coco: also use crowd annotations as queries.</summary>
    [Id(4)] public bool IncludeCrowd { get; init; }
    /// <summary>Dataset name written into metrics.json.</summary>
    [Id(5)] public string DatasetName { get; init; } = "dataset";
    /// <summary>0 = the whole dataset.</summary>
    [Id(6)] public int MaxImages { get; init; }

    // The model (core: EngineSettings).
    /// <summary>Model family (openclip); null = the first that recognises the model.</summary>
    [Id(7)] public string? ModelFamily { get; init; }
    /// <summary>Model name (ViT-B-16, …) or OpenCLIP config JSON path; null infers it from the weights.</summary>
    [Id(8)] public string? Model { get; init; }
    /// <summary>Safetensors checkpoint; null = seeded random weights.</summary>
    [Id(9)] public string? Weights { get; init; }
    [Id(10)] public string? PretrainedTag { get; init; }
    [Id(11)] public string? Tokenizer { get; init; }
    [Id(12)] public int ImageSize { get; init; } = 448;
    /// <summary>pil (the reference's 8-bit bicubic resize, bit-exact with its preprocessing) or float (libtorch's
    /// antialiased bicubic on float pixels).</summary>
    [Id(26)] public string Resize { get; init; } = "pil";
    /// <summary>imagenet80 or single.</summary>
    [Id(13)] public string Templates { get; init; } = "imagenet80";
    /// <summary>Seed of random weights (when no checkpoint is given).</summary>
    [Id(14)] public long Seed { get; init; }

    // The methods and the inversion (core: InversionOptions).
    /// <summary>Method names and groups (maskinversion, clip, crop, …, baselines, ablations, all); the coordinator
    /// expands groups and keeps canonical names.</summary>
    [Id(15)] public string[] Methods { get; init; } = ["maskinversion", "baselines"];
    /// <summary>auto, vanilla, explicit or implicit: how ∂s/∂A is computed (DESIGN.md §2).</summary>
    [Id(16)] public string InversionPath { get; init; } = "auto";
    /// <summary>K, the optimisation steps per mask.</summary>
    [Id(17)] public int Iterations { get; init; } = 10;
    [Id(18)] public double LearningRate { get; init; } = 0.1;
    /// <summary>Weight of α·(1 − cos(LET, LET₀)): 5 for referring expressions, 0 for class retrieval (the client sets
    /// <see cref="DatasetFormats.ReferringAlpha"/> for referring formats unless given).</summary>
    [Id(19)] public double Alpha { get; init; }
    [Id(20)] public double WeightDecay { get; init; }

    // Outputs.
    /// <summary>The job folder: metrics.json, masks/, embeddings/, overlays/. Absolute.</summary>
    [Id(21)] public string OutputFolder { get; init; } = "";
    [Id(22)] public bool SaveEmbeddings { get; init; }
    /// <summary>How many masks (the first ones dispatched) get PNG overlays of image, mask and final map.</summary>
    [Id(23)] public int OverlaySamples { get; init; } = 8;

    // Dispatch.
    /// <summary>Images dispatched and not yet finished, cluster-wide: the coordinator's back-pressure.</summary>
    [Id(24)] public int MaxInFlight { get; init; } = 16;
    /// <summary>Attempts per image on transient failures (silo loss, timeouts).</summary>
    [Id(25)] public int MaxAttempts { get; init; } = 5;
    /// <summary>Coordinator shards (grains "jobId/shard"), each working the dataset records whose ordinal % Shards is its
    /// number, with its share of MaxInFlight; the coordinator adds up their counters and metric totals. One is enough
    /// for ≈ 25,000 images/s of bookkeeping; more spread that work (and its dataset reading) over coordinator silos.</summary>
    [Id(27)] public int Shards { get; init; } = 1;

    /// <summary>Value equality including the method list (records compare arrays by reference).</summary>
    public bool SameAs(JobSettings other) =>
        this with { Methods = [] } == other with { Methods = [] } && Methods.SequenceEqual(other.Methods, StringComparer.Ordinal);
}

/// <summary>Dataset formats by task, for code that must not load the core (the thin client): a test checks these
/// agree with the core's DatasetReaders.</summary>
public static class DatasetFormats
{
    /// <summary>Formats whose images carry referring expressions: the job scores expressions (Acc@1/5/10, mIoU, oIoU).</summary>
    public static IReadOnlyList<string> Referring { get; } = ["refcoco", "refcoco+", "refcocog", "phrasecut"];

    /// <summary>The paper's α for referring expressions.</summary>
    public const double ReferringAlpha = 5;

    public static bool IsReferring(string format) => Referring.Contains(format.ToLowerInvariant());
}
