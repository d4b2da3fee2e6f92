namespace MaskInversion.Core.Synthetic;

/// <summary>Shapes the generator can draw; a vocabulary picks a subset (default: the first six).</summary>
public enum ShapeKind
{
    Circle,
    Square,
    Triangle,
    Star,
    Cross,
    Ring,
    Hexagon,
    Heart,
}
