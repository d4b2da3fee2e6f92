using MaskInversion.Core.Imaging;
using TorchSharp;
using static TorchSharp.torch;

namespace MaskInversion.Core.Pipeline.Methods;

/// <summary>A baseline that edits the pixels to point at the region (crop, masked crop, red circle, blur) and
/// embeds the edited image with the frozen image encoder.</summary>
public sealed class VisualPromptMethod(string name, Func<RgbImage, BinaryMask, RgbImage> prompt, int batch = 16) : RegionMethod(name)
{
    public override RegionEmbeddings Embed(RegionEngine engine, PreparedImage image, IReadOnlyList<MaskInput> masks)
    {
        var parts = new List<Tensor>();
        using var noGrad = torch.no_grad();
        for (int start = 0; start < masks.Count; start += batch)
        {
            var prompted = masks.Skip(start).Take(batch).Select(m => prompt(image.Image, m.AtSize(image.Image.Width, image.Image.Height))).ToList();
            using var pixels = engine.Preprocessor.ToPixelsBatch(prompted).to(engine.Device);
            parts.Add(engine.Model.EncodeImages(pixels));
        }
        return new RegionEmbeddings(torch.cat(parts, 0));
    }
}
