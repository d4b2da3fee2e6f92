using MaskInversion.Core.Datasets;

namespace MaskInversion.Core.Tests.Datasets;

public class JsonlManifestReaderTests
{
    static string WriteManifest(TempDir dir)
    {
        Directory.CreateDirectory(dir.File("sub"));
        var path = dir.File("sub/manifest.jsonl");
        File.WriteAllLines(path,
        [
            """{"image": "img/a.jpg", "masks": [{"mask": "m/a0.png", "label": "dog", "expression": "the dog on the left"}, {"mask": "m/a1.png", "id": "a-cat", "label": "cat"}]}""",
            "",
            """{"image": "/abs/b.png", "id": "bee", "masks": [{"mask": "m/b0.png", "expression": "the thing"}, {"label": "cat"}]}""",
            """{"image": "img/c.jpg", "masks": [ broken""",
            """{"image": "img/d.jpg", "masks": [{"mask": "m/d0.png", "label": "zebra"}]}""",
        ]);
        return path;
    }

    [Fact]
    public void ReadsImagesResolvesPathsAndReportsBadLines()
    {
        using var dir = new TempDir();
        var reader = new JsonlManifestReader(WriteManifest(dir));
        Assert.Equal(["cat", "dog", "zebra"], reader.Classes.Select(c => c.Id));   // labels seen, sorted

        var records = reader.ReadImages().ToList();
        var images = records.Where(r => !r.IsError).Select(r => r.Image!).ToList();
        var errors = records.Where(r => r.IsError).Select(r => r.Error!).ToList();

        Assert.Equal(["a", "bee", "d"], images.Select(i => i.ImageId));
        Assert.Equal(dir.File("sub/img/a.jpg"), images[0].ImagePath);
        Assert.Equal("/abs/b.png", images[1].ImagePath);
        Assert.Equal(["a_0", "a-cat"], images[0].Masks.Select(m => m.MaskId));
        Assert.Equal("the dog on the left", images[0].Masks[0].Expression);
        Assert.Equal(dir.File("sub/m/a0.png"), images[0].Masks[0].Source.PngPath);
        Assert.Null(images[1].Masks[0].ClassId);

        Assert.Equal(2, errors.Count);
        Assert.Contains(errors, e => e.Message.StartsWith("manifest.jsonl:3:") && e.Message.Contains("no \"mask\""));
        Assert.Contains(errors, e => e.Message.StartsWith("manifest.jsonl:4:"));
    }

    [Fact]
    public void ClassesFileRestrictsLabels()
    {
        using var dir = new TempDir();
        File.WriteAllLines(dir.File("classes.txt"), ["dog", "cat", ""]);
        var reader = DatasetReaders.Open("JSONL", WriteManifest(dir), classesFile: dir.File("classes.txt"));
        Assert.Equal(["dog", "cat"], reader.Classes.Select(c => c.Name));
        var records = reader.ReadImages().ToList();
        Assert.Contains(records, r => r.IsError && r.Error!.Message.StartsWith("manifest.jsonl:5:") && r.Error.Message.Contains("zebra"));
        Assert.DoesNotContain(records, r => r.Image?.ImageId == "d");
    }

    [Fact]
    public void FactoryOpensEachFormatAndRejectsUnknownOnes()
    {
        using var dir = new TempDir();
        using (var w = new OpenImagesWriter(dir.Path, "validation", [new ClassInfo("/m/x", "X")]))
            w.AddMask("i1", "/m/x", TestMasks.Rect(4, 4, 0, 0, 2, 2));
        Assert.IsType<OpenImagesReader>(DatasetReaders.Open("openimages", dir.Path));

        Directory.CreateDirectory(dir.File("coco/annotations"));
        File.WriteAllText(dir.File("coco/annotations/instances_val2017.json"), """{"images": [], "annotations": [], "categories": [{"id": 5, "name": "kite"}]}""");
        var coco = DatasetReaders.Open("coco", dir.File("coco"));
        Assert.Equal("kite", Assert.Single(coco.Classes).Name);
        Assert.Equal(Path.GetFullPath(dir.File("coco/val2017")), ((CocoReader)DatasetReaders.Open("coco", dir.File("coco/annotations/instances_val2017.json"))).ImagesDirectory);

        Assert.Throws<ArgumentException>(() => DatasetReaders.Open("pascal", dir.Path));
    }
}
