namespace MaskInversion.Core.Synthetic;

/// <summary>How a scene's classes are drawn.</summary>
public enum ClassMix
{
    /// <summary>Classes drawn independently (distinct when <see cref="SceneOptions.DistinctClasses"/>).</summary>
    Independent,
    /// <summary>The referring world: two colours × two shapes, and the scene's objects are (up to four of) those pairs. With
    /// four, every object shares its colour with one object and its shape with another, so only colour and shape
    /// together ("the red star", not "the red one" or "the star") name it; with three, two objects are named that way.</summary>
    SharedAttributes,
}

/// <summary>Generator parameters. Defaults give 224×224 scenes with 1–4 of the 36 default classes.</summary>
public sealed record SceneOptions
{
    public int Width { get; init; } = 224;
    public int Height { get; init; } = 224;
    public int MinObjects { get; init; } = 1;
    public int MaxObjects { get; init; } = 4;
    public SceneVocabulary Vocabulary { get; init; } = SceneVocabulary.Default;
    /// <summary>Textures an object may get; drawn uniformly, independent of class.</summary>
    public IReadOnlyList<ObjectTexture> Textures { get; init; } = Enum.GetValues<ObjectTexture>();
    /// <summary>Object size (its bounding-circle diameter) as a fraction of the shorter image side.</summary>
    public double MinSizeFraction { get; init; } = 0.18;
    public double MaxSizeFraction { get; init; } = 0.45;
    /// <summary>An occluded object must keep at least this fraction of its full area visible.</summary>
    public double MinVisibleFraction { get; init; } = 0.4;
    /// <summary>No class appears twice in a scene, so scene captions name each region unambiguously.</summary>
    public bool DistinctClasses { get; init; } = true;
    public ClassMix ClassMix { get; init; } = ClassMix.Independent;
    /// <summary>Per-channel uniform jitter of an object's colour around its class colour (keeps hue families apart).</summary>
    public int ColourJitter { get; init; } = 12;
    /// <summary>Amplitude of the grey per-pixel noise added to the background (not to objects).</summary>
    public int BackgroundNoise { get; init; } = 10;
    /// <summary>Number of low-saturation distractor blobs and lines painted on the background.</summary>
    public int MinDistractors { get; init; } = 3;
    public int MaxDistractors { get; init; } = 12;
    /// <summary>Random placements tried per object before the scene is redrawn from scratch.</summary>
    public int PlacementAttempts { get; init; } = 40;

    public void Validate()
    {
        if (Width < 32 || Height < 32) throw new ArgumentException($"Scenes must be at least 32×32, got {Width}×{Height}.");
        if (MinObjects < 1 || MaxObjects < MinObjects) throw new ArgumentException($"Need 1 ≤ MinObjects ≤ MaxObjects, got {MinObjects}..{MaxObjects}.");
        if (DistinctClasses && MaxObjects > Vocabulary.ClassCount)
            throw new ArgumentException($"MaxObjects {MaxObjects} exceeds the {Vocabulary.ClassCount} classes available with DistinctClasses.");
        if (ClassMix == ClassMix.SharedAttributes && (MaxObjects > 4 || MinObjects < 2 || Vocabulary.Colours.Count < 2 || Vocabulary.Shapes.Count < 2))
            throw new ArgumentException($"Shared-attribute scenes hold 2–4 objects of a vocabulary with at least two colours and two shapes, got {MinObjects}..{MaxObjects}.");
        if (Textures.Count == 0) throw new ArgumentException("At least one texture is needed.");
        if (!(MinSizeFraction > 0 && MinSizeFraction <= MaxSizeFraction && MaxSizeFraction <= 1))
            throw new ArgumentException($"Need 0 < MinSizeFraction ≤ MaxSizeFraction ≤ 1, got {MinSizeFraction}..{MaxSizeFraction}.");
        if (!(MinVisibleFraction >= 0 && MinVisibleFraction <= 1)) throw new ArgumentException("MinVisibleFraction must lie in [0, 1].");
        if (ColourJitter is < 0 or > 64) throw new ArgumentException("ColourJitter must lie in [0, 64].");
        if (BackgroundNoise is < 0 or > 64) throw new ArgumentException("BackgroundNoise must lie in [0, 64].");
        if (MinDistractors < 0 || MaxDistractors < MinDistractors) throw new ArgumentException("Need 0 ≤ MinDistractors ≤ MaxDistractors.");
        if (PlacementAttempts < 1) throw new ArgumentException("PlacementAttempts must be positive.");
    }
}
