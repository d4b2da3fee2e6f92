namespace MaskInversion.Grains;

/// <summary>Where a mask's pixels come from; mirrors core's MaskSource field for field.</summary>
[GenerateSerializer, Immutable]
public sealed record MaskSourceData(
    [property: Id(0)] string Kind,
    [property: Id(1)] string? PngPath,
    [property: Id(2)] double[][]? Polygons,
    [property: Id(3)] int[]? RleCounts,
    [property: Id(4)] string? RleString,
    [property: Id(5)] int Height,
    [property: Id(6)] int Width,
    [property: Id(7)] int? Label = null);

/// <param name="ClassIndex">Index of the true class in the job's class list; −1 when unknown.</param>
/// <param name="Overlay">Write PNG overlays (image, mask, final map) for this mask.</param>
[GenerateSerializer, Immutable]
public sealed record MaskWork(
    [property: Id(0)] string MaskId,
    [property: Id(1)] int ClassIndex,
    [property: Id(2)] string? ClassId,
    [property: Id(3)] MaskSourceData Source,
    [property: Id(4)] bool Overlay);

/// <summary>A referring expression of an image and the id of the mask (one of the image's) it refers to.</summary>
[GenerateSerializer, Immutable]
public sealed record ExpressionWork(
    [property: Id(0)] string ExpressionId,
    [property: Id(1)] string Text,
    [property: Id(2)] string MaskId);

/// <summary>One image and its masks, sent by the coordinator to the image grain keyed jobId/imageId.</summary>
/// <param name="Job">The job's normalised settings (the same object for every image of a job).</param>
/// <param name="ClassNames">The dataset's class names, in class-index order (the engine's prompts); empty for
/// referring jobs, which score expressions, not classes.</param>
/// <param name="Expressions">Referring jobs: the image's expressions, each to be matched against all of
/// <paramref name="Masks"/> (the candidates); null for class retrieval.</param>
[GenerateSerializer, Immutable]
public sealed record ImageWork(
    [property: Id(0)] string JobId,
    [property: Id(1)] string ImageId,
    [property: Id(2)] string ImagePath,
    [property: Id(3)] MaskWork[] Masks,
    [property: Id(4)] JobSettings Job,
    [property: Id(5)] string[] ClassNames,
    [property: Id(6)] ExpressionWork[]? Expressions = null);

/// <summary>One (mask, method) outcome: top-k class indices with scores, final Dice loss (1 − soft Dice, lower is better) for inversions.</summary>
[GenerateSerializer, Immutable]
public sealed record MethodResult(
    [property: Id(0)] string Method,
    [property: Id(1)] int[] TopClasses,
    [property: Id(2)] float[] TopScores,
    [property: Id(3)] float? DiceLoss,
    [property: Id(4)] float[]? Embedding);

/// <summary>A mask grain's record: what was computed for the mask, or why it failed.</summary>
[GenerateSerializer, Immutable]
public sealed record MaskRecord(
    [property: Id(0)] string MaskId,
    [property: Id(1)] int ClassIndex,
    [property: Id(2)] MethodResult[] Results,
    [property: Id(3)] string? Error);

/// <summary>One referring expression under one method: where its true mask ranked among the image's candidates, the
/// top-ranked (predicted) mask, and that mask's pixel overlap with the true one (at the true mask's resolution).</summary>
/// <param name="Rank">0-based rank of the true mask (0 = retrieved first).</param>
[GenerateSerializer, Immutable]
public sealed record ExpressionResult(
    [property: Id(0)] string Method,
    [property: Id(1)] int Rank,
    [property: Id(2)] string PredictedMaskId,
    [property: Id(3)] long Intersection,
    [property: Id(4)] long Union);

/// <summary>A referring expression's outcome under every method of the job, or why it could not be scored (its true
/// mask could not be read, the image's engine failed).</summary>
[GenerateSerializer, Immutable]
public sealed record ExpressionRecord(
    [property: Id(0)] string ExpressionId,
    [property: Id(1)] string TrueMaskId,
    [property: Id(2)] ExpressionResult[] Results,
    [property: Id(3)] string? Error);

/// <summary>The small per-image record an image grain returns to the coordinator.</summary>
/// <param name="Error">Image-level failure (unreadable image); the masks then carry it too.</param>
/// <param name="Expressions">Referring jobs: one record per expression of the image; null otherwise.</param>
/// <param name="Silo">The silo (address:port) that answered; null when the coordinator gave up on the image.</param>
[GenerateSerializer, Immutable]
public sealed record ImageOutcome(
    [property: Id(0)] string ImageId,
    [property: Id(1)] MaskRecord[] Masks,
    [property: Id(2)] string? Error,
    [property: Id(3)] ExpressionRecord[]? Expressions = null,
    [property: Id(4)] string? Silo = null);
