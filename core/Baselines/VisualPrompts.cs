using System.Runtime.InteropServices;
using MaskInversion.Core.Imaging;
using SkiaSharp;

namespace MaskInversion.Core.Baselines;

/// <summary>
/// The paper's image-space baselines: each turns (image, mask) into a new image that plain CLIP then embeds.
/// Masks of any size are first resized to the image (nearest neighbour). An empty mask leaves the image as is
/// (a crop of nothing, or a prompt around nothing, carries no region to point at).
/// </summary>
public static class VisualPrompts
{
    /// <summary>OpenAI CLIP's mean colour in 8-bit (the "dataset mean" fill of Masked Crop).</summary>
    public static readonly byte[] MeanColor = Preprocessor.OpenAIMean.Select(m => (byte)Math.Round(m * 255)).ToArray();

    /// <summary>The mask's bounding box cut out of the image.</summary>
    public static RgbImage Crop(RgbImage img, BinaryMask mask)
    {
        if (Fit(img, mask).BoundingBox() is not { } b) return img.Clone();
        int w = b.X1 - b.X0, h = b.Y1 - b.Y0;
        var px = new byte[w * h * 3];
        for (int y = 0; y < h; y++)
            Buffer.BlockCopy(img.Pixels, 3 * ((b.Y0 + y) * img.Width + b.X0), px, 3 * y * w, 3 * w);
        return new RgbImage(w, h, px);
    }

    /// <summary>The full image with every pixel outside the mask set to the dataset mean colour.</summary>
    public static RgbImage MaskedCrop(RgbImage img, BinaryMask mask)
    {
        var m = Fit(img, mask);
        var result = img.Clone();
        for (int p = 0; p < m.Data.Length; p++)
            if (m.Data[p] == 0)
            {
                result.Pixels[3 * p] = MeanColor[0]; result.Pixels[3 * p + 1] = MeanColor[1]; result.Pixels[3 * p + 2] = MeanColor[2];
            }
        return result;
    }

    /// <summary>Default stroke of <see cref="RedCircle"/>: 1% of the longer side, at least 2 pixels.</summary>
    public static float DefaultThickness(RgbImage img) => Math.Max(2f, 0.01f * Math.Max(img.Width, img.Height));

    /// <summary>
    /// A pure red (255, 0, 0) anti-aliased ellipse outline inscribed in the mask's bounding box, the stroke centred
    /// on the ellipse (as PIL's <c>ImageDraw.ellipse(bbox, outline="red")</c> in the RedCircle paper).
    /// </summary>
    public static RgbImage RedCircle(RgbImage img, BinaryMask mask, float? thickness = null)
    {
        float t = thickness ?? DefaultThickness(img);
        if (t <= 0) throw new ArgumentOutOfRangeException(nameof(thickness), t, "Thickness must be positive.");
        if (Fit(img, mask).BoundingBox() is not { } b) return img.Clone();
        using var bitmap = ToBitmap(img);
        using (var canvas = new SKCanvas(bitmap))
        using (var paint = new SKPaint { Color = new SKColor(255, 0, 0), IsAntialias = true, Style = SKPaintStyle.Stroke, StrokeWidth = t })
            canvas.DrawOval(new SKRect(b.X0, b.Y0, b.X1, b.Y1), paint);
        return FromBitmap(bitmap);
    }

    /// <summary>Default blur of <see cref="BlurOutside"/>: σ = 3% of the shorter side, at least 3 pixels.</summary>
    public static float DefaultSigma(RgbImage img) => Math.Max(3f, 0.03f * Math.Min(img.Width, img.Height));

    /// <summary>FGVP-style prompt: the background Gaussian-blurred (σ in pixels, edges clamped), the mask kept sharp.</summary>
    public static RgbImage BlurOutside(RgbImage img, BinaryMask mask, float? sigma = null)
    {
        float s = sigma ?? DefaultSigma(img);
        if (s <= 0) throw new ArgumentOutOfRangeException(nameof(sigma), s, "Sigma must be positive.");
        var m = Fit(img, mask);
        using var source = ToBitmap(img);
        using var blurred = new SKBitmap(source.Info);
        using (var canvas = new SKCanvas(blurred))
        using (var filter = SKImageFilter.CreateBlur(s, s, SKShaderTileMode.Clamp))
        using (var paint = new SKPaint { ImageFilter = filter })
        {
            canvas.Clear(SKColors.Black);
            canvas.DrawBitmap(source, 0, 0, SKSamplingOptions.Default, paint);
        }
        var result = FromBitmap(blurred);
        for (int p = 0; p < m.Data.Length; p++)
            if (m.Data[p] != 0)
                Buffer.BlockCopy(img.Pixels, 3 * p, result.Pixels, 3 * p, 3);
        return result;
    }

    static BinaryMask Fit(RgbImage img, BinaryMask mask)
        => mask.Width == img.Width && mask.Height == img.Height ? mask : MaskLoader.Resize(mask, img.Width, img.Height);

    static SKBitmap ToBitmap(RgbImage img)
    {
        var bitmap = new SKBitmap(new SKImageInfo(img.Width, img.Height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        var rgba = PngWriter.ToRgba(img);
        if (bitmap.RowBytes == img.Width * 4) Marshal.Copy(rgba, 0, bitmap.GetPixels(), rgba.Length);
        else
            for (int y = 0; y < img.Height; y++)
                Marshal.Copy(rgba, y * img.Width * 4, bitmap.GetPixels() + y * bitmap.RowBytes, img.Width * 4);
        return bitmap;
    }

    static RgbImage FromBitmap(SKBitmap bitmap)
    {
        int w = bitmap.Width, h = bitmap.Height;
        var rgba = new byte[w * h * 4];
        for (int y = 0; y < h; y++) Marshal.Copy(bitmap.GetPixels() + y * bitmap.RowBytes, rgba, y * w * 4, w * 4);
        return PngWriter.FromRgba(w, h, rgba);
    }
}
