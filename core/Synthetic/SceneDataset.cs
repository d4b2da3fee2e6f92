using System.Globalization;
using System.Text;
using System.Text.Json;
using MaskInversion.Core.Imaging;
using SkiaSharp;

namespace MaskInversion.Core.Synthetic;

/// <summary>
/// Writes generated scenes in the OpenImages V7 segmentation layout, so the OpenImages reader and every
/// evaluation built on it run unchanged on synthetic data:
/// <code>
/// &lt;root&gt;/&lt;split&gt;-annotations-object-segmentation.csv   MaskPath,ImageID,LabelName,BoxID,BoxX/Y Min/Max (0–1),PredictedIoU,Clicks
/// &lt;root&gt;/&lt;split&gt;/images/&lt;ImageID&gt;.jpg                  JPEG, quality 95
/// &lt;root&gt;/&lt;split&gt;/masks/&lt;MaskPath&gt;                     8-bit grayscale PNG, 0/255, image-sized, visible pixels only
/// &lt;root&gt;/class-descriptions-boxable.csv                LabelName,DisplayName (no header)
/// &lt;root&gt;/classes-segmentation.txt                      one LabelName per line
/// &lt;root&gt;/&lt;split&gt;-captions.jsonl                        {"image_id":…,"caption":…} for contrastive training
/// &lt;root&gt;/README.txt                                    generator parameters per split
/// </code>
/// Output is a pure function of (seed, start index, count, options): ids derive from (seed, index), rows are
/// written in index order, and nothing time-dependent is recorded.
/// </summary>
public static class SceneDataset
{
    public const string AnnotationHeader = "MaskPath,ImageID,LabelName,BoxID,BoxXMin,BoxXMax,BoxYMin,BoxYMax,PredictedIoU,Clicks";
    public const int JpegQuality = 95;
    const int ChunkSize = 256; // bounds memory: scenes are encoded and dropped chunk by chunk

    public static string AnnotationsPath(string root, string split) => Path.Combine(root, $"{split}-annotations-object-segmentation.csv");
    public static string CaptionsPath(string root, string split) => Path.Combine(root, $"{split}-captions.jsonl");
    public static string ImagePath(string root, string split, string imageId) => Path.Combine(root, split, "images", imageId + ".jpg");
    public static string MaskFilePath(string root, string split, string maskPath) => Path.Combine(root, split, "masks", maskPath);

    /// <summary>OpenImages mask file name: &lt;ImageID&gt;_&lt;LabelName without slashes&gt;_&lt;BoxID&gt;.png.</summary>
    public static string MaskPath(string imageId, string labelName, string boxId) => $"{imageId}_{labelName.Replace("/", "")}_{boxId}.png";

    /// <summary>
    /// Generates scenes <paramref name="startIndex"/> … +count−1 and writes them as split <paramref name="split"/>.
    /// Give each split its own seed (or disjoint index ranges): the same (seed, index) is the same image.
    /// </summary>
    public static SceneDatasetSummary WriteOpenImages(string root, string split, int count, int seed,
        SceneOptions? options = null, long startIndex = 0, int maxDegreeOfParallelism = -1)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfNegative(startIndex);
        if (string.IsNullOrWhiteSpace(split) || split.IndexOfAny(['/', '\\', ',']) >= 0)
            throw new ArgumentException($"Split name '{split}' must be a plain folder name.", nameof(split));
        var generator = new SceneGenerator(seed, options);
        var vocabulary = generator.Vocabulary;
        Directory.CreateDirectory(Path.Combine(root, split, "images"));
        Directory.CreateDirectory(Path.Combine(root, split, "masks"));

        var ids = new HashSet<string>(StringComparer.Ordinal);
        int objects = 0;
        var annotationsPath = AnnotationsPath(root, split);
        var captionsPath = CaptionsPath(root, split);
        using (var csv = new StreamWriter(annotationsPath, false, new UTF8Encoding(false)) { NewLine = "\n" })
        using (var captions = new StreamWriter(captionsPath, false, new UTF8Encoding(false)) { NewLine = "\n" })
        {
            csv.WriteLine(AnnotationHeader);
            for (int chunk = 0; chunk < count; chunk += ChunkSize)
            {
                int n = Math.Min(ChunkSize, count - chunk);
                var rows = new string[n][];
                var lines = new string[n];
                Parallel.For(0, n, new ParallelOptions { MaxDegreeOfParallelism = maxDegreeOfParallelism }, i =>
                {
                    long index = startIndex + chunk + i;
                    var scene = generator.Generate(index);
                    string imageId = SceneSeed.ImageId(seed, index);
                    WriteJpeg(scene.Image, ImagePath(root, split, imageId));
                    rows[i] = new string[scene.Objects.Count];
                    for (int k = 0; k < scene.Objects.Count; k++)
                    {
                        var o = scene.Objects[k];
                        string label = vocabulary.LabelName(o.ClassIndex), boxId = SceneSeed.BoxId(imageId, k);
                        string maskPath = MaskPath(imageId, label, boxId);
                        WriteMaskPng(o.Mask, MaskFilePath(root, split, maskPath));
                        double w = scene.Image.Width, h = scene.Image.Height;
                        rows[i][k] = string.Join(',', maskPath, imageId, label, boxId,
                            Coord(o.Box.X0 / w), Coord(o.Box.X1 / w), Coord(o.Box.Y0 / h), Coord(o.Box.Y1 / h), "1.0", "");
                    }
                    lines[i] = $"{{\"image_id\":{JsonSerializer.Serialize(imageId)},\"caption\":{JsonSerializer.Serialize(scene.Caption)}}}";
                });
                for (int i = 0; i < n; i++)
                {
                    string imageId = SceneSeed.ImageId(seed, startIndex + chunk + i);
                    if (!ids.Add(imageId)) throw new InvalidOperationException($"Image id collision on {imageId}; choose another seed.");
                    foreach (var row in rows[i]) csv.WriteLine(row);
                    objects += rows[i].Length;
                    captions.WriteLine(lines[i]);
                }
            }
        }

