using MaskInversion.Core.Imaging;
using MaskInversion.Core.Inversion;
using MaskInversion.Core.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace MaskInversion.Core.Tests.Inversion;

/// <summary>MaskInversion on the reference repository's example photos and masks.</summary>
public class RealPhotoTests
{
    [Theory]
    [InlineData("cats_and_dogs.jpg", "cat_mask.png", "dog_mask.png")]
    [InlineData("dress_and_flower.png", "dress_mask.png", "flower_mask.png")]
    public void DiceFallsOverTheIterations(string photo, string maskA, string maskB)
    {
        // A small random ViT at 224 px (14×14 patches); the optimisation itself must lower the Dice loss.
        var config = ClipConfig.Tiny(imageSize: 224, patch: 16, width: 64, layers: 3, headWidth: 16, embed: 32);
        using var model = ClipModel.CreateRandom(config, seed: 3);
        using var inverter = new MaskInverter(model.visual);
        var pre = new Preprocessor(224);
        var image = ImageLoader.Load(SharedData.Examples(photo));
        using var scope = torch.NewDisposeScope();
        using var features = inverter.Prepare(pre.ToPixels(image));
        // Masks may differ in size from the photo (dress/flower: 640×815 for a 416×530 photo): the loss is taken at
        // each mask's own resolution, the map resized to it, as the reference does.
        Tensor[] masks = [MaskLoader.ToTensor(MaskLoader.Load(SharedData.Examples(maskA))),
                          MaskLoader.ToTensor(MaskLoader.Load(SharedData.Examples(maskB)))];
        using var output = inverter.Invert(features, masks, new InversionOptions { Iterations = 10, LearningRate = 0.1 });
        var first = output.LossPerStep.select(1, 0);
        for (int m = 0; m < 2; m++)
        {
            float start = first[m].item<float>(), end = output.FinalDice[m].item<float>();
            Assert.True(end < start - 0.01f, $"{photo} mask {m}: Dice loss {start:F4} → {end:F4} did not fall");
        }
    }
}
