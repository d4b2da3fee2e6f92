using System.Text;
using System.Text.Json;
using MaskInversion.Core.Datasets;
using MaskInversion.Core.Imaging;

namespace MaskInversion.Core.Tests.Datasets;

/// <summary>#14's silently wrong datasets: each damage is one item's error naming file and place, and reading goes on.</summary>
public class ReaderHardeningTests
{
    static readonly ClassInfo[] Classes = [new("/m/cat", "Cat"), new("/m/dog", "Dog")];

    static (List<DatasetError> Errors, List<DatasetImage> Images) ReadAll(IDatasetReader reader)
    {
        var records = reader.ReadImages().ToList();
        return (records.Where(r => r.IsError).Select(r => r.Error!).ToList(), records.Where(r => !r.IsError).Select(r => r.Image!).ToList());
    }

    [Fact]
    public void AnUnterminatedQuoteCostsOneRowNotTheRestOfTheFile()
    {
        using var dir = new TempDir();
        using (var w = new OpenImagesWriter(dir.Path, "validation", Classes))
        {
            w.AddMask("img1", "/m/cat", TestMasks.Rect(8, 8, 0, 0, 4, 4));                                   // line 2
            w.AppendRawRow(["img1_x.png", "img1", "/m/cat", "x", "0.1", "0.2", "0.3", "\"0.4", "1", ""]);  // line 3: quote never closed
            for (int i = 0; i < 8; i++) w.AddMask($"img{i + 2}", "/m/dog", TestMasks.Rect(8, 8, 1, 1, 5, 5)); // lines 4–11
        }
        // The writer quotes fields that need it; put the raw, broken quote back.
        var csvPath = Path.Combine(dir.Path, "validation-annotations-object-segmentation.csv");
        File.WriteAllText(csvPath, File.ReadAllText(csvPath).Replace("\"\"\"0.4\"", "\"0.4"));

        var (errors, images) = ReadAll(new OpenImagesReader(dir.Path, "validation"));

        var error = Assert.Single(errors);
        Assert.Contains("validation-annotations-object-segmentation.csv:3", error.Message);
        Assert.Contains("never closed", error.Message);
        Assert.Equal(9, images.Count);                                  // img1 (line 2) and all eight later rows
        Assert.Equal(9, images.Sum(i => i.Masks.Count));
    }

