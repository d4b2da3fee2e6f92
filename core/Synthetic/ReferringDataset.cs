using System.Text.Json;
using MaskInversion.Core.Datasets;
using MaskInversion.Core.Imaging;

namespace MaskInversion.Core.Synthetic;

/// <summary>What <see cref="ReferringDataset.WriteRefCoco"/> wrote.</summary>
/// <param name="Candidates">Instance masks (every object of every scene).</param>
public sealed record ReferringDatasetSummary(string Root, string Split, int Images, int Candidates, int Expressions);

/// <summary>
/// Writes scenes of the synthetic referring world (<see cref="ReferringWorld"/>) as a RefCOCO folder in the refer
/// toolkit's layout, with the refs as a JSON export, so the real reader (<see cref="RefCocoReader"/>, format
/// "refcoco") and a cluster job run on it unchanged:
/// <code>
/// &lt;root&gt;/refs(unc).json      [{ref_id, ann_id, image_id, category_id, split, sentences: [{sent_id, sent, raw, tokens}]}, …]
/// &lt;root&gt;/instances.json      COCO: images, annotations (uncompressed RLE of each object's visible pixels), categories
/// &lt;root&gt;/train2014/&lt;id&gt;.png    lossless, so a job sees the generator's pixels
/// </code>
/// Scene i of (seed, options) is COCO image i + 1; each object is one instance and one ref whose sentence names it
/// ("a photo of a red star."). Ids are dataset-wide and sequential. A pure function of its arguments.
/// </summary>
public static class ReferringDataset
{
    public static ReferringDatasetSummary WriteRefCoco(string root, int scenes, int seed, SceneOptions options, string split = "val")
    {
        ArgumentOutOfRangeException.ThrowIfNegative(scenes);
        var generator = new SceneGenerator(seed, options);
        var vocabulary = generator.Vocabulary;
        var imagesDir = Path.Combine(root, "train2014");
        Directory.CreateDirectory(imagesDir);

        var images = new List<object>();
        var annotations = new List<object>();
        var refs = new List<object>();
        long annId = 0, refId = 0, sentId = 0;
        int candidates = 0;
        for (int s = 0; s < scenes; s++)
        {
            var scene = generator.Generate(s);
            int imageId = s + 1, w = scene.Image.Width, h = scene.Image.Height;
            var file = $"synthetic_{imageId:D6}.png";
            PngWriter.Save(scene.Image, Path.Combine(imagesDir, file));
            images.Add(new { id = imageId, file_name = file, width = w, height = h });
            var annIds = new long[scene.Objects.Count];
            for (int k = 0; k < scene.Objects.Count; k++)
            {
                var o = scene.Objects[k];
                annIds[k] = ++annId;
                annotations.Add(new
                {
                    id = annIds[k], image_id = imageId, category_id = o.ClassIndex + 1, iscrowd = 0, area = o.Mask.Area,
                    bbox = new[] { o.Box.X0, o.Box.Y0, o.Box.X1 - o.Box.X0, o.Box.Y1 - o.Box.Y0 },
                    segmentation = new { counts = CocoRle.Encode(o.Mask), size = new[] { h, w } },
                });
                candidates++;
            }
            foreach (var e in ReferringWorld.Expressions(scene))
            {
                var o = scene.Objects[e.ObjectIndex];
                refs.Add(new
                {
                    ref_id = ++refId, ann_id = annIds[e.ObjectIndex], image_id = imageId, category_id = o.ClassIndex + 1, split,
                    sentences = new[] { new { sent_id = sentId++, sent = e.Text, raw = e.Text, tokens = e.Text.TrimEnd('.').Split(' ') } },
                });
            }
        }
        var categories = Enumerable.Range(0, vocabulary.ClassCount).Select(c => new { id = c + 1, name = vocabulary.ClassName(c) }).ToArray();
        File.WriteAllText(Path.Combine(root, "instances.json"), JsonSerializer.Serialize(new { images, annotations, categories }));
        File.WriteAllText(Path.Combine(root, "refs(unc).json"), JsonSerializer.Serialize(refs));
        return new ReferringDatasetSummary(Path.GetFullPath(root), split, scenes, candidates, (int)sentId);
    }
}
