using MaskInversion.Core.Imaging;

namespace MaskInversion.Core.Synthetic;

/// <summary>A generated scene: the image, its objects in drawing order (later ones occlude earlier ones) and captions.</summary>
public sealed record Scene(int Seed, long Index, RgbImage Image, IReadOnlyList<SceneObject> Objects, string Caption)
{
    /// <summary>One prompt per object, in object order ("a photo of a red circle.").</summary>
    public IReadOnlyList<string> ObjectCaptions => Objects.Select(o => o.Caption).ToArray();
}
