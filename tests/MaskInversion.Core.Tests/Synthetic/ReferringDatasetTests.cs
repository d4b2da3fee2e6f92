using MaskInversion.Core.Datasets;
using MaskInversion.Core.Imaging;
using MaskInversion.Core.Synthetic;
using MaskInversion.Core.Tests.Datasets;

namespace MaskInversion.Core.Tests.Synthetic;

public sealed class ReferringDatasetTests
{
    /// <summary>The synthetic referring world written as RefCOCO reads back through the real reader with the generator's
    /// pixels, masks and expressions: what a cluster referring job runs on.</summary>
    [Fact]
    public void TheRefCocoLayoutReadsBackAsTheScenes()
    {
        using var dir = new TempDir();
        var options = ReferringWorld.Options(new SceneOptions { Width = 64, Height = 48 });
        var summary = ReferringDataset.WriteRefCoco(dir.File("refcoco"), 5, seed: 9, options);
        var scenes = new SceneGenerator(9, options).Generate(0, 5);
        Assert.Equal((5, scenes.Sum(s => s.Objects.Count), scenes.Sum(s => s.Objects.Count)), (summary.Images, summary.Candidates, summary.Expressions));

        var images = DatasetReaders.Open("refcoco", summary.Root, "val").ReadImages().Select(r => r.Image ?? throw new Xunit.Sdk.XunitException(r.Error!.Message)).ToList();
        Assert.Equal(5, images.Count);
        for (int s = 0; s < 5; s++)
        {
            var image = images[s];
            var scene = scenes[s];
            Assert.Equal(scene.Image.Pixels, ImageLoader.Load(image.ImagePath).Pixels);   // lossless
            Assert.Equal(scene.Objects.Count, image.Masks.Count);
            var expressions = ReferringWorld.Expressions(scene);
            Assert.Equal(expressions.Select(e => e.Text), image.Expressions!.Select(e => e.Text));
            for (int k = 0; k < scene.Objects.Count; k++)
            {
                var mask = MaskRasterizer.Rasterize(image.Masks[k].Source, TestMasks.LoadPng);
                Assert.Equal(scene.Objects[k].Mask.Data, mask.Data);
                Assert.Equal(scene.Objects[k].ClassName, image.Masks[k].ClassName);
                // Each expression refers to the instance of the object it names.
                Assert.Equal(image.Masks[expressions[k].ObjectIndex].MaskId, image.Expressions![k].MaskId);
            }
        }
    }
}
