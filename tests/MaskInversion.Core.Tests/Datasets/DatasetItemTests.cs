using System.Text.Json;
using MaskInversion.Core.Datasets;

namespace MaskInversion.Core.Tests.Datasets;

public class DatasetItemTests
{
    [Fact]
    public void RecordsArePlainDataThatRoundTripThroughJson()
    {
        var image = new DatasetImage("img", "/data/img.jpg",
        [
            new DatasetMask("a", "1", "person", null, MaskSource.Polygon([[1, 2, 3, 4, 5, 6]], 10, 12), new RegionBox(0.1, 0.2, 0.3, 0.4)),
            new DatasetMask("b", null, null, "the thing", MaskSource.Png("/m/b.png"), null),
            new DatasetMask("c", "3", "car", null, MaskSource.CompressedRle("5X1", 5, 9), null),
            new DatasetMask("d", "3", "car", null, MaskSource.Rle([1, 44], 5, 9), null),
        ]);
        var back = JsonSerializer.Deserialize<DatasetImage>(JsonSerializer.Serialize(DatasetRecord.Of(image).Image))!;
        Assert.Equal(image.ImageId, back.ImageId);
        Assert.Equal(image.Masks[0].Box, back.Masks[0].Box);
        Assert.Equal(image.Masks[0].Source.Polygons![0], back.Masks[0].Source.Polygons![0]);
        Assert.Equal("the thing", back.Masks[1].Expression);
        Assert.Equal(MaskSourceKind.RleString, back.Masks[2].Source.Kind);
        // The rasterised pixels survive the trip too.
        for (int i = 0; i < image.Masks.Count; i++)
        {
            if (image.Masks[i].Source.Kind == MaskSourceKind.Png) continue;
            Assert.Equal(MaskRasterizer.Rasterize(image.Masks[i].Source, _ => throw new InvalidOperationException()).Data,
                MaskRasterizer.Rasterize(back.Masks[i].Source, _ => throw new InvalidOperationException()).Data);
        }
    }
}
