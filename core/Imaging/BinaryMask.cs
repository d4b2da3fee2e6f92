namespace MaskInversion.Core.Imaging;

/// <summary>A binary region mask, row-major, one byte per pixel (0 or 1).</summary>
public sealed class BinaryMask
{
    public int Width { get; }
    public int Height { get; }
    public byte[] Data { get; }

    public BinaryMask(int width, int height, byte[] data)
    {
        if (width <= 0 || height <= 0) throw new ArgumentOutOfRangeException(nameof(width), $"Mask size {width}×{height} is empty.");
        if (data.Length != checked(width * height))
            throw new ArgumentException($"Expected {width * height} bytes for a {width}×{height} mask, got {data.Length}.");
        for (int i = 0; i < data.Length; i++) if (data[i] > 1) data[i] = 1;
        (Width, Height, Data) = (width, height, data);
    }

    public static BinaryMask Empty(int width, int height) => new(width, height, new byte[width * height]);

    public bool this[int x, int y] => Data[y * Width + x] != 0;

    public int Area
    {
        get { int a = 0; foreach (var v in Data) a += v; return a; }
    }

    /// <summary>Tight bounding box (x0, y0, x1, y1), exclusive upper bounds; null for an empty mask.</summary>
    public (int X0, int Y0, int X1, int Y1)? BoundingBox()
    {
        int x0 = Width, y0 = Height, x1 = -1, y1 = -1;
        for (int y = 0; y < Height; y++)
            for (int x = 0; x < Width; x++)
                if (Data[y * Width + x] != 0)
                {
                    if (x < x0) x0 = x; if (x > x1) x1 = x;
                    if (y < y0) y0 = y; if (y > y1) y1 = y;
                }
        return x1 < 0 ? null : (x0, y0, x1 + 1, y1 + 1);
    }
}
