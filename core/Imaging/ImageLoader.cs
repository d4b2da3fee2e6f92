using SkiaSharp;

namespace MaskInversion.Core.Imaging;

/// <summary>
/// Decodes JPEG / PNG / WebP / BMP / GIF (first frame) into upright 8-bit RGB, the way PIL's
/// <c>Image.open(p).convert("RGB")</c> after <c>exif_transpose</c> does: no colour management,
/// alpha dropped (not composited), EXIF orientation applied. Images larger than
/// <see cref="ImageLoadOptions.MaxSide"/> are decoded straight to that size (see there); every failure about the
/// file itself is an <see cref="ImageLoadException"/> (an <see cref="ItemDataException"/>) naming it.
/// </summary>
public static class ImageLoader
{
    const string Formats = "JPEG, PNG, WebP, BMP";

    public static RgbImage Load(string path, ImageLoadOptions? options = null)
        => Load(ReadFile(path, options), path, options);

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

    /// <summary>Reads a whole file once <see cref="ImageLoadOptions.Paths"/> allows it. A missing, unreadable, empty or
    /// oversized file is an <see cref="ImageLoadException"/> naming it; any other I/O error (a failing disk or network
    /// mount) is the infrastructure's and propagates as is, to be retried.</summary>
    internal static byte[] ReadFile(string path, ImageLoadOptions? options = null)
    {
        options ??= ImageLoadOptions.Default;
        var resolved = options.Paths.Resolve(path, what: "image");
        try
        {
            using var file = new FileStream(resolved, FileMode.Open, FileAccess.Read, FileShare.Read, 1);
            if (file.Length == 0) throw new ImageLoadException(path, $"Image file '{path}' is empty.");
            if (file.Length > options.MaxFileBytes)
                throw new ImageLoadException(path, $"Image file '{path}' is {file.Length:N0} bytes, over the limit of {options.MaxFileBytes:N0}.");
            var data = new byte[file.Length];
            file.ReadExactly(data);
            return data;
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new ImageLoadException(path, $"Image file '{path}' does not exist.", e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new ImageLoadException(path, $"Cannot read image file '{path}': {e.Message}", e);
        }
        catch (EndOfStreamException e)
        {
            throw new ImageLoadException(path, $"Image file '{path}' shrank while it was read.", e);
        }
    }

    /// <summary>
    /// Decodes to unpremultiplied RGBA8888 with no colour-space conversion, EXIF orientation applied.
    /// Shared with <see cref="MaskLoader"/>, which needs the alpha channel.
    /// </summary>
    internal static (int Width, int Height, byte[] Rgba) DecodeRgba(byte[] data, string name, ImageLoadOptions? options)
    {
        options ??= ImageLoadOptions.Default;
        options.Validate();
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

        var (tw, th) = TargetSize(w, h, options.MaxSide);
        var (ow, oh, rgba) = tw == w && th == h ? (w, h, DecodeWhole(codec, w, h, name))
            : DecodeDownscaled(codec, w, h, tw, th, name);
        return Orient(rgba, ow, oh, codec.EncodedOrigin);
    }

    /// <summary>The decoded size: the stored size, or its longer side brought down to <paramref name="maxSide"/>.</summary>
    public static (int Width, int Height) TargetSize(int width, int height, int maxSide)
    {
        int longer = Math.Max(width, height);
        if (longer <= maxSide) return (width, height);
        double scale = (double)maxSide / longer;
        return (Math.Max(1, (int)Math.Round(width * scale)), Math.Max(1, (int)Math.Round(height * scale)));
    }

    static byte[] DecodeWhole(SKCodec codec, int w, int h, string name)
    {
        var rgba = new byte[(long)w * h * 4];
        unsafe
        {
            fixed (byte* p = rgba) DecodeTo(codec, w, h, p, name);
        }
        return rgba;
    }

    static unsafe void DecodeTo(SKCodec codec, int w, int h, byte* destination, string name)
    {
        // Null colour space: pixel values pass through untouched, as PIL does (it ignores ICC profiles).
        var info = new SKImageInfo(w, h, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        ThrowUnlessSuccess(codec.GetPixels(info, (IntPtr)destination, info.RowBytes, new SKCodecOptions(0)), name);
    }

    /// <summary>Decodes to (tw, th). JPEG decodes at the smallest k/8 DCT scale not below the target, so a 9000-pixel
    /// photo is never whole in memory. Formats the decoder cannot scale (PNG: this Skia build decodes it only whole,
    /// row-by-row decoding is unimplemented) are decoded whole — still under MaxPixels — into native memory, which is
    /// unmapped the moment the rows are averaged down, instead of a managed array the GC would hold on to.</summary>
    static unsafe (int Width, int Height, byte[] Rgba) DecodeDownscaled(SKCodec codec, int w, int h, int tw, int th, string name)
    {
        var scaled = codec.GetScaledDimensions((float)Math.Max((double)tw / w, (double)th / h));
        var (dw, dh) = scaled.Width >= tw && scaled.Height >= th && (long)scaled.Width * scaled.Height < (long)w * h
            ? (scaled.Width, scaled.Height) : (w, h);
        if (dw == tw && dh == th) return (tw, th, DecodeWhole(codec, dw, dh, name));
        long rowBytes = (long)dw * 4;
        byte* buffer = (byte*)System.Runtime.InteropServices.NativeMemory.Alloc((nuint)(rowBytes * dh));
        try
        {
            DecodeTo(codec, dw, dh, buffer, name);
            var averager = new RowAverager(dw, dh, tw, th);
            for (int y = 0; y < dh; y++) averager.Add(y, new ReadOnlySpan<byte>(buffer + y * rowBytes, (int)rowBytes));
            return (tw, th, averager.Result());
        }
        finally
        {
            System.Runtime.InteropServices.NativeMemory.Free(buffer);
        }
    }

    /// <summary>Box downscaling fed one source row at a time, in order: each source pixel adds into the
    /// output pixel whose box holds it (boxes ⌊x·tw/w⌋, ⌊y·th/h⌋) and each output pixel is the mean of its box. Only
    /// one output row is accumulated at a time.</summary>
    sealed class RowAverager
    {
        readonly int w, h, tw, th;
        readonly int[] column;         // source x → output x
        readonly int[] rows, columns;  // source rows / columns per output row / column
        readonly long[] sums;          // the output row being accumulated, (tw, 4)
        readonly byte[] result;
        int current = -1;

        public RowAverager(int w, int h, int tw, int th)
        {
            (this.w, this.h, this.tw, this.th) = (w, h, tw, th);
            column = new int[w];
            columns = new int[tw];
            rows = new int[th];
            for (int x = 0; x < w; x++) columns[column[x] = (int)((long)x * tw / w)]++;
            for (int y = 0; y < h; y++) rows[(int)((long)y * th / h)]++;
            sums = new long[tw * 4];
            result = new byte[(long)tw * th * 4];
        }

        public void Add(int y, ReadOnlySpan<byte> row)
        {
            int target = (int)((long)y * th / h);
            if (target != current) { Flush(); current = target; }
            for (int x = 0; x < w; x++)
            {
                int d = column[x] * 4, s = x * 4;
                sums[d] += row[s]; sums[d + 1] += row[s + 1]; sums[d + 2] += row[s + 2]; sums[d + 3] += row[s + 3];
            }
        }

        void Flush()
        {
            if (current < 0) return;
            long o = (long)current * tw * 4;
            for (int x = 0, i = 0; x < tw; x++)
            {
                long n = (long)rows[current] * columns[x];
                for (int c = 0; c < 4; c++, i++) result[o + i] = (byte)((sums[i] + n / 2) / n);
            }
            Array.Clear(sums);
        }

        public byte[] Result()
        {
            Flush();
            current = -1;
            return result;
        }
    }

    static void ThrowUnlessSuccess(SKCodecResult result, string name)
    {
        switch (result)
        {
            case SKCodecResult.Success:
                return;
            case SKCodecResult.IncompleteInput:
                throw new ImageLoadException(name, $"Image file '{name}' is truncated: the decoder ran out of data.");
            case SKCodecResult.ErrorInInput:
                throw new ImageLoadException(name, $"Image file '{name}' is corrupt: the decoder found invalid data.");
            default:
                throw new ImageLoadException(name, $"Image '{name}' could not be decoded ({result}).");
        }
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
