using Orleans.Concurrency;

namespace MaskInversion.Grains;

/// <summary>One job (key: job id). Owns dispatch, retries, progress and the merged metrics; durable.</summary>
public interface IJobCoordinatorGrain : IGrainWithStringKey
{
    /// <summary>Normalises and checks the settings (model, weights, tokenizer, dataset root, format and classes) before
    /// any image is dispatched, and starts the job; a refused job is not created and the result says why. A repeat
    /// with the same settings is a no-op; different settings are refused.</summary>
    [ResponseTimeout("00:02:00")]   // the checks read the weights' header, the tokenizer and the dataset's class list
    Task<SubmitResult> TrySubmitAsync(JobSettings settings);

    /// <summary><see cref="TrySubmitAsync"/> for callers that treat a refusal as a bug (tests, embedded runs): throws
    /// an <see cref="ArgumentException"/> with the reasons.</summary>
    [ResponseTimeout("00:02:00")]
    Task<JobProgress> SubmitAsync(JobSettings settings);

    [AlwaysInterleave] Task<JobProgress> GetProgressAsync();

    [AlwaysInterleave] Task<JobResults> GetResultsAsync();

    /// <summary>Progress with the dashboard's extras: recent failures, per-silo throughput, masks/s history.</summary>
    [AlwaysInterleave] Task<JobMonitorView> GetMonitorAsync();

    /// <summary>Draws the overlays (image, mask, LET₀ map, each method's final map) of any mask of the job's dataset,
    /// on a compute silo, into the job's overlay folder; returns the file names. Finds the image by a pass over the
    /// dataset, so it costs a read of the annotations. Throws ArgumentException naming the image or mask when the
    /// dataset has no such item or it cannot be read.</summary>
    [AlwaysInterleave, ResponseTimeout("00:10:00")] Task<string[]> DrawOverlayAsync(string imageId, string maskId);

    /// <summary>Stops dispatching; images in flight finish and are counted.</summary>
    [AlwaysInterleave] Task<JobProgress> CancelAsync();
}

/// <summary>One image of one job (key: "jobId/imageId"). Placed only on compute silos; owns its prepared image
/// while its masks are worked.</summary>
public interface IImageGrain : IGrainWithStringKey
{
    /// <summary>Prepares the image once, has its mask grains record every mask, releases it. Idempotent.</summary>
    [ResponseTimeout("00:30:00")]
    Task<ImageOutcome> ProcessAsync(ImageWork work);
}

/// <summary>One image of a referring-expression job (key: "jobId/imageId"), on compute silos only. The image is the
/// unit here: its expressions rank all its candidate masks together, so it prepares the image once, has the executor
/// embed every candidate and rank them for every expression, and records the whole outcome (candidates' records and
/// expressions' outcomes) once; a repeat returns the record without computing.</summary>
public interface IReferringImageGrain : IGrainWithStringKey
{
    [ResponseTimeout("00:30:00")]
    Task<ImageOutcome> ProcessAsync(ImageWork work);
}

/// <summary>Overlays of one mask on request (key: "jobId/imageId/maskId"), on compute silos only: prepares the image,
/// runs the job's methods on the mask with overlays on (the executor's own path, as a job's first masks get them),
/// releases the image. Keeps nothing.</summary>
public interface IOverlayGrain : IGrainWithStringKey
{
    /// <summary>The overlay files written (names in the job's overlay folder).</summary>
    [ResponseTimeout("00:10:00")]
    Task<string[]> DrawAsync(ImageWork work);
}

/// <summary>One query mask (key: "jobId/imageId/maskId"); keeps its record, which its image grain returns for a repeat.</summary>
public interface IMaskGrain : IGrainWithStringKey
{
    /// <summary>Runs the job's methods on this mask against its image's prepared handle (same silo), records
    /// the outcome (replacing any earlier record) and returns it. The image grain calls it for every mask of the image or
    /// for none, so the masks of an image always share one batch.</summary>
    [ResponseTimeout("00:30:00")]
    Task<MaskRecord> RunAsync(PreparedImageHandle image, MaskWork work);

    [AlwaysInterleave] Task<MaskRecord?> GetRecordAsync();
}

public static class GrainKeys
{
    public static string Image(string jobId, string imageId) => jobId + "/" + imageId;
    public static string Mask(string jobId, string imageId, string maskId) => jobId + "/" + imageId + "/" + maskId;
}
