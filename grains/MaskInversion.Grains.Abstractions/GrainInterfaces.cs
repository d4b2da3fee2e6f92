using Orleans.Concurrency;

namespace MaskInversion.Grains;

/// <summary>One job (key: job id). Owns dispatch, retries, progress and the merged metrics; durable.</summary>
public interface IJobCoordinatorGrain : IGrainWithStringKey
{
    /// <summary>Starts the job; a repeat with the same spec is a no-op, a different spec is refused.</summary>
    Task<JobProgress> SubmitAsync(JobSpec spec);

    [AlwaysInterleave] Task<JobProgress> GetProgressAsync();

    [AlwaysInterleave] Task<JobResults> GetResultsAsync();

    /// <summary>Stops dispatching; images in flight finish and are counted.</summary>
    [AlwaysInterleave] Task<JobProgress> CancelAsync();
}

/// <summary>One image of one job (key: "jobId/imageId"). Placed only on compute silos.</summary>
public interface IImageGrain : IGrainWithStringKey
{
    /// <summary>Forwards the image once, has its mask grains record every mask, frees the cache. Idempotent.</summary>
    [ResponseTimeout("00:30:00")]
    Task<ImageOutcome> ProcessAsync(ImageWork work);
}

/// <summary>One query mask (key: "jobId/imageId/maskId"); keeps its record so a repeat returns it unchanged.</summary>
public interface IMaskGrain : IGrainWithStringKey
{
    /// <param name="imageKey">The image grain's key, i.e. the prepared image in this silo's executor.</param>
    [ResponseTimeout("00:30:00")]
    Task<MaskRecord> RunAsync(string imageKey, MaskWork work, ImageWork image, int imageWidth, int imageHeight);

    [AlwaysInterleave] Task<MaskRecord?> GetRecordAsync();
}

public static class GrainKeys
{
    public static string Image(string jobId, string imageId) => jobId + "/" + imageId;
    public static string Mask(string jobId, string imageId, string maskId) => jobId + "/" + imageId + "/" + maskId;
}
