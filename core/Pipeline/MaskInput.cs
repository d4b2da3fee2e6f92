using MaskInversion.Core.Datasets;
using MaskInversion.Core.Imaging;

namespace MaskInversion.Core.Pipeline;

/// <summary>One query mask of an image, decoded at its own resolution (which may differ from its image's, e.g.
/// OpenImages' masks or an image decoded downscaled): the inversion's loss resizes the map to the mask as the
/// reference does; pixel-editing baselines take it at the image's size (<see cref="AtSize"/>).</summary>
public sealed record MaskInput(string MaskId, BinaryMask Mask)
{
    /// <summary>Decodes a mask and checks it against its image (not empty, the image's aspect ratio); errors about
    /// the mask are <see cref="ItemDataException"/>s naming it. The one place masks are decoded for the engine, so a
    /// cluster run and a direct run see the same pixels.</summary>
    /// <param name="options">Decoding limits and allowed roots (a silo passes its own).</param>
    public static MaskInput Load(string maskId, MaskSource source, int imageWidth, int imageHeight, ImageLoadOptions? options = null)
    {
        var mask = MaskRasterizer.Rasterize(source, p => MaskLoader.Load(p, options: options), maskId);
        MaskLoader.CheckFitsImage(mask, imageWidth, imageHeight, maskId);
        return new MaskInput(maskId, mask);
    }

    /// <summary>The mask at <paramref name="width"/>×<paramref name="height"/> (nearest; itself when it already is).</summary>
    public BinaryMask AtSize(int width, int height) =>
        Mask.Width == width && Mask.Height == height ? Mask : MaskLoader.FitToImage(Mask, width, height, MaskId);
}
