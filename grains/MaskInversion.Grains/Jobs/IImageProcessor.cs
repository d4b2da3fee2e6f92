namespace MaskInversion.Grains;

/// <summary>
/// How a coordinator has one image worked: <see cref="ImageDispatcher"/> calls it once per attempt and owns the
/// retries. The cluster's implementation is <see cref="ImageGrainProcessor"/> (the image grain keyed jobId/imageId);
/// <c>bench coordinator</c> registers one that answers canned outcomes, to time the coordinator's own bookkeeping.
/// </summary>
public interface IImageProcessor
{
    /// <summary>The image's outcome; throws when the attempt failed (the dispatcher retries it or, after MaxAttempts, fails the job).</summary>
    Task<ImageOutcome> ProcessAsync(IGrainFactory grains, ImageWork work);
}

/// <summary>Sends the image to its image grain (a referring image to its referring image grain: same key, same
/// placement), which is idempotent by key.</summary>
public sealed class ImageGrainProcessor : IImageProcessor
{
    public Task<ImageOutcome> ProcessAsync(IGrainFactory grains, ImageWork work)
    {
        // Resolved per attempt: while no compute silo is in the cluster (a restart under way) this throws.
        var key = GrainKeys.Image(work.JobId, work.ImageId);
        return work.Expressions is null
            ? grains.GetGrain<IImageGrain>(key).ProcessAsync(work)
            : grains.GetGrain<IReferringImageGrain>(key).ProcessAsync(work);
    }
}
