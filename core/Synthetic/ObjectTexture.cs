namespace MaskInversion.Core.Synthetic;

/// <summary>
/// Fill pattern of an object. Texture is a nuisance variable, deliberately not part of the class, so a
/// model must recognise colour and shape through it.
/// </summary>
public enum ObjectTexture
{
    Solid,
    Stripes,
    Dots,
    Checker,
}
