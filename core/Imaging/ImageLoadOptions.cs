using MaskInversion.Core.Datasets;

namespace MaskInversion.Core.Imaging;

/// <summary>Limits applied while decoding untrusted image files.</summary>
public sealed record ImageLoadOptions
{
    /// <summary>PIL's <c>Image.MAX_IMAGE_PIXELS</c>: above this the header alone rejects the file (decompression bombs).</summary>
    public const long DefaultMaxPixels = 89_478_485;

    /// <summary>Default <see cref="MaxSide"/>: 4.5× a 448 model input, so crops of small regions keep their detail.</summary>
    public const int DefaultMaxSide = 2048;

    /// <summary>Default <see cref="MaxFileBytes"/>: far above any real photo or mask.</summary>
    public const long DefaultMaxFileBytes = 256L << 20;

    public static ImageLoadOptions Default { get; } = new();

    /// <summary>Largest accepted Width × Height, checked from the header before any pixel is decoded.</summary>
    public long MaxPixels { get; init; } = DefaultMaxPixels;

    /// <summary>Images whose longer side exceeds this are decoded straight to a size whose longer side is this
    /// (aspect kept; JPEG by the decoder's own DCT scaling, then area-averaged), so a 9000×9000 photo never becomes a
    /// 9000×9000 RGB image or tensor. Masks are fitted to the decoded image's size.</summary>
    public int MaxSide { get; init; } = DefaultMaxSide;

    /// <summary>Files larger than this are refused before they are read.</summary>
    public long MaxFileBytes { get; init; } = DefaultMaxFileBytes;

    /// <summary>Where image and mask files may be read from (a silo's dataset roots); unrestricted by default.</summary>
    public PathPolicy Paths { get; init; } = PathPolicy.Unrestricted;

    internal void Validate()
    {
        if (MaxPixels <= 0) throw new ArgumentOutOfRangeException(nameof(MaxPixels), MaxPixels, "Must be positive.");
        if (MaxSide <= 0) throw new ArgumentOutOfRangeException(nameof(MaxSide), MaxSide, "Must be positive.");
        if (MaxFileBytes <= 0) throw new ArgumentOutOfRangeException(nameof(MaxFileBytes), MaxFileBytes, "Must be positive.");
    }
}
