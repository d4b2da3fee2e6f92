using MaskInversion.Core.Imaging;
using MaskInversion.Core.Inversion;

namespace MaskInversion.Core.Pipeline;

/// <summary>An image decoded, preprocessed and forwarded once; holds the decomposition cache for its masks.</summary>
public sealed class PreparedImage : IDisposable
{
    public required string ImageId { get; init; }
    public required RgbImage Image { get; init; }
    public required ImageFeatures Features { get; init; }
    /// <summary>Approximate tensor memory held (for a silo's cache budget); grows if the explicit map is built.</summary>
    public long ApproximateBytes => Features.ApproximateBytes;
    public void Dispose() => Features.Dispose();
}