        // Class lists describe the whole vocabulary (not just classes that happened to occur), shared by all splits.
        File.WriteAllLines(Path.Combine(root, "class-descriptions-boxable.csv"),
            Enumerable.Range(0, vocabulary.ClassCount).Select(c => $"{vocabulary.LabelName(c)},{vocabulary.ClassName(c)}"));
        File.WriteAllLines(Path.Combine(root, "classes-segmentation.txt"),
            Enumerable.Range(0, vocabulary.ClassCount).Select(vocabulary.LabelName));
        WriteReadme(root, split, count, seed, startIndex, objects, generator.Options);
        return new SceneDatasetSummary(root, split, count, objects, annotationsPath, captionsPath);
    }

    static string Coord(double v) => v.ToString("0.######", CultureInfo.InvariantCulture);

    static void WriteJpeg(RgbImage image, string path)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(image.Width, image.Height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        Span<byte> px = bitmap.GetPixelSpan();
        int stride = bitmap.RowBytes;
        for (int y = 0; y < image.Height; y++)
            for (int x = 0; x < image.Width; x++)
            {
                int s = 3 * (y * image.Width + x), t = y * stride + 4 * x;
                px[t] = image.Pixels[s];
                px[t + 1] = image.Pixels[s + 1];
                px[t + 2] = image.Pixels[s + 2];
                px[t + 3] = 255;
            }
        using var file = File.Create(path);
        if (!bitmap.Encode(file, SKEncodedImageFormat.Jpeg, JpegQuality)) throw new IOException($"JPEG encoding failed for {path}.");
    }

    static void WriteMaskPng(BinaryMask mask, string path)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(mask.Width, mask.Height, SKColorType.Gray8, SKAlphaType.Opaque));
        Span<byte> px = bitmap.GetPixelSpan();
        int stride = bitmap.RowBytes;
        for (int y = 0; y < mask.Height; y++)
            for (int x = 0; x < mask.Width; x++)
                px[y * stride + x] = mask.Data[y * mask.Width + x] != 0 ? (byte)255 : (byte)0;
        using var file = File.Create(path);
        if (!bitmap.Encode(file, SKEncodedImageFormat.Png, 100)) throw new IOException($"PNG encoding failed for {path}.");
    }

    /// <summary>Keeps one parameter line per split, so writing train and val into one root documents both.</summary>
    static void WriteReadme(string root, string split, int count, int seed, long startIndex, int objects, SceneOptions o)
    {
        string path = Path.Combine(root, "README.txt");
        var splits = File.Exists(path)
            ? File.ReadAllLines(path).Where(l => l.StartsWith("- split ", StringComparison.Ordinal) && !l.StartsWith($"- split {split}:", StringComparison.Ordinal)).ToList()
            : [];
        var v = o.Vocabulary;
        splits.Add(string.Create(CultureInfo.InvariantCulture,
            $"- split {split}: {count} images (scene indices {startIndex}..{startIndex + count - 1}), {objects} objects, seed {seed}, " +
            $"{o.Width}x{o.Height}, {o.MinObjects}-{o.MaxObjects} objects/scene, size {o.MinSizeFraction:0.###}-{o.MaxSizeFraction:0.###} of the shorter side, " +
            $"min visible {o.MinVisibleFraction:0.###}, distinct classes {o.DistinctClasses}, colour jitter {o.ColourJitter}, " +
            $"background noise {o.BackgroundNoise}, distractors {o.MinDistractors}-{o.MaxDistractors}, textures {string.Join('/', o.Textures).ToLowerInvariant()}, " +
            $"shapes {string.Join('/', v.Shapes.Select(SceneVocabulary.ShapeName))}, colours {string.Join('/', v.Colours.Select(c => $"{c.Name}({c.R},{c.G},{c.B})"))}"));
        splits.Sort(StringComparer.Ordinal);
        File.WriteAllText(path, $"""
            Synthetic MaskInversion scenes (MaskInversion.Core.Synthetic.SceneGenerator), OpenImages V7 segmentation layout.

            Each image shows 1-4 coloured shapes on a cluttered background. A class is (colour, shape), e.g. "red circle",
            label name /m/syn_red_circle; class-descriptions-boxable.csv and classes-segmentation.txt list all classes.
            Texture (solid/stripes/dots/checker), size, rotation and a small colour jitter vary within a class.
            Later objects occlude earlier ones; every mask PNG holds only the object's visible pixels (255) and each
            object keeps at least the stated fraction of its area visible. Boxes are the tight boxes of the visible masks,
            normalised to 0-1 (max edges exclusive). Backgrounds are low-saturation gradients with grey noise and grey/brown
            distractor blobs and lines, chosen so no clutter shares a class colour.
            <split>-captions.jsonl holds one caption per image naming its objects in random order.

            Regenerate with SceneDataset.WriteOpenImages(root, split, count, seed, options, startIndex).

            {string.Join('\n', splits)}

            """.ReplaceLineEndings("\n"));
    }
}
