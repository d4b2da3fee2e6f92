namespace MaskInversion.Core.Synthetic;

/// <summary>A named object colour (the colour half of a class), e.g. "red" = (220, 40, 40).</summary>
public sealed record SceneColour(string Name, byte R, byte G, byte B)
{
    public static readonly SceneColour Red = new("red", 220, 38, 38);
    public static readonly SceneColour Green = new("green", 34, 168, 64);
    public static readonly SceneColour Blue = new("blue", 36, 84, 222);
    public static readonly SceneColour Yellow = new("yellow", 242, 212, 36);
    public static readonly SceneColour Purple = new("purple", 142, 56, 196);
    public static readonly SceneColour Orange = new("orange", 246, 128, 24);

    /// <summary>Six saturated, well-separated hues: distractors are low-saturation so they cannot be mistaken for these.</summary>
    public static IReadOnlyList<SceneColour> Defaults { get; } = [Red, Green, Blue, Yellow, Purple, Orange];
}
