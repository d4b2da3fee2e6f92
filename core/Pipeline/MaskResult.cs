namespace MaskInversion.Core.Pipeline;

/// <summary>One (mask, method) outcome: the region embedding's top-k classes, the final Dice loss (1 − soft Dice, lower is better) for inversions.</summary>
/// <param name="Map">The final explainability map, MapSize × MapSize, when the engine returns maps.</param>
public sealed record MaskResult(string MaskId, RegionMethod Method, int[] TopClasses, float[] TopScores, float? DiceLoss,
    float[]? Embedding, float[]? Map, int MapSize);
