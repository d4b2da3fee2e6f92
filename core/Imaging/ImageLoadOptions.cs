namespace MaskInversion.Core.Imaging;

/// <summary>Limits applied while decoding untrusted image files.</summary>
public sealed record ImageLoadOptions
{
    /// <summary>PIL's <c>Image.MAX_IMAGE_PIXELS</c>: above this the header alone rejects the file (decompression bombs).</summary>
    public const long DefaultMaxPixels = 89_478_485;

    public static ImageLoadOptions Default { get; } = new();

    /// <summary>Largest accepted Width × Height, checked from the header before any pixel is decoded.</summary>
    public long MaxPixels { get; init; } = DefaultMaxPixels;
}
