using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using MaskInversion.Core.Synthetic;
using SkiaSharp;

namespace MaskInversion.Core.Tests.Synthetic;

public sealed class SceneDatasetTests : IDisposable
{
    const int Seed = 3, Count = 12;
    readonly string root = Path.Combine(Path.GetTempPath(), "scene-dataset-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
    }

    [Fact]
    public void WritesTheOpenImagesSegmentationLayout()
    {
        var summary = SceneDataset.WriteOpenImages(root, "validation", Count, Seed);
        var scenes = new SceneGenerator(Seed).Generate(0, Count);
        var vocab = SceneVocabulary.Default;

        var lines = File.ReadAllLines(Path.Combine(root, "validation-annotations-object-segmentation.csv"));
        Assert.Equal("MaskPath,ImageID,LabelName,BoxID,BoxXMin,BoxXMax,BoxYMin,BoxYMax,PredictedIoU,Clicks", lines[0]);
        int objects = scenes.Sum(s => s.Objects.Count);
        Assert.Equal(1 + objects, lines.Length);
        Assert.Equal(objects, summary.Objects);

        var classes = File.ReadAllLines(Path.Combine(root, "classes-segmentation.txt"));
        Assert.Equal(Enumerable.Range(0, 36).Select(vocab.LabelName), classes);
        var descriptions = File.ReadAllLines(Path.Combine(root, "class-descriptions-boxable.csv"));
        Assert.Equal(36, descriptions.Length);
        Assert.Contains("/m/syn_red_circle,red circle", descriptions);

        var imageIds = new List<string>();
        int row = 1;
        for (int i = 0; i < Count; i++)
        {
            var scene = scenes[i];
            string imageId = SceneSeed.ImageId(Seed, i);
            Assert.Matches("^[0-9a-f]{16}$", imageId);
            imageIds.Add(imageId);
            CheckJpeg(Path.Combine(root, "validation", "images", imageId + ".jpg"), scene);
            for (int k = 0; k < scene.Objects.Count; k++, row++)
            {
                var o = scene.Objects[k];
                var f = lines[row].Split(',');
                Assert.Equal(10, f.Length);
                Assert.Equal(imageId, f[1]);
                Assert.Equal(vocab.LabelName(o.ClassIndex), f[2]);
                Assert.Contains(f[2], classes);
                Assert.Matches("^[0-9a-f]{8}$", f[3]);
                Assert.Equal($"{imageId}_{f[2].Replace("/", "")}_{f[3]}.png", f[0]);
                Assert.Equal(o.Box.X0 / 224.0, double.Parse(f[4], CultureInfo.InvariantCulture), 5);
                Assert.Equal(o.Box.X1 / 224.0, double.Parse(f[5], CultureInfo.InvariantCulture), 5);
                Assert.Equal(o.Box.Y0 / 224.0, double.Parse(f[6], CultureInfo.InvariantCulture), 5);
                Assert.Equal(o.Box.Y1 / 224.0, double.Parse(f[7], CultureInfo.InvariantCulture), 5);
                Assert.Equal("1.0", f[8]);
                Assert.Equal("", f[9]);
                Assert.Equal(o.Mask.Data, DecodeMask(Path.Combine(root, "validation", "masks", f[0])));
            }
        }
        Assert.Equal(Count, imageIds.Distinct().Count());
        Assert.Equal(Count, Directory.GetFiles(Path.Combine(root, "validation", "images")).Length);
        Assert.Equal(objects, Directory.GetFiles(Path.Combine(root, "validation", "masks")).Length);

        var captions = File.ReadAllLines(Path.Combine(root, "validation-captions.jsonl"));
        Assert.Equal(Count, captions.Length);
        for (int i = 0; i < Count; i++)
        {
            using var doc = JsonDocument.Parse(captions[i]);
            Assert.Equal(imageIds[i], doc.RootElement.GetProperty("image_id").GetString());
            Assert.Equal(scenes[i].Caption, doc.RootElement.GetProperty("caption").GetString());
        }
        Assert.Contains("- split validation: 12 images", File.ReadAllText(Path.Combine(root, "README.txt")));
    }

    [Fact]
    public void OutputIsReproducibleAndSplitsShareOneRoot()
    {
        string a = Path.Combine(root, "a"), b = Path.Combine(root, "b");
        SceneDataset.WriteOpenImages(a, "train", 6, Seed, maxDegreeOfParallelism: 1);
        SceneDataset.WriteOpenImages(b, "train", 6, Seed);
        foreach (var file in new[] { "train-annotations-object-segmentation.csv", "train-captions.jsonl", "README.txt" })
            Assert.Equal(File.ReadAllBytes(Path.Combine(a, file)), File.ReadAllBytes(Path.Combine(b, file)));
        var jpg = Path.Combine("train", "images", SceneSeed.ImageId(Seed, 4) + ".jpg");
        Assert.Equal(File.ReadAllBytes(Path.Combine(a, jpg)), File.ReadAllBytes(Path.Combine(b, jpg)));

        SceneDataset.WriteOpenImages(a, "validation", 3, Seed + 1, new SceneOptions { Width = 192, Height = 192 });
        var readme = File.ReadAllText(Path.Combine(a, "README.txt"));
        Assert.Contains("- split train: 6 images", readme);
        Assert.Contains("- split validation: 3 images", readme);
        Assert.Contains("192x192", readme);
        Assert.Equal(6, File.ReadAllLines(Path.Combine(a, "train-captions.jsonl")).Length);
        // A rewrite of a split replaces its README line rather than adding another.
        SceneDataset.WriteOpenImages(a, "validation", 2, Seed + 1);
        Assert.Single(Regex.Matches(File.ReadAllText(Path.Combine(a, "README.txt")), "- split validation:"));
    }

    static void CheckJpeg(string path, Scene scene)
    {
        using var bitmap = SKBitmap.Decode(path);
        Assert.NotNull(bitmap);
        Assert.Equal((scene.Image.Width, scene.Image.Height), (bitmap.Width, bitmap.Height));
        double diff = 0;
        for (int y = 0; y < bitmap.Height; y++)
            for (int x = 0; x < bitmap.Width; x++)
            {
                var c = bitmap.GetPixel(x, y);
                int i = 3 * (y * scene.Image.Width + x);
                diff += Math.Abs(c.Red - scene.Image.Pixels[i]) + Math.Abs(c.Green - scene.Image.Pixels[i + 1]) + Math.Abs(c.Blue - scene.Image.Pixels[i + 2]);
            }
        Assert.InRange(diff / (3.0 * bitmap.Width * bitmap.Height), 0, 4); // quality 95: small, noise-dominated error
    }

    static byte[] DecodeMask(string path)
    {
        var bytes = File.ReadAllBytes(path);
        Assert.Equal(8, bytes[24]);  // IHDR bit depth
        Assert.Equal(0, bytes[25]);  // IHDR colour type 0: greyscale
        using var bitmap = SKBitmap.Decode(bytes);
        Assert.NotNull(bitmap);
        var data = new byte[bitmap.Width * bitmap.Height];
        for (int y = 0; y < bitmap.Height; y++)
            for (int x = 0; x < bitmap.Width; x++)
            {
                byte v = bitmap.GetPixel(x, y).Red;
                Assert.True(v is 0 or 255, $"mask value {v}");
                data[y * bitmap.Width + x] = v == 255 ? (byte)1 : (byte)0;
            }
        return data;
    }
}
