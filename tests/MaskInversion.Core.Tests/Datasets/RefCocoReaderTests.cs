using System.Text.Json;
using MaskInversion.Core.Datasets;

namespace MaskInversion.Core.Tests.Datasets;

public class RefCocoReaderTests
{
    /// <summary>A refer-toolkit folder: instances.json for images 7, 8, 9 (7 has two instances and a crowd region),
    /// the refs of <see cref="Pickles"/> (image 7: refs to 1001 and 1002 in val; image 9: testA), train2014/.</summary>
    static string WriteDataset(TempDir dir, string refsBase64, string refsName = "refs(unc).p")
    {
        var folder = Directory.CreateDirectory(dir.File("refcoco")).FullName;
        Directory.CreateDirectory(Path.Combine(folder, "train2014"));
        static double[] Square(double x, double y, double s) => [x, y, x + s, y, x + s, y + s, x, y + s];
        var doc = new Dictionary<string, object>
        {
            ["images"] = new object[]
            {
                new { id = 7, file_name = "COCO_train2014_000000000007.jpg", width = 40, height = 30 },
                new { id = 8, file_name = "COCO_train2014_000000000008.jpg", width = 40, height = 30 },
                new { id = 9, file_name = "COCO_train2014_000000000009.jpg", width = 40, height = 30 },
            },
            ["annotations"] = new object[]
            {
                new { id = 1001, image_id = 7, category_id = 18, iscrowd = 0, segmentation = new[] { Square(2, 2, 10) } },
                new { id = 1002, image_id = 7, category_id = 17, iscrowd = 0, segmentation = new[] { Square(20, 5, 12) } },
                new { id = 1003, image_id = 7, category_id = 1, iscrowd = 1, segmentation = new { counts = new[] { 0, 50, 1150 }, size = new[] { 30, 40 } } },
                new { id = 1801, image_id = 8, category_id = 1, iscrowd = 0, segmentation = new[] { Square(1, 1, 5) } },
                new { id = 2001, image_id = 9, category_id = 1, iscrowd = 0, segmentation = new[] { Square(5, 5, 5) } },
            },
            ["categories"] = new object[] { new { id = 1, name = "person" }, new { id = 17, name = "cat" }, new { id = 18, name = "dog" } },
        };
        File.WriteAllText(Path.Combine(folder, "instances.json"), JsonSerializer.Serialize(doc));
        File.WriteAllBytes(Path.Combine(folder, refsName), Convert.FromBase64String(refsBase64));
        return folder;
    }

    [Theory]
    [InlineData(Pickles.Python2Protocol2)]
    [InlineData(Pickles.Python2Protocol0)]
    [InlineData(Pickles.Python3Protocol4)]
    public void EverySentenceIsAnExpressionAndAllInstancesAreCandidates(string refs)
    {
        using var dir = new TempDir();
        var reader = DatasetReaders.Open("refcoco", WriteDataset(dir, refs), "val");
        Assert.True(DatasetReaders.IsReferring("refcoco"));
        Assert.Equal(["person", "cat", "dog"], reader.Classes.Select(c => c.Name));
        var records = reader.ReadImages().ToList();
        Assert.DoesNotContain(records, r => r.IsError);
        var image = Assert.Single(records).Image!;
        Assert.Equal("7", image.ImageId);
        Assert.EndsWith(Path.Combine("train2014", "COCO_train2014_000000000007.jpg"), image.ImagePath);
        Assert.Equal(["1001", "1002", "1003"], image.Masks.Select(m => m.MaskId)); // the crowd region is a candidate too
        Assert.Equal(
        [
            new ReferringExpression("0", "left dog", "1001"),
            new ReferringExpression("1", "brown dog", "1001"),
            new ReferringExpression("2", "café cat", "1002"),
        ], image.Expressions!);
        // The referred instance's pixels come from the instances file.
        var dog = MaskRasterizer.Rasterize(image.Masks[0].Source, TestMasks.LoadPng);
        Assert.Equal((40, 30), (dog.Width, dog.Height));
        Assert.InRange(dog.Area, 81, 121);

        var testA = DatasetReaders.Open("refcoco", dir.File("refcoco"), "testA").ReadImages().Single().Image!;
        Assert.Equal("9", testA.ImageId);
        Assert.Equal([new ReferringExpression("3", "man", "2001")], testA.Expressions!);
    }

