using Microsoft.Extensions.Logging;

namespace MaskInversion.Grains;

/// <summary>
/// Sends images to their image grains. The coordinator, not the client, makes these calls: a grain caller whose
/// target silo dies gets SiloUnavailableException once membership declares it dead, while an external client
/// would only time out. Errors about an item's own data never arrive here: the image and mask grains record them as
/// the item's result. Anything that does arrive (silo lost, timeout, storage, an engine or libtorch fault) re-sends
/// the same image key with exponential backoff (250 ms · 2ⁿ, ≤ 10 s) — image grains are idempotent by key — up to the
/// job's MaxAttempts, and is never recorded as the image's result: after the last attempt the job fails, naming the
/// image and the error (its results would otherwise be silently incomplete or wrong). While the cluster cannot take
/// the image at all (its silo declared dead, no compute silo joined yet) attempts are not counted. The <see cref="IImageProcessor"/> makes each
/// attempt. Runs on the coordinator's scheduler (its awaits return there).
/// </summary>
sealed class ImageDispatcher(IGrainFactory grains, IImageProcessor processor, ILogger logger, Action onRetry, Func<bool> stopping)
{
    public static TimeSpan Backoff(int attempt) => TimeSpan.FromMilliseconds(Math.Min(10_000, 250 * Math.Pow(2, attempt - 1)));

    /// <summary>The image's outcome.</summary>
    /// <exception cref="ImageDispatchException">The image still failed after MaxAttempts counted attempts.</exception>
    public async Task<ImageOutcome> DispatchAsync(ImageWork work)
    {
        for (int attempt = 1, counted = 0; ; attempt++)
        {
            if (stopping()) throw new OperationCanceledException($"Dispatch of image {work.ImageId} stops with its coordinator's activation.");
            try
            {
                return await processor.ProcessAsync(grains, work);
            }
            catch (Exception ex) when (!stopping() && (ClusterUnavailable(ex) || ++counted < work.Job.MaxAttempts))
            {
                onRetry();
                var delay = Backoff(attempt);
                logger.LogWarning("Image {Image} attempt {Attempt} failed ({Error}); retrying in {Delay}", work.ImageId, attempt, ex.Message, delay);
                await Task.Delay(delay);
            }
            catch (Exception ex) when (!stopping())
            {
                logger.LogError(ex, "Image {Image} failed {Attempts} attempts; the job stops", work.ImageId, attempt);
                throw new ImageDispatchException(work.ImageId, attempt, ex);
            }
        }
    }

    /// <summary>No silo can take the image right now: the silo holding it is dead or unreachable, or no compute silo
    /// has joined yet (the cluster is restarting). Not the image's fault, so it never uses up MaxAttempts.</summary>
    static bool ClusterUnavailable(Exception ex) =>
        ex is OrleansMessageRejectionException   // includes SiloUnavailableException and failed connections
        || ex is ArgumentException { Message: var m } && m.StartsWith("Could not find an implementation for interface", StringComparison.Ordinal);
}

/// <summary>An image that could not be processed within the job's MaxAttempts for a reason other than its own data (an
/// engine or infrastructure fault): the job fails with this message rather than record the fault as the image's result.</summary>
public sealed class ImageDispatchException(string imageId, int attempts, Exception last)
    : Exception($"Image {imageId} could not be processed in {attempts} attempts (not an error in its data, so not recorded as its result); " +
        $"last error: {last.GetType().Name}: {last.Message}", last)
{
    public string ImageId { get; } = imageId;
}