    [Fact]
    public void CsvReaderResumesAfterTheLineAnOpenQuoteStartedOn()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("q.csv"), "a,b\n\"open,1\nc,2\nd,3\n");
        using var csv = CsvRecordReader.Open(dir.File("q.csv"), bufferSize: 16);
        var f = new List<string>();
        var rows = new List<(int Line, string? Error, string First)>();
        while (csv.Read(f, out _, out int line)) rows.Add((line, csv.RecordError, f.FirstOrDefault() ?? ""));
        Assert.Equal([(1, null, "a"), (2, "a quoted field opened on line 2 is never closed", ""), (3, null, "c"), (4, null, "d")], rows);
    }

    [Fact]
    public void RepeatedOpenImagesMasksAreErrorsNamingTheFirstLine()
    {
        using var dir = new TempDir();
        using (var w = new OpenImagesWriter(dir.Path, "validation", Classes))
        {
            w.AddMask("img1", "/m/cat", TestMasks.Rect(8, 8, 0, 0, 4, 4));                                    // line 2
            w.AppendRawRow(["img1_mcat_00000000.png", "img1", "/m/cat", "x", "0.1", "0.2", "0.3", "0.4", "1", ""]); // line 3: same MaskPath
            w.AppendRawRow(["img1_unknown.png", "img1", "/m/zebra", "x", "0.1", "0.2", "0.3", "0.4", "1", ""]); // line 4: unknown label
        }
        var (errors, images) = ReadAll(new OpenImagesReader(dir.Path, "validation"));
        Assert.Equal(2, errors.Count);
        Assert.Contains(errors, e => e.ItemId == "img1/img1_mcat_00000000" && e.Message.Contains(":3:") && e.Message.Contains("line 2"));
        Assert.Contains(errors, e => e.Message.Contains(":4:") && e.Message.Contains("unknown LabelName '/m/zebra'"));
        Assert.Single(Assert.Single(images).Masks);
    }

    [Fact]
    public void CsvFieldsThatAreNotUtf8AreRowErrors()
    {
        using var dir = new TempDir();
        using (var w = new OpenImagesWriter(dir.Path, "validation", Classes)) w.AddMask("img1", "/m/cat", TestMasks.Rect(8, 8, 0, 0, 4, 4));
        var csvPath = Path.Combine(dir.Path, "validation-annotations-object-segmentation.csv");
        byte[] bytes = [.. File.ReadAllBytes(csvPath), .. Encoding.ASCII.GetBytes("bad"), 0xFF, 0xFE, .. Encoding.ASCII.GetBytes(".png,img2,/m/cat,x,0.1,0.2,0.3,0.4,1,\n")];
        File.WriteAllBytes(csvPath, bytes);
        var (errors, images) = ReadAll(new OpenImagesReader(dir.Path, "validation"));
        Assert.Contains(":3:", Assert.Single(errors).Message);
        Assert.Contains("not valid UTF-8", errors[0].Message);
        Assert.Equal(["img1"], images.Select(i => i.ImageId));
    }

    static string WriteCoco(TempDir dir, object[] images, object[] annotations)
    {
        var path = dir.File("instances_val.json");
        File.WriteAllText(path, JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["images"] = images,
            ["annotations"] = annotations,
            ["categories"] = new object[] { new { id = 1, name = "cat" } },
        }));
        return path;
    }

    static object Square(int id, int image) => new { id, image_id = image, category_id = 1, iscrowd = 0, segmentation = new[] { new double[] { 1, 1, 6, 1, 6, 6, 1, 6 } } };

    [Fact]
    public void RepeatedCocoImagesAndAnnotationsAreErrorsNamingTheFirst()
    {
        using var dir = new TempDir();
        var path = WriteCoco(dir,
            [new { id = 1, file_name = "a.jpg", width = 10, height = 10 }, new { id = 1, file_name = "other.jpg", width = 10, height = 10 }],
            [Square(5, 1), Square(5, 1), Square(6, 1)]);
        var (errors, images) = ReadAll(new CocoReader(path, dir.Path));
        Assert.Equal(2, errors.Count);
        Assert.Contains(errors, e => e.Message.Contains("image id 1 repeats the entry at byte"));
        Assert.Contains(errors, e => e.ItemId == "1/5" && e.Message.Contains("annotation 5 of image 1 repeats the one at byte"));
        var image = Assert.Single(images);
        Assert.EndsWith("a.jpg", image.ImagePath);
        Assert.Equal(["5", "6"], image.Masks.Select(m => m.MaskId));
    }

    [Theory]
    [InlineData(200)]   // cut inside the annotations array
    [InlineData(37)]
    public void TruncatedCocoJsonNamesTheFileAndTheByte(int keep)
    {
        using var dir = new TempDir();
        var path = WriteCoco(dir, [new { id = 1, file_name = "a.jpg", width = 10, height = 10 }], [Square(5, 1), Square(6, 1), Square(7, 1)]);
        File.WriteAllBytes(path, File.ReadAllBytes(path)[..keep]);
        var e = Assert.Throws<InvalidDataException>(() => new CocoReader(path, dir.Path).ReadImages().ToList());
        Assert.Contains(path, e.Message);
        Assert.Contains("byte", e.Message);
    }

    [Fact]
    public void MalformedCocoJsonNamesTheFileAndTheByte()
    {
        using var dir = new TempDir();
        var path = dir.File("instances_val.json");
        File.WriteAllText(path, """{"images": [{"id": 1, "file_name": "a.jpg", "width": 10, "height": 10}], "annotations": [{"id": 5,, "image_id": 1}]}""");
        var e = Assert.Throws<InvalidDataException>(() => new CocoReader(path, dir.Path).ReadImages().ToList());
        Assert.Contains(path, e.Message);
        Assert.Matches("near byte [0-9]+", e.Message);
    }

    [Fact]
    public void RepeatedJsonlImagesAndMasksAreErrorsAndDamagedLinesAreNamed()
    {
        using var dir = new TempDir();
        var manifest = dir.File("m.jsonl");
        byte[] notUtf8 = [.. "{\"image\": \"c"u8.ToArray(), 0xFF, .. """.jpg", "masks": [{"mask": "c0.png", "label": "cat"}]}"""u8.ToArray()];
        var lines = new List<byte[]>
        {
            """{"image": "a.jpg", "id": "a", "masks": [{"mask": "a0.png", "id": "x", "label": "cat"}, {"mask": "a1.png", "id": "x", "label": "cat"}]}"""u8.ToArray(),
            """{"image": "b.jpg", "masks": [{"mask": "b0.png", "label": "cat"}]}"""u8.ToArray(),
            """{"image": "a2.jpg", "id": "a", "masks": [{"mask": "a2.png", "label": "cat"}]}"""u8.ToArray(),
            notUtf8,
            """{"image": "d.jpg", "masks": [{"mask": "d0.png", "label": "lion"}]}"""u8.ToArray(),
            """{"image": "e.jpg", "masks": [{"mask": "e0.p"""u8.ToArray(),
        };
        File.WriteAllBytes(manifest, lines.SelectMany(l => l.Concat("\n"u8.ToArray())).ToArray());
        File.WriteAllLines(dir.File("classes.txt"), ["cat", "dog"]);

        var (errors, images) = ReadAll(new JsonlManifestReader(manifest, dir.File("classes.txt")));

        Assert.Equal(["a", "b"], images.Select(i => i.ImageId));
        Assert.Equal(["x"], images[0].Masks.Select(m => m.MaskId));
        Assert.Contains(errors, e => e.ItemId == "a/x" && e.Message.StartsWith("m.jsonl:1:") && e.Message.Contains("like mask 0"));
        Assert.Contains(errors, e => e.ItemId == "a" && e.Message.StartsWith("m.jsonl:3:") && e.Message.Contains("repeats line 1"));
        Assert.Contains(errors, e => e.Message.StartsWith("m.jsonl:4:"));   // not UTF-8: the JSON parser says so, no mangled path
        Assert.Contains(errors, e => e.Message.StartsWith("m.jsonl:5:") && e.Message.Contains("'lion'"));
        Assert.Contains(errors, e => e.Message.StartsWith("m.jsonl:6:"));   // truncated last line
        Assert.Equal(5, errors.Count);
    }

    [Fact]
    public void JsonlIdHashCollisionsNeverRefuseADistinctImage()
    {
        using var dir = new TempDir();
        var manifest = dir.File("m.jsonl");
        File.WriteAllLines(manifest, new[] { "a", "b", "a", "c", "b" }.Select(id => $$"""{"image": "{{id}}.jpg", "id": "{{id}}", "masks": [{"mask": "{{id}}.png"}]}"""));
        // Every id hashes alike: only a re-read of the first line can tell them apart.
        var (errors, images) = ReadAll(new JsonlManifestReader(manifest) { IdHash = _ => 42 });
        Assert.Equal(["a", "b", "c"], images.Select(i => i.ImageId));
        Assert.Equal(["m.jsonl:3: image id a repeats line 1; only that one is used.", "m.jsonl:5: image id b repeats line 2; only that one is used."],
            errors.Select(e => e.Message));
    }

    [Fact]
    public void MalformedOrEmptyMaskSourcesAreItemErrorsNamingTheMask()
    {
        var bad = Assert.Throws<ItemDataException>(() => MaskRasterizer.Rasterize(MaskSource.CompressedRle("5X", 4, 4), TestMasks.LoadPng, "7/55"));
        Assert.Equal("7/55", bad.Subject);
        Assert.Contains("ends inside a value", bad.Message);
        Assert.Throws<ItemDataException>(() => MaskRasterizer.Rasterize(MaskSource.Rle([3, 99], 4, 4), TestMasks.LoadPng, "7/56"));
        // A degenerate polygon rasterises to nothing: refused when fitted to its image, not scored.
        var flat = MaskRasterizer.Rasterize(MaskSource.Polygon([[1, 1, 5, 1, 9, 1]], 10, 10), TestMasks.LoadPng, "7/57");
        Assert.Contains("Mask 7/57 is empty", Assert.Throws<ItemDataException>(() => MaskLoader.FitToImage(flat, 10, 10, "7/57")).Message);
    }

    [Fact]
    public void EveryReaderConfinesItemPathsAndSaysTheSameForFilesThatExistAndDoNot()
    {
        using var dir = new TempDir();
        var root = dir.File("data");
        Directory.CreateDirectory(root);
        Directory.CreateSymbolicLink(Path.Combine(root, "etc"), "/etc");
        var options = new DatasetReaderOptions { Paths = new PathPolicy([root]) };

        // JSON lines: absolute, ../ and through a link.
        File.WriteAllLines(Path.Combine(root, "m.jsonl"),
        [
            """{"image": "/etc/hostname", "id": "abs", "masks": [{"mask": "m.png"}]}""",
            """{"image": "../../../etc/hostname", "id": "up", "masks": [{"mask": "m.png"}]}""",
            """{"image": "ok.jpg", "id": "link", "masks": [{"mask": "etc/hostname"}, {"mask": "/etc/no-such-file"}, {"mask": "fine.png"}]}""",
        ]);
        var (errors, images) = ReadAll(DatasetReaders.Open("jsonl", Path.Combine(root, "m.jsonl"), readerOptions: options));
        Assert.Equal(4, errors.Count);
        Assert.All(errors, e => Assert.Contains("outside the folders this cluster allows", e.Message));
        Assert.Equal(["fine"], images.SelectMany(i => i.Masks).Select(m => Path.GetFileNameWithoutExtension(m.Source.PngPath)));

        // COCO: file_name absolute and with ../
        Directory.CreateDirectory(Path.Combine(root, "annotations"));
        Directory.CreateDirectory(Path.Combine(root, "val2017"));
        File.Copy(WriteCoco(dir, [new { id = 1, file_name = "/etc/hostname", width = 10, height = 10 }, new { id = 2, file_name = "../../x.jpg", width = 10, height = 10 },
            new { id = 3, file_name = "ok.jpg", width = 10, height = 10 }], [Square(5, 1), Square(6, 2), Square(7, 3)]), Path.Combine(root, "annotations", "instances_val2017.json"));
        (errors, images) = ReadAll(DatasetReaders.Open("coco", root, readerOptions: options));
        Assert.Equal(["1", "2"], errors.Select(e => e.ItemId));
        Assert.Equal(["3"], images.Select(i => i.ImageId));

        // OpenImages: an ImageID with ../ and a MaskPath through the link.
        using (var w = new OpenImagesWriter(root, "validation", Classes))
        {
            w.AppendRawRow(["m.png", "../../../etc/hostname", "/m/cat", "x", "0.1", "0.2", "0.3", "0.4", "1", ""]);
            w.AppendRawRow(["../../etc/hostname", "img2", "/m/cat", "x", "0.1", "0.2", "0.3", "0.4", "1", ""]);
            w.AddMask("img3", "/m/cat", TestMasks.Rect(8, 8, 0, 0, 4, 4));
        }
        (errors, images) = ReadAll(DatasetReaders.Open("openimages", root, readerOptions: options));
        Assert.Equal(2, errors.Count);
        Assert.Equal(["img3"], images.Select(i => i.ImageId));

        // Top-level files outside the roots refuse the whole dataset, alike for files that exist and that do not.
        string Refusal(string classes) => Assert.Throws<PathNotAllowedException>(() => DatasetReaders.Open("jsonl", Path.Combine(root, "m.jsonl"), classesFile: classes, readerOptions: options)).Message.Replace(classes, "<f>");
        Assert.Equal(Refusal("/etc/shadow"), Refusal("/etc/no-such-file"));
        Assert.Throws<PathNotAllowedException>(() => DatasetReaders.Open("coco", "/etc/hostname", readerOptions: options));
        Assert.Throws<PathNotAllowedException>(() => DatasetReaders.Open("openimages", root, split: "../../../etc", readerOptions: options));
    }

    [Fact]
    public void LabelMapPhraseCutAndRefCocoReadersConfineTheirFilesToo()
    {
        using var dir = new TempDir();
        var root = dir.File("data");
        var options = new DatasetReaderOptions { Paths = new PathPolicy([root]) };

        // VOC: a split list naming an id that climbs out of the root is that id's error; the good id is read.
        var voc = Path.Combine(root, "VOCdevkit", "VOC2012");
        foreach (var d in new[] { "SegmentationClass", "JPEGImages", "ImageSets/Segmentation" }) Directory.CreateDirectory(Path.Combine(voc, d));
        File.WriteAllBytes(Path.Combine(voc, "SegmentationClass", "good.png"), Imaging.TestImages.Png(2, 2, 8, 0, [0, 1, 0, 1]));
        File.WriteAllLines(Path.Combine(voc, "ImageSets", "Segmentation", "val.txt"), ["../../../../../etc/hostname", "good"]);
        var (errors, images) = ReadAll(DatasetReaders.Open("voc", Path.Combine(root, "VOCdevkit"), readerOptions: options));
        Assert.Contains("outside the folders this cluster allows", Assert.Single(errors).Message);
        Assert.Equal(["good"], images.Select(i => i.ImageId));
        Assert.Throws<PathNotAllowedException>(() => DatasetReaders.Open("voc", Path.Combine(root, "VOCdevkit"), split: "../../../../../etc/x", readerOptions: options));

        // PhraseCut: an image id naming a path outside is that image's error.
        var phrasecut = Directory.CreateDirectory(Path.Combine(root, "VGPhraseCut_v0")).FullName;
        File.WriteAllText(Path.Combine(phrasecut, "image_data_split.json"), """[{"image_id": "../../../../etc/hostname", "width": 9, "height": 9}, {"image_id": 5, "width": 9, "height": 9}]""");
        static string Task(string image, string id) => $$"""{"task_id": "{{id}}", "image_id": {{image}}, "phrase": "a cat", "phrase_structure": {"name": "cat"}, "Polygons": [[[[1, 1], [5, 1], [5, 5]]]]}""";
        const string outside = "\"../../../../etc/hostname\"";
        File.WriteAllText(Path.Combine(phrasecut, "refer_val.json"), "[" + Task(outside, "t1") + ", " + Task("5", "t2") + "]");
        (errors, images) = ReadAll(DatasetReaders.Open("phrasecut", phrasecut, readerOptions: options));
        Assert.Contains("outside the folders this cluster allows", Assert.Single(errors).Message);
        Assert.Equal(["5"], images.Select(i => i.ImageId));

        // RefCOCO: its root, refs and instances files are confined like any dataset root.
        Assert.Throws<PathNotAllowedException>(() => DatasetReaders.Open("refcoco", "/etc", readerOptions: options));
        Assert.Throws<PathNotAllowedException>(() => DatasetReaders.Open("refcoco", Path.Combine(root, "..", "refcoco"), readerOptions: options));
    }
}
