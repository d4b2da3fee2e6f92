using MaskInversion.Core;
using MaskInversion.Core.Datasets;
using MaskInversion.Core.Tests.Imaging;

namespace MaskInversion.Core.Tests.Datasets;

public class LabelMapReaderTests
{
    /// <summary>A palette label map, 6×4: aeroplane (1) top-left 2×2, person (15) right column, void (255) border pixels.</summary>
    static byte[] VocLabels() => TestImages.Png(6, 4, 8, 3,
    [
        1, 1, 0, 0, 255, 15,
        1, 1, 0, 0, 255, 15,
        0, 0, 0, 0, 255, 15,
        0, 0, 0, 0, 0, 15,
    ], palette: Enumerable.Range(0, 256).SelectMany(i => new[] { (byte)i, (byte)i, (byte)i }).ToArray());

    static string WriteVoc(TempDir dir, string year, string labelsFolder, string splitFile, params (string Id, byte[] Png)[] images)
    {
        var root = Path.Combine(dir.Path, "VOCdevkit", year);
        Directory.CreateDirectory(Path.Combine(root, labelsFolder));
        Directory.CreateDirectory(Path.Combine(root, "JPEGImages"));
        Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(root, splitFile))!);
        foreach (var (id, png) in images) File.WriteAllBytes(Path.Combine(root, labelsFolder, id + ".png"), png);
        File.WriteAllLines(Path.Combine(root, splitFile), images.Select(i => i.Id).Append("missing_0001"));
        return Path.Combine(dir.Path, "VOCdevkit");
    }

    [Fact]
    public void EachClassPresentIsOneMaskAndVoidBelongsToNone()
    {
        using var dir = new TempDir();
        var devkit = WriteVoc(dir, "VOC2012", "SegmentationClass", "ImageSets/Segmentation/val.txt", ("2007_000001", VocLabels()));
        var reader = DatasetReaders.Open("voc", devkit);
        Assert.Equal(20, reader.Classes.Count);
        Assert.Equal(new ClassInfo("11", "dining table"), reader.Classes[10]);
        var records = reader.ReadImages().ToList();
        var image = records[0].Image!;
        Assert.EndsWith(Path.Combine("VOC2012", "JPEGImages", "2007_000001.jpg"), image.ImagePath);
        Assert.Equal(["2007_000001_1", "2007_000001_15"], image.Masks.Select(m => m.MaskId));
        Assert.Equal(["aeroplane", "person"], image.Masks.Select(m => m.ClassName));
        Assert.Equal(new RegionBox(0, 2 / 6.0, 0, 0.5), image.Masks[0].Box);

        var person = MaskRasterizer.Rasterize(image.Masks[1].Source, TestMasks.LoadPng);
        Assert.Equal(4, person.Area);
        Assert.True(person[5, 0] && person[5, 3] && !person[4, 0]); // the void column is not the person's

        var missing = records[1].Error!;
        Assert.Contains("missing_0001", missing.Message);
        Assert.Contains("does not exist", missing.Message);
    }

    [Fact]
    public void PascalContextUsesItsFoldersAndFiftyNineClasses()
    {
        using var dir = new TempDir();
        var devkit = WriteVoc(dir, "VOC2010", "SegmentationClassContext", "ImageSets/SegmentationContext/val.txt",
            ("2008_000002", TestImages.Png(3, 1, 8, 0, [0, 59, 37])), ("2008_000003", TestImages.Png(2, 1, 8, 0, [60, 1])));
        var reader = DatasetReaders.Open("pascal-context", devkit);
        Assert.Equal(59, reader.Classes.Count);
        var records = reader.ReadImages().ToList();
        Assert.Equal(["person", "wood"], records[0].Image!.Masks.Select(m => m.ClassName));
        Assert.Contains("label value(s) 60", records[1].Error!.Message);

        // A class list overrides the names (and widens the range), e.g. the full 459-class label maps.
        var classes = dir.File("classes.txt");
        File.WriteAllLines(classes, Enumerable.Range(1, 60).Select(i => $"class {i}"));
        var wide = DatasetReaders.Open("pascal-context", devkit, classesFile: classes).ReadImages().ToList();
        Assert.Equal(["class 60", "class 1"], wide[1].Image!.Masks.Select(m => m.ClassName).Reverse());
    }

    [Fact]
    public void ALabelMapSourceWithoutItsLabelFailsInsteadOfReadingBackground()
    {
        var source = new MaskSource(MaskSourceKind.LabelMap, PngPath: "x.png");
        Assert.Contains("without a label", Assert.Throws<ItemDataException>(() => MaskRasterizer.Rasterize(source, TestMasks.LoadPng)).Message);
    }
}
