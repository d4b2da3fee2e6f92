using System.Buffers.Binary;
using System.IO.Compression;

namespace MaskInversion.Core.Imaging;

/// <summary>A segmentation label map: one class index per pixel, row-major.</summary>
public sealed class LabelMap
{
    public int Width { get; }
    public int Height { get; }
    public int[] Labels { get; }

    public LabelMap(int width, int height, int[] labels)
    {
        if (labels.Length != checked(width * height)) throw new ArgumentException($"Expected {width * height} labels for {width}×{height}, got {labels.Length}.");
        (Width, Height, Labels) = (width, height, labels);
    }

    /// <summary>The distinct labels present, ascending.</summary>
    public IReadOnlyList<int> Present() => Labels.Distinct().Order().ToArray();

    /// <summary>The pixels with label <paramref name="label"/> as a mask.</summary>
    public BinaryMask MaskOf(int label)
    {
        var data = new byte[Labels.Length];
        for (int i = 0; i < data.Length; i++) data[i] = Labels[i] == label ? (byte)1 : (byte)0;
        return new BinaryMask(Width, Height, data);
    }
}

/// <summary>
/// Reads the raw sample values of a PNG label map: the palette <i>indices</i> of a palette PNG (Pascal VOC's
/// SegmentationClass: index = class, 255 = void), or the gray values of an 8- or 16-bit grayscale PNG (Pascal
/// Context's converted label maps). An image decoder would turn palette indices into colours, so this reads the
/// PNG stream itself (zlib + the five scanline filters). Colour PNGs are refused: their pixels are not indices.
/// </summary>
public static class LabelMapLoader
{
    static ReadOnlySpan<byte> Signature => [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    public static LabelMap Load(string path, ImageLoadOptions? options = null) => Load(ImageLoader.ReadFile(path), path, options);

    public static LabelMap Load(byte[] png, string name, ImageLoadOptions? options = null)
    {
        options ??= ImageLoadOptions.Default;
        if (png.Length < 8 || !png.AsSpan(0, 8).SequenceEqual(Signature))
            throw new ImageLoadException(name, $"Label map '{name}' is not a PNG.");
        int width = 0, height = 0, bitDepth = 0, colorType = -1;
        bool sawHeader = false;
        using var idat = new MemoryStream();
        int pos = 8;
        while (true)
        {
            if (pos + 8 > png.Length) throw new ImageLoadException(name, $"Label map '{name}' is truncated (no IEND chunk).");
            uint length = BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(pos));
            var type = System.Text.Encoding.ASCII.GetString(png, pos + 4, 4);
            if (length > int.MaxValue || pos + 12 + (long)length > png.Length)
                throw new ImageLoadException(name, $"Label map '{name}' is truncated (chunk {type} runs past the end).");
            var data = png.AsSpan(pos + 8, (int)length);
            pos += 12 + (int)length;
            if (type == "IHDR")
            {
                if (data.Length != 13) throw new ImageLoadException(name, $"Label map '{name}' has a malformed IHDR chunk.");
                width = BinaryPrimitives.ReadInt32BigEndian(data);
                height = BinaryPrimitives.ReadInt32BigEndian(data[4..]);
                bitDepth = data[8];
                colorType = data[9];
                if (width <= 0 || height <= 0) throw new ImageLoadException(name, $"Label map '{name}' has an empty size {width}×{height}.");
                if ((long)width * height > options.MaxPixels)
                    throw new ImageLoadException(name, $"Label map '{name}' is {width}×{height} = {(long)width * height:N0} pixels, over the limit of {options.MaxPixels:N0}.");
                if (colorType is not (0 or 3))
                    throw new ImageLoadException(name, $"Label map '{name}' is a {(colorType is 2 or 6 ? "colour" : "gray+alpha")} PNG; label maps must be palette (class = palette index) or grayscale (class = gray value) PNGs.");
                if (colorType == 3 ? bitDepth is not (1 or 2 or 4 or 8) : bitDepth is not (1 or 2 or 4 or 8 or 16))
                    throw new ImageLoadException(name, $"Label map '{name}' has an invalid bit depth {bitDepth} for colour type {colorType}.");
                if (data[12] != 0) throw new ImageLoadException(name, $"Label map '{name}' is interlaced (Adam7); save it non-interlaced.");
                sawHeader = true;
            }
            else if (type == "IDAT") idat.Write(data);
            else if (type == "IEND") break;
        }
        if (!sawHeader) throw new ImageLoadException(name, $"Label map '{name}' has no IHDR chunk.");

        int stride = checked((width * bitDepth + 7) / 8);
        int bytesPerPixel = Math.Max(1, bitDepth / 8);
        var raw = new byte[checked((long)(stride + 1) * height)];
        try
        {
            idat.Position = 0;
            using var z = new ZLibStream(idat, CompressionMode.Decompress);
            int read = z.ReadAtLeast(raw, raw.Length, throwOnEndOfStream: false);
            if (read < raw.Length) throw new ImageLoadException(name, $"Label map '{name}' is truncated: {read} of {raw.Length} bytes of pixel data.");
        }
        catch (InvalidDataException e)
        {
            throw new ImageLoadException(name, $"Label map '{name}' is corrupt: {e.Message}", e);
        }

        var labels = new int[checked(width * height)];
        var previous = new byte[stride];
        var row = new byte[stride];
        for (int y = 0; y < height; y++)
        {
            int offset = y * (stride + 1);
            byte filter = raw[offset];
            raw.AsSpan(offset + 1, stride).CopyTo(row);
            Unfilter(filter, row, previous, bytesPerPixel, name, y);
            for (int x = 0; x < width; x++) labels[y * width + x] = Sample(row, x, bitDepth);
            (previous, row) = (row, previous);
        }
        return new LabelMap(width, height, labels);
    }

    static int Sample(byte[] row, int x, int bitDepth) => bitDepth switch
    {
        8 => row[x],
        16 => row[2 * x] << 8 | row[2 * x + 1],
        _ => row[x * bitDepth / 8] >> (8 - bitDepth - x * bitDepth % 8) & ((1 << bitDepth) - 1),
    };

    static void Unfilter(byte filter, byte[] row, byte[] up, int bpp, string name, int y)
    {
        switch (filter)
        {
            case 0: break;
            case 1: for (int i = bpp; i < row.Length; i++) row[i] += row[i - bpp]; break;
            case 2: for (int i = 0; i < row.Length; i++) row[i] += up[i]; break;
            case 3:
                for (int i = 0; i < row.Length; i++) row[i] += (byte)(((i >= bpp ? row[i - bpp] : 0) + up[i]) >> 1);
                break;
            case 4:
                for (int i = 0; i < row.Length; i++)
                {
                    int a = i >= bpp ? row[i - bpp] : 0, b = up[i], c = i >= bpp ? up[i - bpp] : 0;
                    int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
                    row[i] += (byte)(pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
                }
                break;
            default: throw new ImageLoadException(name, $"Label map '{name}' is corrupt: unknown scanline filter {filter} in row {y}.");
        }
    }
}
