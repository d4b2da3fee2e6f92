using SkiaSharp;

namespace MaskInversion.Core.Imaging;

/// <summary>PNG encoding of images, masks and heat-map overlays (debug output, dashboards, tests).</summary>
public static class PngWriter
{
    public static byte[] Encode(RgbImage img) => EncodeRgba(img.Width, img.Height, ToRgba(img));

    /// <summary>The mask as an 8-bit-looking black/white image (0 / 255).</summary>
    public static byte[] Encode(BinaryMask m)
    {
        var rgba = new byte[m.Width * m.Height * 4];
        for (int p = 0; p < m.Data.Length; p++)
        {
            byte v = m.Data[p] != 0 ? (byte)255 : (byte)0;
            rgba[4 * p] = rgba[4 * p + 1] = rgba[4 * p + 2] = v;
            rgba[4 * p + 3] = 255;
        }
        return EncodeRgba(m.Width, m.Height, rgba);
    }

    /// <summary>
    /// A heat map (row-major width × height values, clamped to [0, 1]) in the jet colour map; with a
    /// background image the map is resized bilinearly to it and blended with weight <paramref name="opacity"/>.
    /// </summary>
    public static byte[] EncodeHeatMap(float[] values, int width, int height, RgbImage? background = null, float opacity = 0.5f)
    {
        if (values.Length != width * height)
            throw new ArgumentException($"Expected {width * height} values for a {width}×{height} map, got {values.Length}.");
        if (opacity is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(opacity), opacity, "Opacity must be in [0, 1].");
        int ow = background?.Width ?? width, oh = background?.Height ?? height;
        var rgba = new byte[ow * oh * 4];
        for (int y = 0; y < oh; y++)
            for (int x = 0; x < ow; x++)
            {
                float v = ow == width && oh == height ? values[y * width + x] : Sample(values, width, height, x, y, ow, oh);
                var (r, g, b) = Jet(float.IsNaN(v) ? 0 : Math.Clamp(v, 0f, 1f));
                int p = y * ow + x, i = 4 * p;
                if (background is null) { rgba[i] = r; rgba[i + 1] = g; rgba[i + 2] = b; }
                else
                {
                    var px = background.Pixels;
                    rgba[i] = Blend(px[3 * p], r, opacity);
                    rgba[i + 1] = Blend(px[3 * p + 1], g, opacity);
                    rgba[i + 2] = Blend(px[3 * p + 2], b, opacity);
                }
                rgba[i + 3] = 255;
            }
        return EncodeRgba(ow, oh, rgba);
    }

    public static void Save(RgbImage img, string path) => File.WriteAllBytes(path, Encode(img));
    public static void Save(BinaryMask m, string path) => File.WriteAllBytes(path, Encode(m));
    public static void SaveHeatMap(float[] values, int width, int height, string path, RgbImage? background = null, float opacity = 0.5f)
        => File.WriteAllBytes(path, EncodeHeatMap(values, width, height, background, opacity));

    /// <summary>The classic jet map: blue → cyan → yellow → red (piecewise linear, as matplotlib's).</summary>
    internal static (byte R, byte G, byte B) Jet(float v)
    {
        static byte C(float t) => (byte)Math.Round(255 * Math.Clamp(t, 0f, 1f));
        return (C(1.5f - Math.Abs(4 * v - 3)), C(1.5f - Math.Abs(4 * v - 2)), C(1.5f - Math.Abs(4 * v - 1)));
    }

    static byte Blend(byte under, byte over, float opacity) => (byte)Math.Round(under * (1 - opacity) + over * opacity);

    /// <summary>Bilinear sample (align_corners false) of the map at output pixel (x, y) of an ow × oh grid.</summary>
    static float Sample(float[] v, int w, int h, int x, int y, int ow, int oh)
    {
        float fx = Math.Clamp((x + 0.5f) * w / ow - 0.5f, 0, w - 1), fy = Math.Clamp((y + 0.5f) * h / oh - 0.5f, 0, h - 1);
        int x0 = (int)fx, y0 = (int)fy, x1 = Math.Min(x0 + 1, w - 1), y1 = Math.Min(y0 + 1, h - 1);
        float ax = fx - x0, ay = fy - y0;
        float top = v[y0 * w + x0] * (1 - ax) + v[y0 * w + x1] * ax;
        float bottom = v[y1 * w + x0] * (1 - ax) + v[y1 * w + x1] * ax;
        return top * (1 - ay) + bottom * ay;
    }

    internal static byte[] ToRgba(RgbImage img)
    {
        var rgba = new byte[img.Width * img.Height * 4];
        var px = img.Pixels;
        for (int i = 0, j = 0; j < px.Length; i += 4, j += 3)
        {
            rgba[i] = px[j]; rgba[i + 1] = px[j + 1]; rgba[i + 2] = px[j + 2]; rgba[i + 3] = 255;
        }
        return rgba;
    }

    internal static RgbImage FromRgba(int width, int height, ReadOnlySpan<byte> rgba)
    {
        var rgb = new byte[width * height * 3];
        for (int i = 0, j = 0; j < rgb.Length; i += 4, j += 3)
        {
            rgb[j] = rgba[i]; rgb[j + 1] = rgba[i + 1]; rgb[j + 2] = rgba[i + 2];
        }
        return new RgbImage(width, height, rgb);
    }

    static byte[] EncodeRgba(int width, int height, byte[] rgba)
    {
        var info = new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        unsafe
        {
            fixed (byte* p = rgba)
            {
                using var pixmap = new SKPixmap(info, (IntPtr)p, info.RowBytes);
                using var data = pixmap.Encode(SKEncodedImageFormat.Png, 100)
                    ?? throw new InvalidOperationException($"PNG encoding of a {width}×{height} image failed.");
                return data.ToArray();
            }
        }
    }
}
