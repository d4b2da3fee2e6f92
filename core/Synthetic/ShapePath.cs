using SkiaSharp;

namespace MaskInversion.Core.Synthetic;

/// <summary>
/// Outlines of the shapes, built directly in image coordinates. Every shape fits inside the circle of
/// radius <c>size / 2</c> about its centre, so placement only has to keep that circle inside the image.
/// The same path is filled antialiased for the image and aliased for the mask, which keeps them consistent.
/// </summary>
public static class ShapePath
{
    public static SKPath Build(ShapeKind shape, float cx, float cy, float size, float rotationDegrees)
    {
        float r = size / 2;
        double rot = rotationDegrees * Math.PI / 180;
        using var b = new SKPathBuilder();
        switch (shape)
        {
            case ShapeKind.Circle:
                b.AddCircle(cx, cy, 0.9f * r, SKPathDirection.Clockwise);
                break;
            case ShapeKind.Ring:
                // Opposite directions under the default winding rule leave the hole unfilled.
                b.AddCircle(cx, cy, 0.95f * r, SKPathDirection.Clockwise);
                b.AddCircle(cx, cy, 0.55f * r, SKPathDirection.CounterClockwise);
                break;
            case ShapeKind.Square:
                Polygon(b, Regular(4, 1, Math.PI / 4), cx, cy, r, rot);
                break;
            case ShapeKind.Triangle:
                Polygon(b, Regular(3, 1, -Math.PI / 2), cx, cy, r, rot);
                break;
            case ShapeKind.Hexagon:
                Polygon(b, Regular(6, 0.95, 0), cx, cy, r, rot);
                break;
            case ShapeKind.Star:
                Polygon(b, Star(5, 1, 0.45), cx, cy, r, rot);
                break;
            case ShapeKind.Cross:
                Polygon(b, CrossOutline(0.3, 0.95), cx, cy, r, rot);
                break;
            case ShapeKind.Heart:
                Polygon(b, HeartOutline, cx, cy, r, rot);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(shape), shape, "Unknown shape.");
        }
        return b.Detach();
    }

    static void Polygon(SKPathBuilder b, (double X, double Y)[] unit, float cx, float cy, float r, double rot)
    {
        double c = Math.Cos(rot), s = Math.Sin(rot);
        var pts = new SKPoint[unit.Length];
        for (int i = 0; i < unit.Length; i++)
        {
            var (x, y) = unit[i];
            pts[i] = new SKPoint((float)(cx + r * (c * x - s * y)), (float)(cy + r * (s * x + c * y)));
        }
        b.AddPoly(pts, close: true);
    }

    static (double, double)[] Regular(int n, double radius, double phase) =>
        Enumerable.Range(0, n).Select(i => (radius * Math.Cos(phase + 2 * Math.PI * i / n), radius * Math.Sin(phase + 2 * Math.PI * i / n))).ToArray();

    static (double, double)[] Star(int points, double outer, double inner) =>
        Enumerable.Range(0, 2 * points).Select(i =>
        {
            double a = -Math.PI / 2 + Math.PI * i / points, rad = i % 2 == 0 ? outer : inner;
            return (rad * Math.Cos(a), rad * Math.Sin(a));
        }).ToArray();

    /// <summary>A plus sign with arm half-width <paramref name="w"/> and arm reach <paramref name="l"/> (corners stay within radius 1).</summary>
    static (double, double)[] CrossOutline(double w, double l) =>
    [
        (-w, -l), (w, -l), (w, -w), (l, -w), (l, w), (w, w),
        (w, l), (-w, l), (-w, w), (-l, w), (-l, -w), (-w, -w),
    ];

    /// <summary>The classic parametric heart, pointing down in image coordinates, scaled to fit radius 0.97.</summary>
    static readonly (double, double)[] HeartOutline = BuildHeart();

    static (double, double)[] BuildHeart()
    {
        var pts = Enumerable.Range(0, 72).Select(i =>
        {
            double t = 2 * Math.PI * i / 72;
            double x = 16 * Math.Pow(Math.Sin(t), 3);
            double y = -(13 * Math.Cos(t) - 5 * Math.Cos(2 * t) - 2 * Math.Cos(3 * t) - Math.Cos(4 * t));
            return (x, y);
        }).ToArray();
        double my = (pts.Min(p => p.y) + pts.Max(p => p.y)) / 2;
        double maxR = pts.Max(p => Math.Sqrt(p.x * p.x + (p.y - my) * (p.y - my)));
        return pts.Select(p => (0.97 * p.x / maxR, 0.97 * (p.y - my) / maxR)).ToArray();
    }
}
