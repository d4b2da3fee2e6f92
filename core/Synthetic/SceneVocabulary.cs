namespace MaskInversion.Core.Synthetic;

/// <summary>
/// The class vocabulary: every (colour, shape) pair is one class. Class index = colour × shapes + shape, so
/// "red circle" is 0 with the defaults. Names are "&lt;colour&gt; &lt;shape&gt;"; OpenImages-style label names are
/// made-up but stable MIDs <c>/m/syn_&lt;colour&gt;_&lt;shape&gt;</c> (spaces → underscores).
/// </summary>
public sealed class SceneVocabulary
{
    public const string LabelPrefix = "/m/syn_";

    public IReadOnlyList<ShapeKind> Shapes { get; }
    public IReadOnlyList<SceneColour> Colours { get; }
    public int ClassCount => Shapes.Count * Colours.Count;

    readonly Dictionary<string, int> byName = new(StringComparer.Ordinal);
    readonly Dictionary<string, int> byLabel = new(StringComparer.Ordinal);

    public SceneVocabulary(IReadOnlyList<ShapeKind> shapes, IReadOnlyList<SceneColour> colours)
    {
        if (shapes.Count == 0 || colours.Count == 0) throw new ArgumentException("A vocabulary needs at least one shape and one colour.");
        if (shapes.Distinct().Count() != shapes.Count) throw new ArgumentException("Shapes must be distinct.", nameof(shapes));
        if (colours.Select(c => c.Name).Distinct(StringComparer.Ordinal).Count() != colours.Count)
            throw new ArgumentException("Colour names must be distinct.", nameof(colours));
        foreach (var c in colours)
            if (string.IsNullOrWhiteSpace(c.Name) || c.Name != c.Name.Trim().ToLowerInvariant() || c.Name.Contains('_') || c.Name.Contains(','))
                throw new ArgumentException($"Colour name '{c.Name}' must be trimmed lower case without '_' or ',' (it forms label names and CSV fields).", nameof(colours));
        (Shapes, Colours) = ([.. shapes], [.. colours]);
        for (int i = 0; i < ClassCount; i++)
        {
            byName.Add(ClassName(i), i);
            byLabel.Add(LabelName(i), i);
        }
    }

    /// <summary>6 shapes (circle, square, triangle, star, cross, ring) × 6 colours = 36 classes.</summary>
    public static SceneVocabulary Default { get; } = new(
        [ShapeKind.Circle, ShapeKind.Square, ShapeKind.Triangle, ShapeKind.Star, ShapeKind.Cross, ShapeKind.Ring],
        SceneColour.Defaults);

    public static string ShapeName(ShapeKind shape) => shape.ToString().ToLowerInvariant();

    public int ClassIndex(int colourIndex, int shapeIndex)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(colourIndex);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(colourIndex, Colours.Count);
        ArgumentOutOfRangeException.ThrowIfNegative(shapeIndex);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(shapeIndex, Shapes.Count);
        return colourIndex * Shapes.Count + shapeIndex;
    }

    public (int ColourIndex, int ShapeIndex) Split(int classIndex)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(classIndex);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(classIndex, ClassCount);
        return (classIndex / Shapes.Count, classIndex % Shapes.Count);
    }

    public ShapeKind ShapeOf(int classIndex) => Shapes[Split(classIndex).ShapeIndex];
    public SceneColour ColourOf(int classIndex) => Colours[Split(classIndex).ColourIndex];

    /// <summary>Human-readable class name, e.g. "red circle" (used in captions and prompts).</summary>
    public string ClassName(int classIndex) => $"{ColourOf(classIndex).Name} {ShapeName(ShapeOf(classIndex))}";

    /// <summary>OpenImages-style label name, e.g. "/m/syn_red_circle".</summary>
    public string LabelName(int classIndex) => LabelPrefix + ClassName(classIndex).Replace(' ', '_');

    public IEnumerable<string> ClassNames => Enumerable.Range(0, ClassCount).Select(ClassName);

    public int ClassIndexOfName(string name) =>
        byName.TryGetValue(name, out var i) ? i : throw new KeyNotFoundException($"'{name}' is not a class of this vocabulary.");

    public int ClassIndexOfLabel(string labelName) =>
        byLabel.TryGetValue(labelName, out var i) ? i : throw new KeyNotFoundException($"'{labelName}' is not a label of this vocabulary.");
}
