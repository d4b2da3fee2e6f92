using Microsoft.Extensions.Logging;

namespace MaskInversion.Grains;

/// <summary>
/// Sends images to their image grains. The coordinator, not the client, makes these calls: a grain caller whose
/// target silo dies gets SiloUnavailableException once membership declares it dead, while an external client
/// would only time out. Any failure (silo lost, timeout, storage) re-sends the same image key with exponential
/// backoff (250 ms · 2ⁿ, ≤ 10 s) — image grains are idempotent by key — up to the job's MaxAttempts; then the
/// image's masks carry the last error. While the cluster cannot take the image at all (its silo declared dead, no
/// compute silo joined yet) attempts are not counted. The <see cref="IImageProcessor"/> makes each attempt. Runs on the coordinator's scheduler (its awaits return there).
/// </summary>
sealed class ImageDispatcher(IGrainFactory grains, IImageProcessor processor, ILogger logger, Action onRetry, Func<bool> stopping)
{
    public static TimeSpan Backoff(int attempt) => TimeSpan.FromMilliseconds(Math.Min(10_000, 250 * Math.Pow(2, attempt - 1)));

    /// <summary>The image's outcome; never throws: after the last attempt, an outcome whose masks carry the error.</summary>
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
                var error = $"failed after {attempt} attempts: {ex.GetType().Name}: {ex.Message}";
                return new ImageOutcome(work.ImageId, work.Masks.Select(m => new MaskRecord(m.MaskId, m.ClassIndex, [], error)).ToArray(), error,
                    work.Expressions?.Select(e => new ExpressionRecord(e.ExpressionId, e.MaskId, [], error)).ToArray());
            }
        }
    }

    /// <summary>No silo can take the image right now: the silo holding it is dead or unreachable, or no compute silo
    /// has joined yet (the cluster is restarting). Not the image's fault, so it never uses up MaxAttempts.</summary>
    static bool ClusterUnavailable(Exception ex) =>
        ex is OrleansMessageRejectionException   // includes SiloUnavailableException and failed connections
        || ex is ArgumentException { Message: var m } && m.StartsWith("Could not find an implementation for interface", StringComparison.Ordinal);
}
