using MaskInversion.Core.Imaging;

namespace MaskInversion.Core.Synthetic;

/// <summary>
/// One object in a scene. <see cref="Mask"/> is exactly the object's visible pixels (its own non-antialiased
/// coverage minus everything drawn over it); <see cref="Box"/> is the tight box of that mask, exclusive upper bounds.
/// </summary>
public sealed record SceneObject(
    int ClassIndex,
    string ClassName,
    ShapeKind Shape,
    SceneColour Colour,
    ObjectTexture Texture,
    (byte R, byte G, byte B) Rgb,
    BinaryMask Mask,
    (int X0, int Y0, int X1, int Y1) Box,
    int FullArea,
    int VisibleArea,
    float CentreX,
    float CentreY,
    float Size,
    float RotationDegrees)
{
    /// <summary>Visible area over the area the object would cover unoccluded.</summary>
    public double VisibleFraction => FullArea == 0 ? 0 : (double)VisibleArea / FullArea;

    /// <summary>CLIP-style prompt for this object alone, e.g. "a photo of a red circle.".</summary>
    public string Caption => SceneCaption.ForClass(ClassName);
}