    [Fact]
    public void JsonExportReadsLikeThePickleAndRawSentencesAreAnOption()
    {
        using var dir = new TempDir();
        var folder = WriteDataset(dir, Pickles.Python2Protocol2);
        var refs = (List<object?>)RestrictedUnpickler.Load(Path.Combine(folder, "refs(unc).p"))!;
        File.Delete(Path.Combine(folder, "refs(unc).p"));
        File.WriteAllText(Path.Combine(folder, "refs(unc).json"), JsonSerializer.Serialize(refs.Select(ToJson)));
        var image = DatasetReaders.Open("refcoco+", folder).ReadImages().Single().Image!;
        Assert.Equal(["left dog", "brown dog", "café cat"], image.Expressions!.Select(e => e.Text));
        var raw = new RefCocoReader("refcoco", folder, "val", new RefCocoOptions { RawSentences = true }).ReadImages().Single().Image!;
        Assert.Equal(["Left dog!", "brown dog", "café cat"], raw.Expressions!.Select(e => e.Text));
    }

    static object? ToJson(object? o) => o switch
    {
        Dictionary<object, object?> d => d.ToDictionary(kv => (string)kv.Key, kv => ToJson(kv.Value)),
        List<object?> l => l.Select(ToJson).ToList(),
        _ => o,
    };

    [Fact]
    public void MissingInstancesAndUnknownSplitsAreNamedErrors()
    {
        using var dir = new TempDir();
        var folder = WriteDataset(dir, Pickles.Python3Protocol2);
        // Drop instance 1002 and image 9 from the instances file.
        var doc = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(File.ReadAllText(Path.Combine(folder, "instances.json")))!;
        var anns = doc["annotations"].EnumerateArray().Where(a => a.GetProperty("id").GetInt32() is not (1002 or 2001)).ToArray();
        File.WriteAllText(Path.Combine(folder, "instances.json"), JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["images"] = doc["images"], ["annotations"] = anns, ["categories"] = doc["categories"],
        }));
        var val = DatasetReaders.Open("refcoco", folder, "val").ReadImages().ToList();
        var error = Assert.Single(val, r => r.IsError).Error!;
        Assert.Contains("ref 1 names instance 1002", error.Message);
        Assert.Equal(["0", "1"], Assert.Single(val, r => !r.IsError).Image!.Expressions!.Select(e => e.ExpressionId));

        var testA = Assert.Single(DatasetReaders.Open("refcoco", folder, "testA").ReadImages()).Error!;
        Assert.Contains("name image 9, which has no instances", testA.Message);
        var none = Assert.Single(DatasetReaders.Open("refcoco", folder, "testB").ReadImages()).Error!;
        Assert.Contains("no refs in split 'testB' (splits present: testA, val)", none.Message);
    }

    [Fact]
    public void APickleThatWouldRunCodeIsRefusedBeforeAnythingIsRead()
    {
        using var dir = new TempDir();
        var folder = WriteDataset(dir, Pickles.GlobalReduce);
        var e = Assert.Throws<PickleException>(() => DatasetReaders.Open("refcoco", folder).ReadImages().ToList());
        Assert.Contains("refs(unc).p @byte 0: opcode GLOBAL", e.Message);
    }

    [Fact]
    public void RefCocoGUsesTheUmdRefsAndMissingFilesAreNamed()
    {
        using var dir = new TempDir();
        var folder = WriteDataset(dir, Pickles.Python3Protocol2, "refs(umd).p");
        Assert.Single(DatasetReaders.Open("refcocog", folder, "val").ReadImages(), r => !r.IsError);
        Assert.Contains("No refs(unc).p or refs(unc).json", Assert.Throws<FileNotFoundException>(() => DatasetReaders.Open("refcoco", folder)).Message);
        Directory.Delete(Path.Combine(folder, "train2014"));
        Assert.Contains("train2014 images not found", Assert.Throws<DirectoryNotFoundException>(() => DatasetReaders.Open("refcocog", folder)).Message);
    }
}
