using MaskInversion.Core.Datasets;
using MaskInversion.Core.Imaging;

namespace MaskInversion.Core.Tests.Datasets;

public class OpenImagesReaderTests
{
    static readonly ClassInfo[] Classes =
    [
        new("/m/01g317", "Person"), new("/m/01yrx", "Cat"), new("/m/0bt9lr", "Dog"), new("/m/0k4j", "Car, sedan"),
    ];

    /// <summary>Three images whose rows interleave (not grouped by ImageID), plus three damaged rows.</summary>
    static Dictionary<string, BinaryMask> WriteSample(string root, IReadOnlyList<string>? segmentationClasses = null)
    {
        var written = new Dictionary<string, BinaryMask>();
        using var w = new OpenImagesWriter(root, "validation", Classes, segmentationClasses);
        foreach (var id in new[] { "aaa1", "bbb2", "ccc3" }) w.AddImage(id, RgbImage.Filled(32, 24, 10, 20, 30));
        void Add(string img, string label, BinaryMask m) => written[Path.GetFileNameWithoutExtension(w.AddMask(img, label, m))] = m;
        Add("aaa1", "/m/01g317", TestMasks.Rect(32, 24, 0, 0, 10, 10));           // line 2
        Add("bbb2", "/m/01yrx", TestMasks.Rect(16, 12, 2, 2, 8, 6));              // line 3 (mask smaller than image, as in OI)
        Add("aaa1", "/m/0bt9lr", TestMasks.Rect(32, 24, 5, 5, 30, 20));           // line 4
        w.AppendRawRow(["bbb2_bad.png", "bbb2", "/m/01yrx", "x", "0.1", "oops", "0.2", "0.3", "1", ""]);   // line 5
        Add("ccc3", "/m/0k4j", TestMasks.Rect(32, 24, 1, 1, 3, 3));               // line 6
        w.AppendRawRow(["ccc3_unk.png", "ccc3", "/m/0nope", "x", "0.1", "0.2", "0.2", "0.3", "1", ""]);    // line 7
        w.AppendRawRow(["short.png", "ccc3"]);                                                            // line 8
        Add("bbb2", "/m/01g317", TestMasks.Rect(16, 12, 0, 0, 16, 1));            // line 9
        return written;
    }

    [Fact]
    public void RoundTripGroupsUnsortedRowsAndReportsBadRowsWithLineNumbers()
    {
        using var dir = new TempDir();
        var written = WriteSample(dir.Path);
        var reader = new OpenImagesReader(dir.Path, "validation");

        Assert.Equal(Classes.Select(c => c.Name), reader.Classes.Select(c => c.Name));
        var records = reader.ReadImages().ToList();
        var errors = records.Where(r => r.IsError).Select(r => r.Error!).ToList();
        var images = records.Where(r => !r.IsError).Select(r => r.Image!).ToList();

        Assert.Equal(3, errors.Count);
        Assert.Contains(errors, e => e.Message.Contains(":8:") && e.Message.Contains("columns"));
        Assert.Contains(errors, e => e.Message.Contains(":5:") && e.Message.Contains("BoxXMax 'oops'") && e.ItemId == "bbb2/bbb2_bad");
        Assert.Contains(errors, e => e.Message.Contains(":7:") && e.Message.Contains("/m/0nope"));
        Assert.All(errors, e => Assert.Contains("validation-annotations-object-segmentation.csv", e.Message));

        Assert.Equal(["aaa1", "bbb2", "ccc3"], images.Select(i => i.ImageId));
        Assert.Equal([2, 2, 1], images.Select(i => i.Masks.Count));
        Assert.Equal(["Person", "Dog"], images[0].Masks.Select(m => m.ClassName));
        Assert.Equal("Car, sedan", images[2].Masks[0].ClassName);
        Assert.All(images, i => Assert.True(File.Exists(i.ImagePath), i.ImagePath));

        foreach (var mask in images.SelectMany(i => i.Masks))
        {
            var decoded = MaskRasterizer.Rasterize(mask.Source, TestMasks.LoadPng);
            Assert.Equal(written[mask.MaskId].Data, decoded.Data);
        }
        var dog = images[0].Masks[1].Box!.Value;
        Assert.Equal(new RegionBox(5 / 32.0, 30 / 32.0, 5 / 24.0, 20 / 24.0), dog);

        // A second enumeration reuses the index and gives the same stream.
        Assert.Equal(records.Count, reader.ReadImages().Count());
    }

    [Fact]
    public void SegmentationClassListRestrictsClassesAndDropsOtherRows()
    {
        using var dir = new TempDir();
        WriteSample(dir.Path, segmentationClasses: ["/m/0bt9lr", "/m/01g317"]);
        var reader = new OpenImagesReader(dir.Path, "validation");
        Assert.Equal(["Dog", "Person"], reader.Classes.Select(c => c.Name));

        var images = reader.ReadImages().Where(r => !r.IsError).Select(r => r.Image!).ToList();
        Assert.Equal(["aaa1", "bbb2"], images.Select(i => i.ImageId));     // ccc3 only had a car
        Assert.All(images.SelectMany(i => i.Masks), m => Assert.Contains(m.ClassId, new[] { "/m/0bt9lr", "/m/01g317" }));
        Assert.Equal(3, reader.SkippedRows);                                // two cats (one with a bad box) and the car
    }

    [Fact]
    public void ResolvesRootLevelFoldersWhenSplitFoldersAreAbsent()
    {
        using var dir = new TempDir();
        WriteSample(dir.Path);
        Directory.Move(Path.Combine(dir.Path, "validation", "masks"), Path.Combine(dir.Path, "masks"));
        var reader = new OpenImagesReader(dir.Path, "validation");
        Assert.Equal(Path.Combine(dir.Path, "masks"), reader.MasksDirectory);
        Assert.Equal(Path.Combine(dir.Path, "validation", "images"), reader.ImagesDirectory);
        var first = reader.ReadImages().First(r => !r.IsError).Image!;
        Assert.True(File.Exists(first.Masks[0].Source.PngPath));

        var custom = new OpenImagesReader(dir.Path, "validation", new OpenImagesLayout { MaskDirectories = ["elsewhere"] });
        Assert.Equal(Path.Combine(dir.Path, "elsewhere"), custom.MasksDirectory);
    }

    [Fact]
    public void CsvReaderHandlesQuotesNewlinesAndSeeksBack()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("q.csv"), "\uFEFFa,b\r\n\"x,1\",\"say \"\"hi\"\"\nthere\"\r\n\r\nlast,é\n");
        using var csv = CsvRecordReader.Open(dir.File("q.csv"), bufferSize: 16);
        var f = new List<string>();
        Assert.True(csv.Read(f, out _, out int l1));
        Assert.Equal(["a", "b"], f); Assert.Equal(1, l1);
        Assert.True(csv.Read(f, out long o2, out int l2));
        Assert.Equal(["x,1", "say \"hi\"\nthere"], f); Assert.Equal(2, l2);
        Assert.True(csv.Read(f, out long o3, out int l3));
        Assert.Equal(["last", "é"], f); Assert.Equal(5, l3);
        Assert.False(csv.Read(f, out _, out _));
        csv.Seek(o2, l2);
        Assert.True(csv.Read(f, out long again, out _));
        Assert.Equal(o2, again); Assert.Equal("x,1", f[0]);
        csv.Seek(o3, l3);
        Assert.True(csv.Read(f, out _, out _)); Assert.Equal("é", f[1]);
    }
}
