using SkiaSharp;

namespace MaskInversion.Core.Imaging;

/// <summary>
/// Decodes JPEG / PNG / WebP / BMP / GIF (first frame) into upright 8-bit RGB, the way PIL's
/// <c>Image.open(p).convert("RGB")</c> after <c>exif_transpose</c> does: no colour management,
/// alpha dropped (not composited), EXIF orientation applied.
/// </summary>
public static class ImageLoader
{
    const string Formats = "JPEG, PNG, WebP, BMP";

    public static RgbImage Load(string path, ImageLoadOptions? options = null)
        => Load(ReadFile(path), path, options);

    public static RgbImage Load(byte[] data, string nameForErrors, ImageLoadOptions? options = null)
    {
        var (w, h, rgba) = DecodeRgba(data, nameForErrors, options);
        var rgb = new byte[checked(w * h * 3)];
        for (int i = 0, j = 0; j < rgb.Length; i += 4, j += 3)
        {
            rgb[j] = rgba[i]; rgb[j + 1] = rgba[i + 1]; rgb[j + 2] = rgba[i + 2];
        }
        return new RgbImage(w, h, rgb);
    }

    /// <summary>Reads a whole file, turning I/O failures into <see cref="ImageLoadException"/>s that name it.</summary>
    internal static byte[] ReadFile(string path)
    {
        if (!File.Exists(path)) throw new ImageLoadException(path, $"Image file '{path}' does not exist.");
        byte[] data;
        try { data = File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ImageLoadException(path, $"Cannot read image file '{path}': {e.Message}", e);
        }
        if (data.Length == 0) throw new ImageLoadException(path, $"Image file '{path}' is empty.");
        return data;
    }

    /// <summary>
    /// Decodes to unpremultiplied RGBA8888 with no colour-space conversion, EXIF orientation applied.
    /// Shared with <see cref="MaskLoader"/>, which needs the alpha channel.
    /// </summary>
    internal static (int Width, int Height, byte[] Rgba) DecodeRgba(byte[] data, string name, ImageLoadOptions? options)
    {
        options ??= ImageLoadOptions.Default;
        if (data.Length == 0) throw new ImageLoadException(name, $"Image file '{name}' is empty.");

        // The codec takes ownership of the stream (freed natively even when creation fails).
        using var codec = SKCodec.Create(new SKMemoryStream(data), out var createResult);
        if (codec is null)
            // Skia also says "incomplete" for any input shorter than its sniffing window, text included,
            // so only a recognised signature makes it a truncated image.
            throw createResult == SKCodecResult.IncompleteInput && HasImageSignature(data)
                ? new ImageLoadException(name, $"Image file '{name}' is truncated (its header is incomplete).")
                : new ImageLoadException(name, $"'{name}' is not a recognised image ({Formats}).");

        int w = codec.Info.Width, h = codec.Info.Height;
        long pixels = (long)w * h;
        // Checked from the header before allocating or decoding anything: decompression bombs stop here.
        if (pixels > options.MaxPixels)
            throw new ImageLoadException(name,
                $"Image '{name}' is {w}×{h} = {pixels:N0} pixels, over the limit of {options.MaxPixels:N0}.");
        if (w <= 0 || h <= 0) throw new ImageLoadException(name, $"Image '{name}' has an empty size {w}×{h}.");
        if (pixels * 4 > Array.MaxLength)
            throw new ImageLoadException(name, $"Image '{name}' is {w}×{h}, too large to decode into memory.");

        // Null colour space: pixel values pass through untouched, as PIL does (it ignores ICC profiles).
        var info = new SKImageInfo(w, h, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var rgba = new byte[pixels * 4];
        SKCodecResult result;
        unsafe
        {
            fixed (byte* p = rgba)
                result = codec.GetPixels(info, (IntPtr)p, info.RowBytes, new SKCodecOptions(0));
        }
        switch (result)
        {
            case SKCodecResult.Success:
                break;
            case SKCodecResult.IncompleteInput:
                throw new ImageLoadException(name, $"Image file '{name}' is truncated: the decoder ran out of data.");
            case SKCodecResult.ErrorInInput:
                throw new ImageLoadException(name, $"Image file '{name}' is corrupt: the decoder found invalid data.");
            default:
                throw new ImageLoadException(name, $"Image '{name}' could not be decoded ({result}).");
        }
        return Orient(rgba, w, h, codec.EncodedOrigin);
    }

    static bool HasImageSignature(ReadOnlySpan<byte> d) =>
        d.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xD8, 0xFF])                                    // JPEG
        || d.StartsWith((ReadOnlySpan<byte>)[0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])   // PNG
        || d.StartsWith("GIF8"u8)
        || d.StartsWith("BM"u8)
        || (d.StartsWith("RIFF"u8) && (d.Length < 12 || d[8..12].SequenceEqual("WEBP"u8)));

    /// <summary>
    /// Applies an EXIF orientation so the result is upright. For each output pixel (x, y) this picks the
    /// stored pixel the orientation tag says belongs there (the same mapping as PIL's exif_transpose).
    /// </summary>
    internal static (int Width, int Height, byte[] Rgba) Orient(byte[] rgba, int w, int h, SKEncodedOrigin origin)
    {
        if (origin is SKEncodedOrigin.TopLeft || (int)origin < 1 || (int)origin > 8) return (w, h, rgba);
        bool swap = (int)origin >= 5;
        int ow = swap ? h : w, oh = swap ? w : h;
        var result = new byte[rgba.Length];
        // One RGBA pixel is one uint: move whole pixels.
        var src = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, uint>(rgba);
        var dst = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, uint>(result.AsSpan());
        for (int y = 0; y < oh; y++)
            for (int x = 0; x < ow; x++)
            {
                var (sx, sy) = origin switch
                {
                    SKEncodedOrigin.TopRight => (w - 1 - x, y),              // 2: mirrored horizontally
                    SKEncodedOrigin.BottomRight => (w - 1 - x, h - 1 - y),   // 3: rotated 180°
                    SKEncodedOrigin.BottomLeft => (x, h - 1 - y),            // 4: mirrored vertically
                    SKEncodedOrigin.LeftTop => (y, x),                       // 5: transposed
                    SKEncodedOrigin.RightTop => (y, h - 1 - x),              // 6: needs 90° clockwise
                    SKEncodedOrigin.RightBottom => (w - 1 - y, h - 1 - x),   // 7: transversed
                    _ => (w - 1 - y, x),                                     // 8: needs 90° counter-clockwise
                };
                dst[y * ow + x] = src[sy * w + sx];
            }
        return (ow, oh, result);
    }
}
