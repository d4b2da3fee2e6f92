using MaskInversion.Core.Datasets;
using MaskInversion.Core.Imaging;

namespace MaskInversion.Cluster.Tests;

/// <summary>
/// Writes a small OpenImages-format dataset (through the core's OpenImagesWriter, so the real reader path is
/// exercised): noise images with a few coloured shapes, one mask per shape, three classes. Optional faults
/// (an undecodable image, a mask file deleted after its row was written) produce per-item errors.
/// </summary>
public static class SyntheticDataset
{
    public static IReadOnlyList<ClassInfo> Classes { get; } =
        [new("/m/cat", "cat"), new("/m/dog", "dog"), new("/m/bird", "bird")];

    public sealed record Info(string Root, string Split, int Images, int Masks, string? CorruptImageId, string? MissingMaskId);

    /// <param name="masksPerImage">Masks on each image (shapes), cycling the classes.</param>
    public static Info Write(string root, int images, int masksPerImage = 2, int seed = 0, bool corruptImage = false, bool missingMask = false,
        int width = 64, int height = 48, string split = "validation")
    {
        var rng = new Random(seed);
        int masks = 0;
        string? corruptId = null, missingId = null;
        using (var writer = new OpenImagesWriter(root, split, Classes))
        {
            for (int i = 0; i < images; i++)
            {
                var id = $"img{i:D4}";
                var pixels = new byte[width * height * 3];
                rng.NextBytes(pixels);
                var shapes = new List<(BinaryMask Mask, ClassInfo Class)>();
                for (int s = 0; s < masksPerImage; s++)
                {
                    var cls = Classes[(i + s) % Classes.Count];
                    var mask = Shape(rng, width, height, ellipse: s % 2 == 1);
                    var colour = ((i + s) % Classes.Count) switch { 0 => (220, 40, 40), 1 => (40, 200, 40), _ => (40, 60, 220) };
                    for (int p = 0; p < mask.Data.Length; p++)
                        if (mask.Data[p] != 0) { pixels[3 * p] = (byte)colour.Item1; pixels[3 * p + 1] = (byte)colour.Item2; pixels[3 * p + 2] = (byte)colour.Item3; }
                    shapes.Add((mask, cls));
                }
                var path = writer.AddImage(id, new RgbImage(width, height, pixels));
                if (corruptImage && i == 1)
                {
                    File.WriteAllBytes(path, "this is not a JPEG"u8.ToArray());
                    corruptId = id;
                }
                for (int s = 0; s < shapes.Count; s++)
                {
                    // Half-resolution masks for odd images: OpenImages masks need not match their image's size.
                    var mask = i % 2 == 1 ? MaskLoader.Resize(shapes[s].Mask, width / 2, height / 2) : shapes[s].Mask;
                    var maskPath = writer.AddMask(id, shapes[s].Class.Id, mask);
                    masks++;
                    if (missingMask && i == 2 && s == 0)
                    {
                        File.Delete(Path.Combine(writer.MasksDirectory, maskPath));
                        missingId = Path.GetFileNameWithoutExtension(maskPath);
                    }
                }
            }
        }
        return new Info(Path.GetFullPath(root), split, images, masks, corruptId, missingId);
    }

    static BinaryMask Shape(Random rng, int w, int h, bool ellipse)
    {
        int bw = rng.Next(w / 4, w / 2), bh = rng.Next(h / 4, h / 2);
        int x0 = rng.Next(0, w - bw), y0 = rng.Next(0, h - bh);
        var data = new byte[w * h];
        double cx = x0 + bw / 2.0, cy = y0 + bh / 2.0;
        for (int y = y0; y < y0 + bh; y++)
            for (int x = x0; x < x0 + bw; x++)
            {
                double dx = (x + 0.5 - cx) / (bw / 2.0), dy = (y + 0.5 - cy) / (bh / 2.0);
                if (!ellipse || dx * dx + dy * dy <= 1) data[y * w + x] = 1;
            }
        return new BinaryMask(w, h, data);
    }
}
