using TorchSharp;
using static TorchSharp.torch;

namespace MaskInversion.Core.Imaging;

/// <summary>
/// Loads region masks stored as images and converts masks to the loss target.
/// <para>
/// Binarisation rule (any format or mode: 1-bit, 8/16-bit gray, palette, RGB, RGBA; 16-bit values are
/// decoded to 8-bit first):
/// </para>
/// <list type="number">
/// <item>If the alpha channel varies (not every pixel has the same alpha), the mask is <c>alpha &gt; 127</c>:
/// the region is what is drawn, whatever its colour.</item>
/// <item>Otherwise the mask is <c>L &gt; threshold</c> (default 127), L being PIL's luminance
/// <c>(299 R + 587 G + 114 B) / 1000</c> (equals the gray value for grayscale files). This covers black/white
/// masks, including RGBA files whose alpha is uniformly opaque (the examples' cat/dog masks).</item>
/// </list>
/// </summary>
public static class MaskLoader
{
    public const int DefaultThreshold = 127;

    public static BinaryMask Load(string path, int? threshold = null, ImageLoadOptions? options = null)
        => Load(ImageLoader.ReadFile(path, options), path, threshold, options);

    public static BinaryMask Load(byte[] data, string nameForErrors, int? threshold = null, ImageLoadOptions? options = null)
    {
        int t = threshold ?? DefaultThreshold;
        if (t is < 0 or > 255) throw new ArgumentOutOfRangeException(nameof(threshold), t, "Threshold must be in 0…255.");
        var (w, h, rgba) = ImageLoader.DecodeRgba(data, nameForErrors, options);
        int n = w * h;
        var mask = new byte[n];

        byte a0 = rgba[3];
        bool alphaVaries = false;
        for (int i = 7; i < rgba.Length && !alphaVaries; i += 4) alphaVaries = rgba[i] != a0;

        if (alphaVaries)
            for (int p = 0; p < n; p++) mask[p] = rgba[4 * p + 3] > 127 ? (byte)1 : (byte)0;
        else
            for (int p = 0; p < n; p++)
            {
                int i = 4 * p;
                int lum = (rgba[i] * 299 + rgba[i + 1] * 587 + rgba[i + 2] * 114) / 1000;
                mask[p] = lum > t ? (byte)1 : (byte)0;
            }
        return new BinaryMask(w, h, mask);
    }

    /// <summary>
    /// The mask as a query for an image of <paramref name="imageWidth"/>×<paramref name="imageHeight"/>: an empty mask
    /// is refused ("mask m is empty": nothing to localise, and scoring it would count a meaningless result); a mask of
    /// another size with the image's aspect ratio is resized (nearest) to the image, as OpenImages' masks are stored
    /// smaller than their images and images may be decoded downscaled; a mask of another aspect ratio belongs to some
    /// other image and is refused, naming both sizes. A full mask is valid. Errors are <see cref="ItemDataException"/>s.
    /// </summary>
    /// <param name="name">The mask's id or path, for messages.</param>
    public static BinaryMask FitToImage(BinaryMask mask, int imageWidth, int imageHeight, string name)
    {
        CheckFitsImage(mask, imageWidth, imageHeight, name);
        if (mask.Width == imageWidth && mask.Height == imageHeight) return mask;
        var fitted = Resize(mask, imageWidth, imageHeight);
        if (fitted.Area == 0)
            throw new ItemDataException(name, $"Mask {name} is empty at its image's size {imageWidth}×{imageHeight} (its {mask.Area} pixel(s) fall between samples).");
        return fitted;
    }

    /// <summary>The checks of <see cref="FitToImage"/> without the resize: the mask selects something and has its
    /// image's aspect ratio. For callers that keep the mask at its own resolution (the inversion's loss target).</summary>
    public static void CheckFitsImage(BinaryMask mask, int imageWidth, int imageHeight, string name)
    {
        if (mask.Area == 0) throw new ItemDataException(name, $"Mask {name} is empty: it selects no pixel.");
        if (mask.Width == imageWidth && mask.Height == imageHeight) return;
        if (!SameAspect(mask.Width, mask.Height, imageWidth, imageHeight))
            throw new ItemDataException(name,
                $"Mask {name} is {mask.Width}×{mask.Height} but its image is {imageWidth}×{imageHeight}: a different aspect ratio, so it cannot be aligned.");
    }

    /// <summary>Same aspect ratio up to rounding: scaling either size to the other's width (or height) misses by at most
    /// one pixel, plus 1 % for sizes that were themselves rounded from a third.</summary>
    static bool SameAspect(int w1, int h1, int w2, int h2)
    {
        static bool Close(double expected, int actual) => Math.Abs(expected - actual) <= 1 + 0.01 * actual;
        return (Close(h2 * (double)w1 / w2, h1) && Close(w2 * (double)h1 / h2, w1))
            || (Close(h1 * (double)w2 / w1, h2) && Close(w1 * (double)h2 / h1, w2));
    }

    /// <summary>Nearest-neighbour resize with pixel-centre alignment (PIL's NEAREST): stays exactly binary.</summary>
    public static BinaryMask Resize(BinaryMask m, int width, int height)
    {
        if (width <= 0 || height <= 0) throw new ArgumentOutOfRangeException(nameof(width), $"Target size {width}×{height} is empty.");
        if (width == m.Width && height == m.Height) return new BinaryMask(width, height, (byte[])m.Data.Clone());
        var xs = new int[width];
        for (int x = 0; x < width; x++) xs[x] = Math.Min(m.Width - 1, (int)((x + 0.5) * m.Width / width));
        var data = new byte[width * height];
        for (int y = 0; y < height; y++)
        {
            int sy = Math.Min(m.Height - 1, (int)((y + 0.5) * m.Height / height));
            int srow = sy * m.Width, drow = y * width;
            for (int x = 0; x < width; x++) data[drow + x] = m.Data[srow + xs[x]];
        }
        return new BinaryMask(width, height, data);
    }

    /// <summary>The loss target at the mask's own resolution, as the reference uses it: the 0/1 mask as float32 (H, W).
    /// The inverter resizes the explainability map to it, never the mask to the map.</summary>
    public static Tensor ToTensor(BinaryMask m)
    {
        using var scope = NewDisposeScope();
        return tensor(m.Data, [m.Height, m.Width]).to_type(ScalarType.Float32).MoveToOuterDisposeScope();
    }
}
