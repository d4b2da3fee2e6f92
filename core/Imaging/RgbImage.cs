namespace MaskInversion.Core.Imaging;

/// <summary>A decoded image: 8-bit RGB, row-major, interleaved (R, G, B per pixel), upright (EXIF applied).</summary>
public sealed class RgbImage
{
    public int Width { get; }
    public int Height { get; }
    /// <summary>Width × Height × 3 bytes.</summary>
    public byte[] Pixels { get; }

    public RgbImage(int width, int height, byte[] pixels)
    {
        if (width <= 0 || height <= 0) throw new ArgumentOutOfRangeException(nameof(width), $"Image size {width}×{height} is empty.");
        if (pixels.Length != checked(width * height * 3))
            throw new ArgumentException($"Expected {width * height * 3} bytes for a {width}×{height} RGB image, got {pixels.Length}.");
        (Width, Height, Pixels) = (width, height, pixels);
    }

    public static RgbImage Filled(int width, int height, byte r, byte g, byte b)
    {
        var px = new byte[width * height * 3];
        for (int i = 0; i < px.Length; i += 3) { px[i] = r; px[i + 1] = g; px[i + 2] = b; }
        return new RgbImage(width, height, px);
    }

    public RgbImage Clone() => new(Width, Height, (byte[])Pixels.Clone());
}
