namespace MaskInversion.Grains;

/// <summary>
/// A prepared image (decoded, forwarded once, decomposition cached) held by one silo's compute executor. The
/// executor issues it, the image grain owns it for the life of its work and passes it to its mask grains, which
/// run their inversions against it. It names the image's slot, never its tensors: a handle from another executor
/// (another silo, or this silo before a restart) or one already released fails with ImageNotPreparedException, and
/// the caller prepares again.
/// </summary>
/// <param name="Executor">The issuing executor's identity (fresh per executor instance).</param>
/// <param name="Slot">The image's slot in that executor, never reused.</param>
/// <param name="Width">Decoded image width: masks are decoded at the image's size.</param>
[GenerateSerializer, Immutable]
public sealed record PreparedImageHandle(
    [property: Id(0)] Guid Executor,
    [property: Id(1)] long Slot,
    [property: Id(2)] string ImageId,
    [property: Id(3)] int Width,
    [property: Id(4)] int Height);

/// <summary>The image is not (or no longer) prepared on this silo's executor: the caller must prepare it again.</summary>
[GenerateSerializer]
public sealed class ImageNotPreparedException(string message) : Exception(message);
