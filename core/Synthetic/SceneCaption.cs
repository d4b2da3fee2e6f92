namespace MaskInversion.Core.Synthetic;

/// <summary>Caption wording shared by scene captions (training text) and per-object prompts (evaluation).</summary>
public static class SceneCaption
{
    /// <summary>"a red circle" / "an orange star".</summary>
    public static string WithArticle(string className) =>
        (className.Length > 0 && "aeiou".Contains(className[0]) ? "an " : "a ") + className;

    /// <summary>Per-object prompt in the usual CLIP template: "a photo of a red circle.".</summary>
    public static string ForClass(string className) => $"a photo of {WithArticle(className)}.";

    /// <summary>Joins names as "a red circle, a blue star and a green ring", in the order given.</summary>
    public static string ForScene(IReadOnlyList<string> classNames)
    {
        if (classNames.Count == 0) throw new ArgumentException("A scene caption needs at least one object.", nameof(classNames));
        var parts = classNames.Select(WithArticle).ToArray();
        return parts.Length == 1 ? parts[0] : string.Join(", ", parts[..^1]) + " and " + parts[^1];
    }
}
