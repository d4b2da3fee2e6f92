using System.Text.Json;
using MaskInversion.Core.Datasets;

namespace MaskInversion.Core.Tests.Datasets;

public class CocoReaderTests
{
    static string WriteInstances(TempDir dir)
    {
        var rle = CocoRle.Encode(TestMasks.Rect(40, 30, 5, 5, 15, 25));   // image 2 is 40 wide, 30 high
        // A polygon with 12 k points makes one annotation larger than the scanner's initial 64 KiB buffer.
        var big = Enumerable.Range(0, 12000).SelectMany(i =>
        {
            double t = 2 * Math.PI * i / 12000;
            return new[] { Math.Round(20 + 8 * Math.Cos(t), 4), Math.Round(15 + 8 * Math.Sin(t), 4) };
        }).ToArray();
        var doc = new Dictionary<string, object>
        {
            ["info"] = new { description = "test", nested = new { list = new[] { 1, 2 } } },
            ["annotations"] = new object[]
            {
                new { id = 11, image_id = 1, category_id = 3, iscrowd = 0, bbox = new[] { 10.0, 10, 10, 10 }, segmentation = new[] { new double[] { 10, 10, 20, 10, 20, 20, 10, 20 } } },
                new { id = 21, image_id = 2, category_id = 1, iscrowd = 0, bbox = new[] { 5.0, 5, 10, 20 }, segmentation = new { counts = rle, size = new[] { 30, 40 } } },
                new { id = 12, image_id = 1, category_id = 1, iscrowd = 0, segmentation = new { counts = CocoRle.ToCompressedString(CocoRle.Encode(TestMasks.Rect(32, 32, 0, 0, 4, 4))), size = new[] { 32, 32 } } },
                new { id = 22, image_id = 2, category_id = 3, iscrowd = 1, segmentation = new { counts = new[] { 1200 }, size = new[] { 30, 40 } } },
                new { id = 23, image_id = 2, category_id = 99, iscrowd = 0, segmentation = new[] { new double[] { 1, 1, 5, 1, 5, 5 } } },
                new { id = 24, image_id = 2, category_id = 3, iscrowd = 0, segmentation = big.Length > 0 ? new[] { big } : null },
                new { id = 77, image_id = 404, category_id = 3, iscrowd = 0, segmentation = new[] { new double[] { 1, 1, 5, 1, 5, 5 } } },
            },
            ["images"] = new object[]
            {
                new { id = 2, file_name = "000002.jpg", width = 40, height = 30 },
                new { id = 1, file_name = "000001.jpg", width = 32, height = 32 },
                new { id = 3, file_name = "000003.jpg", width = 10, height = 10 },
            },
            ["categories"] = new object[] { new { id = 1, name = "person" }, new { id = 3, name = "car" } },
        };
        var path = dir.File("instances_val.json");
        File.WriteAllText(path, JsonSerializer.Serialize(doc));
        return path;
    }

    [Fact]
    public void ReadsPolygonsAndBothRleFormsGroupedByImage()
    {
        using var dir = new TempDir();
        var reader = new CocoReader(WriteInstances(dir), dir.File("val"));
        Assert.Equal([new ClassInfo("1", "person"), new ClassInfo("3", "car")], reader.Classes);

        var records = reader.ReadImages().ToList();
        var images = records.Where(r => !r.IsError).Select(r => r.Image!).ToList();
        var errors = records.Where(r => r.IsError).Select(r => r.Error!).ToList();

        Assert.Equal(["2", "1"], images.Select(i => i.ImageId));           // "images" order; 3 has no annotation
        Assert.Equal(Path.Combine(dir.File("val"), "000002.jpg"), images[0].ImagePath);
        Assert.Equal(["21", "24"], images[0].Masks.Select(m => m.MaskId));  // crowd 22 skipped, 23 is an error
        Assert.Equal(["11", "12"], images[1].Masks.Select(m => m.MaskId));
        Assert.Equal(1, reader.SkippedCrowd);

        Assert.Equal(2, errors.Count);
        Assert.Contains(errors, e => e.Message.Contains("category_id 99") && e.Message.Contains("@byte"));
        Assert.Contains(errors, e => e.Message.Contains("image_id 404"));

        var rle = images[0].Masks[0];
        Assert.Equal(MaskSourceKind.RleCounts, rle.Source.Kind);
        Assert.Equal("person", rle.ClassName);
        Assert.Equal(new RegionBox(5 / 40.0, 15 / 40.0, 5 / 30.0, 25 / 30.0), rle.Box);
        Assert.Equal(TestMasks.Rect(40, 30, 5, 5, 15, 25).Data, MaskRasterizer.Rasterize(rle.Source, _ => throw new InvalidOperationException()).Data);

        var circle = MaskRasterizer.Rasterize(images[0].Masks[1].Source, _ => throw new InvalidOperationException());
        Assert.InRange(circle.Area, Math.PI * 64 - 30, Math.PI * 64 + 30);

        var square = images[1].Masks[0];
        Assert.Equal(MaskSourceKind.Polygons, square.Source.Kind);
        Assert.Equal("car", square.ClassName);
        Assert.Equal(100, MaskRasterizer.Rasterize(square.Source, _ => throw new InvalidOperationException()).Area);
        var compressed = images[1].Masks[1];
        Assert.Equal(MaskSourceKind.RleString, compressed.Source.Kind);
        Assert.Equal(16, MaskRasterizer.Rasterize(compressed.Source, _ => throw new InvalidOperationException()).Area);
    }

    [Fact]
    public void CrowdCanBeIncluded()
    {
        using var dir = new TempDir();
        var reader = new CocoReader(WriteInstances(dir), dir.File("val"), new CocoOptions { IncludeCrowd = true });
        var first = reader.ReadImages().First(r => !r.IsError).Image!;
        Assert.Equal(["21", "22", "24"], first.Masks.Select(m => m.MaskId));
    }

    [Fact]
    public void ScannerReportsOffsetsOfEachArrayElement()
    {
        using var dir = new TempDir();
        var path = dir.File("s.json");
        File.WriteAllText(path, "{\"skip\": [{\"a\": 1}], \"x\": [ {\"v\": [1, 2]}, 3, \"s\" ], \"o\": {\"x\": [9]}}");
        var seen = new List<(string, long, string)>();
        JsonArrayScanner.Scan(path, new HashSet<string> { "x" }, (p, o, e) => seen.Add((p, o, System.Text.Encoding.UTF8.GetString(e))));
        var text = File.ReadAllText(path);
        Assert.Equal(["{\"v\": [1, 2]}", "3", "\"s\""], seen.Select(s => s.Item3));
        Assert.All(seen, s => Assert.Equal(s.Item3, text.Substring((int)s.Item2, s.Item3.Length)));
    }
}
