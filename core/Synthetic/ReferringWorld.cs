namespace MaskInversion.Core.Synthetic;

/// <summary>An expression of a referring scene and the index of the object it names.</summary>
public sealed record SceneExpression(string ExpressionId, string Text, int ObjectIndex);

/// <summary>
/// The synthetic referring world: scenes of three or four objects drawn from two colours × two shapes
/// (<see cref="ClassMix.SharedAttributes"/>), so an object shares its colour with one object and its shape with
/// another and only the two words together pick it out. Each object is named once, in the wording the bundled MiniCLIP
/// knows ("a photo of a red star."; its vocabulary has colours, shapes and the caption words, no spatial relations).
/// A method must bind colour and shape to the region to find the object; the global embedding, one for the whole
/// scene, cannot tell the candidates apart.
/// </summary>
public static class ReferringWorld
{
    /// <summary>Shared-attribute scenes on top of <paramref name="baseOptions"/> (size, textures, clutter).</summary>
    public static SceneOptions Options(SceneOptions baseOptions, int minObjects = 3, int maxObjects = 4) =>
        baseOptions with { MinObjects = minObjects, MaxObjects = maxObjects, ClassMix = ClassMix.SharedAttributes, DistinctClasses = true };

    /// <summary>One expression per object, ids "&lt;object index&gt;".</summary>
    public static IReadOnlyList<SceneExpression> Expressions(Scene scene) =>
        scene.Objects.Select((o, k) => new SceneExpression(k.ToString(System.Globalization.CultureInfo.InvariantCulture), SceneCaption.ForClass(o.ClassName), k)).ToArray();
}
