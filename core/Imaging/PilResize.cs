namespace MaskInversion.Core.Imaging;

/// <summary>
/// Pillow's <c>Image.resize(size, Image.BICUBIC)</c> on 8-bit RGB, reproduced bit for bit (Pillow's
/// libImaging/Resample.c): the reference implementation feeds CLIP through torchvision's <c>Resize</c> on a PIL
/// image, which is this. Separable and antialiased (the kernel widens by the scale when shrinking), a = −0.5;
/// the double-precision weights are normalised per output pixel, then rounded to 22-bit fixed point; each pass
/// (horizontal first, then vertical) rounds and clamps its result to 8 bits. A pass whose size does not change
/// is skipped, as Pillow skips it.
/// </summary>
public static class PilResize
{
    /// <summary>Fixed-point fraction bits: 8 bits of pixel, 2 of headroom for the kernel's negative lobes.</summary>
    const int PrecisionBits = 32 - 8 - 2;
    const double Support = 2.0;

    public static RgbImage Bicubic(RgbImage source, int width, int height)
    {
        if (width <= 0 || height <= 0) throw new ArgumentOutOfRangeException(nameof(width), $"Target size {width}×{height} is empty.");
        if (width == source.Width && height == source.Height) return source.Clone();

        var vertical = Coefficients(source.Height, height);
        // Only the rows the vertical pass reads go through the horizontal one.
        int firstRow = vertical.Bounds[0];
        int lastRow = vertical.Bounds[2 * (height - 1)] + vertical.Bounds[2 * (height - 1) + 1];

        byte[] pixels = source.Pixels;
        int rows = source.Height, rowOffset = 0;
        if (width != source.Width)
        {
            pixels = Horizontal(source.Pixels, source.Width, firstRow, lastRow - firstRow, width, Coefficients(source.Width, width));
            rows = lastRow - firstRow;
            rowOffset = firstRow;
        }
        if (height == source.Height) return new RgbImage(width, rows, pixels);
        return new RgbImage(width, height, Vertical(pixels, width, rowOffset, height, vertical));
    }

    /// <summary>Per output index: the first input index, the number of taps, and <paramref name="Taps"/> fixed-point
    /// weights (row-major, stride <see cref="Stride"/>).</summary>
    sealed record Kernel(int[] Bounds, int[] Taps, int Stride);

    static Kernel Coefficients(int inSize, int outSize)
    {
        // Pillow computes the span in float (box corners), then the scale in double.
        double scale = (double)((float)inSize - 0f) / outSize;
        double filterScale = Math.Max(scale, 1.0);
        double support = Support * filterScale;
        int stride = (int)Math.Ceiling(support) * 2 + 1;
        var bounds = new int[2 * outSize];
        var taps = new int[outSize * stride];
        var weights = new double[stride];
        for (int xx = 0; xx < outSize; xx++)
        {
            double center = 0f + (xx + 0.5) * scale;
            double ww = 0.0, ss = 1.0 / filterScale;
            int xmin = (int)(center - support + 0.5);
            if (xmin < 0) xmin = 0;
            int xmax = (int)(center + support + 0.5);
            if (xmax > inSize) xmax = inSize;
            xmax -= xmin;
            for (int x = 0; x < xmax; x++)
            {
                double w = Cubic((x + xmin - center + 0.5) * ss);
                weights[x] = w;
                ww += w;
            }
            for (int x = 0; x < xmax; x++)
            {
                if (ww != 0.0) weights[x] /= ww;
                double fixedPoint = weights[x] * (1 << PrecisionBits);
                taps[xx * stride + x] = (int)(weights[x] < 0 ? -0.5 + fixedPoint : 0.5 + fixedPoint);
            }
            bounds[2 * xx] = xmin;
            bounds[2 * xx + 1] = xmax;
        }
        return new Kernel(bounds, taps, stride);
    }

    /// <summary>Keys' cubic with a = −0.5, evaluated in Pillow's operation order.</summary>
    static double Cubic(double x)
    {
        const double a = -0.5;
        if (x < 0.0) x = -x;
        if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
        if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
        return 0.0;
    }

    /// <summary>Rounds a fixed-point sum to 8 bits (floor of the biased sum, clamped).</summary>
    static byte Clip8(int sum) => (byte)Math.Clamp(sum >> PrecisionBits, 0, 255);

    static byte[] Horizontal(byte[] src, int srcWidth, int firstRow, int rows, int width, Kernel k)
    {
        var dst = new byte[checked(rows * width * 3)];
        for (int y = 0; y < rows; y++)
        {
            int srcRow = (y + firstRow) * srcWidth * 3, dstRow = y * width * 3;
            for (int xx = 0; xx < width; xx++)
            {
                int xmin = k.Bounds[2 * xx], n = k.Bounds[2 * xx + 1], t = xx * k.Stride;
                int r = 1 << (PrecisionBits - 1), g = r, b = r;
                for (int x = 0; x < n; x++)
                {
                    int p = srcRow + (xmin + x) * 3, w = k.Taps[t + x];
                    r += src[p] * w; g += src[p + 1] * w; b += src[p + 2] * w;
                }
                int o = dstRow + xx * 3;
                dst[o] = Clip8(r); dst[o + 1] = Clip8(g); dst[o + 2] = Clip8(b);
            }
        }
        return dst;
    }

    /// <param name="rowOffset">Source row of <paramref name="src"/>'s first row (the horizontal pass may have dropped rows above).</param>
    static byte[] Vertical(byte[] src, int width, int rowOffset, int height, Kernel k)
    {
        var dst = new byte[checked(height * width * 3)];
        int stride = width * 3;
        for (int yy = 0; yy < height; yy++)
        {
            int ymin = k.Bounds[2 * yy] - rowOffset, n = k.Bounds[2 * yy + 1], t = yy * k.Stride, dstRow = yy * stride;
            for (int i = 0; i < stride; i++)
            {
                int sum = 1 << (PrecisionBits - 1);
                for (int y = 0; y < n; y++) sum += src[(ymin + y) * stride + i] * k.Taps[t + y];
                dst[dstRow + i] = Clip8(sum);
            }
        }
        return dst;
    }
}
