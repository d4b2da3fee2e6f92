using MaskInversion.Core.Imaging;
using MaskInversion.Core.Inversion;
using MaskInversion.Core.Synthetic;
using MaskInversion.Core.Text;
using Bundle = MaskInversion.Core.Training.MiniClip;

namespace MaskInversion.Core.Tests.Inversion;

/// <summary>One photo and its masks, as <c>client invert</c> / <c>client legrad</c> run them, on the bundled MiniCLIP.</summary>
public class ImageInversionTests
{
    static ImageInversion Bundled()
    {
        var bundle = Bundle.LoadBundled();
        return new ImageInversion(bundle.Model, bundle.Tokenizer, new Preprocessor(bundle.ImageSize));
    }

    static Scene TwoObjects() => new SceneGenerator(Bundle.HeldOutSceneSeed + 7, Bundle.Scenes(96, minObjects: 2, maxObjects: 2)).Generate(3);

    [Fact]
    public void InvertsMasksAtTheirOwnResolutionAndLabelsThem()
    {
        using var engine = Bundled();
        var scene = TwoObjects();
        var classes = SceneVocabulary.Default.ClassNames.ToArray();
        // The second object's mask at twice the photo's resolution: the reference's masks need not match the photo.
        var big = MaskLoader.Resize(scene.Objects[1].Mask, 192, 192);
        var options = new InversionOptions { Iterations = 10 };
        var regions = engine.Invert(scene.Image, [scene.Objects[0].Mask, big], classes, PromptTemplates.Single, options, topK: 3);
        Assert.Equal(2, regions.Count);
        foreach (var r in regions)
        {
            Assert.Equal(10, r.DiceLossPerStep.Length);
            Assert.Equal(96 * 96, r.Map.Length);
            Assert.Equal(64, r.Embedding.Length);
            Assert.Equal(3, r.Labels.Count);
            Assert.True(r.Labels[0].Score >= r.Labels[1].Score && r.Labels[1].Score >= r.Labels[2].Score);
            Assert.True(r.FinalDiceLoss < r.DiceLossPerStep[0] - 0.05, $"mask {r.MaskIndex}: Dice loss {r.DiceLossPerStep[0]:F3} → {r.FinalDiceLoss:F3}");
        }
        // The same region given at 2× resolution is labelled like the native one and fits about as well.
        var native = engine.Invert(scene.Image, [scene.Objects[1].Mask], classes, PromptTemplates.Single, options, topK: 1)[0];
        Assert.Equal(native.Labels[0].Label, regions[1].Labels[0].Label);
        Assert.Equal(native.FinalDiceLoss, regions[1].FinalDiceLoss, 0.02);
    }

    [Fact]
    public void PromptMapsLightUpTheirObject()
    {
        using var engine = Bundled();
        var scene = TwoObjects();
        var maps = engine.TextMaps(scene.Image, scene.Objects.Select(o => SceneCaption.ForClass(o.ClassName)).ToArray());
        for (int k = 0; k < 2; k++)
        {
            var mask = scene.Objects[k].Mask;
            double inside = 0, outside = 0;
            for (int p = 0; p < mask.Data.Length; p++) if (mask.Data[p] != 0) inside += maps[k].Map[p]; else outside += maps[k].Map[p];
            inside /= mask.Area;
            outside /= mask.Data.Length - mask.Area;
            Assert.True(inside > 2 * outside, $"'{maps[k].Text}': mean map {inside:F3} on its object vs {outside:F3} elsewhere");
        }
    }

    [Fact]
    public void MaskOfAnotherPictureIsRefusedByName()
    {
        var image = RgbImage.Filled(640, 480, 0, 0, 0);
        ImageInversion.CheckMaskFits(image, BinaryMask.Empty(1280, 960), "scaled.png"); // same aspect: fine
        ImageInversion.CheckMaskFits(image, BinaryMask.Empty(639, 480), "off-by-one.png");
        var e = Assert.Throws<ArgumentException>(() => ImageInversion.CheckMaskFits(image, BinaryMask.Empty(480, 640), "rotated.png"));
        Assert.Contains("'rotated.png' is 480×640 but the image is 640×480", e.Message);
    }
}
