using System.Buffers.Binary;
using System.IO.Compression;
using System.Runtime.InteropServices;
using System.Text;
using MaskInversion.Core.Imaging;
using SkiaSharp;

namespace MaskInversion.Core.Tests.Imaging;

/// <summary>Builds encoded test images in memory, including modes SkiaSharp cannot write (16-bit, palette, EXIF).</summary>
static class TestImages
{
    public static byte[] Jpeg(RgbImage img, int quality = 95) => Encode(img, SKEncodedImageFormat.Jpeg, quality);

    public static byte[] Encode(RgbImage img, SKEncodedImageFormat format, int quality)
    {
        var rgba = PngWriter.ToRgba(img);
        var info = new SKImageInfo(img.Width, img.Height, SKColorType.Rgba8888, SKAlphaType.Opaque);
        var pin = GCHandle.Alloc(rgba, GCHandleType.Pinned);
        try
        {
            using var pixmap = new SKPixmap(info, pin.AddrOfPinnedObject(), info.RowBytes);
            using var data = pixmap.Encode(format, quality)!;
            return data.ToArray();
        }
        finally { pin.Free(); }
    }

    /// <summary>Inserts a minimal big-endian EXIF APP1 segment holding only the Orientation tag right after SOI.</summary>
    public static byte[] WithExifOrientation(byte[] jpeg, ushort orientation)
    {
        Assert.True(jpeg[0] == 0xFF && jpeg[1] == 0xD8, "not a JPEG");
        var tiff = new List<byte>();
        tiff.AddRange("MM"u8.ToArray()); tiff.AddRange([0x00, 0x2A, 0, 0, 0, 8]); // header, IFD0 at offset 8
        tiff.AddRange([0, 1]);                                                    // one entry
        tiff.AddRange([0x01, 0x12, 0, 3, 0, 0, 0, 1]);                           // Orientation, SHORT, count 1
        tiff.AddRange([(byte)(orientation >> 8), (byte)orientation, 0, 0]);      // value, padded
        tiff.AddRange([0, 0, 0, 0]);                                             // no next IFD
        var payload = "Exif\0\0"u8.ToArray().Concat(tiff).ToArray();
        int len = payload.Length + 2;
        var segment = new byte[] { 0xFF, 0xE1, (byte)(len >> 8), (byte)len }.Concat(payload);
        return jpeg.Take(2).Concat(segment).Concat(jpeg.Skip(2)).ToArray();
    }

    /// <summary>A PNG from raw (unfiltered) scanlines; colour type 0 gray, 2 RGB, 3 palette, 6 RGBA.</summary>
    public static byte[] Png(int width, int height, byte bitDepth, byte colorType, byte[] rows, byte[]? palette = null, byte[]? trns = null)
    {
        int channels = colorType switch { 0 => 1, 2 => 3, 3 => 1, 4 => 2, 6 => 4, _ => throw new ArgumentException("colour type") };
        int stride = (width * channels * bitDepth + 7) / 8;
        Assert.Equal(stride * height, rows.Length);
        using var raw = new MemoryStream();
        using (var z = new ZLibStream(raw, CompressionLevel.Fastest, leaveOpen: true))
            for (int y = 0; y < height; y++) { z.WriteByte(0); z.Write(rows, y * stride, stride); }
        return PngChunks(width, height, bitDepth, colorType, raw.ToArray(), palette, trns);
    }

    /// <summary>An 8-bit gray (colour type 0) or RGB (2) PNG whose unfiltered rows come from <paramref name="row"/>(y) and are
    /// compressed as they come, so a huge image costs only its compressed size to make.</summary>
    public static byte[] PngRows(int width, int height, bool gray, Func<int, byte[]> row)
    {
        using var raw = new MemoryStream();
        using (var z = new ZLibStream(raw, CompressionLevel.Fastest, leaveOpen: true))
            for (int y = 0; y < height; y++) { z.WriteByte(0); z.Write(row(y)); }
        return PngChunks(width, height, 8, gray ? (byte)0 : (byte)2, raw.ToArray(), null, null);
    }

    /// <summary>A PNG whose header claims a (huge) size but carries only one row of data: a decompression-bomb stand-in.</summary>
    public static byte[] PngHeaderOnly(int width, int height)
    {
        using var raw = new MemoryStream();
        using (var z = new ZLibStream(raw, CompressionLevel.Fastest, leaveOpen: true)) z.Write(new byte[1 + (width + 7) / 8]);
        return PngChunks(width, height, 1, 0, raw.ToArray(), null, null);
    }

    static byte[] PngChunks(int width, int height, byte bitDepth, byte colorType, byte[] idat, byte[]? palette, byte[]? trns)
    {

        using var png = new MemoryStream();
        png.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = bitDepth; ihdr[9] = colorType;
        Chunk(png, "IHDR", ihdr);
        if (palette is not null) Chunk(png, "PLTE", palette);
        if (trns is not null) Chunk(png, "tRNS", trns);
        Chunk(png, "IDAT", idat);
        Chunk(png, "IEND", []);
        return png.ToArray();
    }

    static void Chunk(Stream s, string type, byte[] data)
    {
        var head = new byte[8];
        BinaryPrimitives.WriteInt32BigEndian(head, data.Length);
        Encoding.ASCII.GetBytes(type, head.AsSpan(4));
        s.Write(head);
        s.Write(data);
        var crc = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(crc, Crc32(head.AsSpan(4).ToArray().Concat(data).ToArray()));
        s.Write(crc);
    }

    static uint Crc32(byte[] bytes)
    {
        uint c = 0xFFFFFFFF;
        foreach (var b in bytes)
        {
            c ^= b;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320 ^ (c >> 1) : c >> 1;
        }
        return ~c;
    }

    /// <summary>A textured image (every pixel distinct enough that blurring changes it).</summary>
    public static RgbImage Checker(int width, int height, int cell = 4)
    {
        var px = new byte[width * height * 3];
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
            {
                byte v = ((x / cell + y / cell) & 1) == 0 ? (byte)230 : (byte)20;
                int i = 3 * (y * width + x);
                px[i] = v; px[i + 1] = (byte)(255 - v); px[i + 2] = (byte)(x * 255 / Math.Max(1, width - 1));
            }
        return new RgbImage(width, height, px);
    }

    /// <summary>A mask that is 1 inside the rectangle [x0, x1) × [y0, y1).</summary>
    public static BinaryMask Rect(int width, int height, int x0, int y0, int x1, int y1)
    {
        var d = new byte[width * height];
        for (int y = y0; y < y1; y++) for (int x = x0; x < x1; x++) d[y * width + x] = 1;
        return new BinaryMask(width, height, d);
    }

    public static BinaryMask Disk(int width, int height, double cx, double cy, double r)
    {
        var d = new byte[width * height];
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
                if ((x - cx) * (x - cx) + (y - cy) * (y - cy) <= r * r) d[y * width + x] = 1;
        return new BinaryMask(width, height, d);
    }

    public static string TempFile(byte[] content, string name)
    {
        var dir = Directory.CreateTempSubdirectory("mi-imaging-");
        var path = Path.Combine(dir.FullName, name);
        File.WriteAllBytes(path, content);
        return path;
    }
}
