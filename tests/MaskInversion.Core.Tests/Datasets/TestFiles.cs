using MaskInversion.Core.Imaging;
using SkiaSharp;

namespace MaskInversion.Core.Tests.Datasets;

/// <summary>Temporary folders and a minimal PNG mask decoder standing in for the image stack's MaskLoader.</summary>
public sealed class TempDir : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "mi-ds-" + Guid.NewGuid().ToString("N"));
    public TempDir() => Directory.CreateDirectory(Path);
    public string File(string name) => System.IO.Path.Combine(Path, name);
    public void Dispose() { try { Directory.Delete(Path, true); } catch (IOException) { } }
}

public static class TestMasks
{
    public static BinaryMask LoadPng(string path)
    {
        using var bmp = SKBitmap.Decode(path) ?? throw new InvalidDataException("Cannot decode " + path);
        var data = new byte[bmp.Width * bmp.Height];
        for (int y = 0; y < bmp.Height; y++)
            for (int x = 0; x < bmp.Width; x++)
                data[y * bmp.Width + x] = bmp.GetPixel(x, y).Red > 127 ? (byte)1 : (byte)0;
        return new BinaryMask(bmp.Width, bmp.Height, data);
    }

    public static BinaryMask Rect(int w, int h, int x0, int y0, int x1, int y1)
    {
        var m = BinaryMask.Empty(w, h);
        for (int y = y0; y < y1; y++) for (int x = x0; x < x1; x++) m.Data[y * w + x] = 1;
        return m;
    }
}
