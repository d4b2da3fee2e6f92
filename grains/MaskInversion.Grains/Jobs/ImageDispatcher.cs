using Microsoft.Extensions.Logging;

namespace MaskInversion.Grains;

/// <summary>
/// Sends images to their image grains. The coordinator, not the client, makes these calls: a grain caller whose
/// target silo dies gets SiloUnavailableException once membership declares it dead, while an external client
/// would only time out. Any failure (silo lost, timeout, storage) re-sends the same image key with exponential
/// backoff (250 ms · 2ⁿ, ≤ 10 s) — image grains are idempotent by key — up to the job's MaxAttempts; then the
/// image's masks carry the last error. Runs on the coordinator's scheduler (its awaits return there).
/// </summary>
sealed class ImageDispatcher(IGrainFactory grains, ILogger logger, Action onRetry)
{
    public static TimeSpan Backoff(int attempt) => TimeSpan.FromMilliseconds(Math.Min(10_000, 250 * Math.Pow(2, attempt - 1)));

    /// <summary>The image's outcome; never throws: after the last attempt, an outcome whose masks carry the error.</summary>
    public async Task<ImageOutcome> DispatchAsync(ImageWork work)
    {
        var grain = grains.GetGrain<IImageGrain>(GrainKeys.Image(work.JobId, work.ImageId));
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                return await grain.ProcessAsync(work);
            }
            catch (Exception ex) when (attempt < work.Job.MaxAttempts)
            {
                onRetry();
                var delay = Backoff(attempt);
                logger.LogWarning("Image {Image} attempt {Attempt} failed ({Error}); retrying in {Delay}", work.ImageId, attempt, ex.Message, delay);
                await Task.Delay(delay);
            }
            catch (Exception ex)
            {
                var error = $"failed after {attempt} attempts: {ex.GetType().Name}: {ex.Message}";
                return new ImageOutcome(work.ImageId, work.Masks.Select(m => new MaskRecord(m.MaskId, m.ClassIndex, [], error)).ToArray(), error);
            }
        }
    }
}
