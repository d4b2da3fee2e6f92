using System.Text.Json;
using System.Text.Json.Serialization;
using MaskInversion.Grains;

namespace MaskInversion.Silo.Web;

/// <summary>One overlay sample of the job page: the files OverlayWriter wrote for one mask.</summary>
/// <param name="Maps">Method name → file name of its final LeGrad map over the image.</param>
public sealed record OverlaySample(string Mask, string? Image, string? MaskFile, IReadOnlyDictionary<string, string> Maps);

/// <summary>Everything the job page draws, read from the grains in one go (sent as JSON and as SSE events).</summary>
/// <param name="EtaSeconds">From the coordinator's ETA; null when unknown (no total yet, or not running).</param>
/// <param name="Silos">Every compute silo's current load (queue, cache): the executor is shared by all jobs.</param>
public sealed record JobPageView(JobListEntry Entry, JobMonitorView Monitor, double? EtaSeconds, MethodSummary[] Methods, string[] ClassNames,
    SiloLoad[] Silos, OverlaySample[] Overlays);

/// <summary>Reads a job's page view from the cluster: the registry entry (so an unknown id does not activate a
/// coordinator), the coordinator's monitor and results, the silos' load, and the overlays on this silo's disk.</summary>
public static class JobDashboard
{
    /// <summary>Overlay samples listed on the page; the job's OverlaySamples setting bounds how many are written.</summary>
    public const int MaxOverlays = 24;

    /// <summary>camelCase, states by name; NaN (an empty class's recall) as a literal the page prints as "–".</summary>
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter() },
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static bool IsOver(JobState state) => state is JobState.Completed or JobState.Cancelled or JobState.Failed;

    /// <summary>The job's view, or null for an id never submitted.</summary>
    public static async Task<JobPageView?> ReadAsync(IGrainFactory grains, string jobId)
    {
        var entry = await grains.GetGrain<IJobRegistryGrain>(IJobRegistryGrain.Key).GetAsync(jobId);
        if (entry is null) return null;
        var coordinator = grains.GetGrain<IJobCoordinatorGrain>(jobId);
        var monitorTask = coordinator.GetMonitorAsync();
        var resultsTask = coordinator.GetResultsAsync();
        var silosTask = grains.GetGrain<ISiloLoadGrain>(ISiloLoadGrain.Key).ListAsync();
        var monitor = await monitorTask;
        var results = await resultsTask;
        return new JobPageView(entry, monitor, monitor.Progress.Eta?.TotalSeconds, results.Methods, results.ClassNames, await silosTask,
            ListOverlays(monitor.Progress.OutputFolder));
    }

    /// <summary>The overlay folder's PNGs grouped by mask ("{mask}_image.png", "{mask}_mask.png",
    /// "{mask}_{method}_map.png"). Only what this silo can see: the job's output folder must be shared storage for
    /// overlays written by other silos to appear.</summary>
    public static OverlaySample[] ListOverlays(string outputFolder)
    {
        var folder = OverlayFolder(outputFolder);
        if (folder is null || !Directory.Exists(folder)) return [];
        var files = Directory.EnumerateFiles(folder, "*.png").Select(Path.GetFileName).OfType<string>().ToList();
        return files.Where(f => f.EndsWith("_image.png", StringComparison.Ordinal)).Order(StringComparer.Ordinal).Take(MaxOverlays)
            .Select(image => Sample(image[..^"_image.png".Length], files)).ToArray();
    }

    /// <summary>One mask's overlay files among <paramref name="files"/> (names in the overlay folder).</summary>
    public static OverlaySample Sample(string stem, IReadOnlyCollection<string> files)
    {
        var maps = files.Where(f => f.StartsWith(stem + "_", StringComparison.Ordinal) && f.EndsWith("_map.png", StringComparison.Ordinal))
            .ToDictionary(f => f[(stem.Length + 1)..^"_map.png".Length], f => f, StringComparer.Ordinal);
        string? Named(string suffix) => files.Contains(stem + suffix) ? stem + suffix : null;
        return new OverlaySample(stem, Named("_image.png"), Named("_mask.png"), maps);
    }

    public static string? OverlayFolder(string outputFolder) => outputFolder is { Length: > 0 } ? Path.Combine(outputFolder, "overlays") : null;
}
