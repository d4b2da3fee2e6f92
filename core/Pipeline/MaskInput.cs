using MaskInversion.Core.Datasets;
using MaskInversion.Core.Imaging;

namespace MaskInversion.Core.Pipeline;

/// <summary>One query mask of an image, decoded.</summary>
public sealed record MaskInput(string MaskId, BinaryMask Mask)
{
    /// <summary>Decodes a mask at its image's size (OpenImages mask PNGs may be another size than their image).
    /// The one place masks are decoded for the engine, so a cluster run and a direct run see the same pixels.</summary>
    public static MaskInput Load(string maskId, MaskSource source, int imageWidth, int imageHeight)
    {
        var mask = MaskRasterizer.Rasterize(source, p => MaskLoader.Load(p));
        return new MaskInput(maskId, mask.Width == imageWidth && mask.Height == imageHeight ? mask : MaskLoader.Resize(mask, imageWidth, imageHeight));
    }
}
