using System.Text.Json;
using MaskInversion.Core.Datasets;

namespace MaskInversion.Core.Tests.Datasets;

public class PhraseCutReaderTests
{
    static object Task(int id, int image, string phrase, string name, params double[][][] instances) => new
    {
        task_id = $"{image}__{id}", image_id = image, phrase, phrase_structure = new { name, attributes = Array.Empty<string>() },
        instance_boxes = Array.Empty<int[]>(),
        Polygons = instances.Select(polygons => polygons.Select(p => p.Chunk(2).ToArray()).ToArray()).ToArray(),
    };

    [Fact]
    public void PhrasesOfAnImageAreMatchedAgainstItsDistinctRegions()
    {
        using var dir = new TempDir();
        double[] left = [2.7, 2.2, 12.9, 2, 12, 12, 2, 12], right = [20, 4, 30, 4, 30, 20, 20, 20], line = [0, 0, 5, 5];
        File.WriteAllText(dir.File("image_data_split.json"), JsonSerializer.Serialize(new object[]
        {
            new { image_id = 5, width = 40, height = 30, split = "val" },
            new { image_id = 6, width = 20, height = 20, split = "val" },
        }));
        File.WriteAllText(dir.File("refer_val.json"), JsonSerializer.Serialize(new[]
        {
            Task(0, 5, "black cat on left", "cat", [left, line]),
            Task(1, 5, "two windows", "window", [right], [left]),  // two instances: one region, their union
            Task(2, 5, "cat", "cat", [left]),                       // the same region as task 0 (the line is dropped)
            Task(3, 6, "sky", "sky", [[0, 0, 19, 0, 19, 9, 0, 9]]),
        }));
        var reader = DatasetReaders.Open("phrasecut", dir.Path);
        Assert.Equal(["cat", "sky", "window"], reader.Classes.Select(c => c.Name));
        var images = reader.ReadImages().Select(r => r.Image!).ToList();
        Assert.Equal(["5", "6"], images.Select(i => i.ImageId));
        Assert.Equal(Path.Combine(dir.Path, "images", "5.jpg"), images[0].ImagePath);
        Assert.Equal(["5__0", "5__1"], images[0].Masks.Select(m => m.MaskId));
        Assert.Equal(
        [
            new ReferringExpression("5__0", "black cat on left", "5__0"),
            new ReferringExpression("5__1", "two windows", "5__1"),
            new ReferringExpression("5__2", "cat", "5__0"),
        ], images[0].Expressions!);

        var cat = MaskRasterizer.Rasterize(images[0].Masks[0].Source, TestMasks.LoadPng);
        var windows = MaskRasterizer.Rasterize(images[0].Masks[1].Source, TestMasks.LoadPng);
        Assert.Equal((40, 30), (cat.Width, cat.Height));
        Assert.InRange(cat.Area, 81, 121);                 // the 10×10 square, vertices truncated to integers
        Assert.Equal(cat.Area + MaskRasterizer.Rasterize(MaskSource.Polygon([right], 30, 40), TestMasks.LoadPng).Area, windows.Area);
    }

    [Fact]
    public void BadTasksAndMissingSizesAreNamedErrors()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("image_data_split.json"), JsonSerializer.Serialize(new[] { new { image_id = 5, width = 40, height = 30 } }));
        File.WriteAllText(dir.File("refer_miniv.json"), JsonSerializer.Serialize(new[]
        {
            Task(0, 5, "a", "a", [[1, 1, 9, 1, 9, 9]]),
            Task(1, 5, "only a line", "b", [[0, 0, 5, 5]]),
            Task(2, 77, "c", "c", [[1, 1, 9, 1, 9, 9]]),
        }));
        var records = new PhraseCutReader(dir.Path, "miniv").ReadImages().ToList();
        Assert.Contains(records, r => r.IsError && r.Error!.Message.Contains("task #1: no polygon with three or more points"));
        Assert.Contains(records, r => r.IsError && r.Error!.Message.Contains("no size for image 77"));
        Assert.Equal("5", Assert.Single(records, r => !r.IsError).Image!.ImageId);
        Assert.Throws<FileNotFoundException>(() => new PhraseCutReader(dir.Path, "test"));
    }
}
