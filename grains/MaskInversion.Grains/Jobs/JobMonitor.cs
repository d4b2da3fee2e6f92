using System.Diagnostics;

namespace MaskInversion.Grains;

/// <summary>
/// The coordinator's bookkeeping for the dashboard: the last <see cref="MaxFailures"/> failed items with their errors,
/// images and masks per silo with each silo's recent rate, and a ring of masks/s samples (one per
/// <see cref="SampleInterval"/>, the last <see cref="MaxSamples"/>). Memory only and bounded whatever the job's size;
/// runs on the coordinator's scheduler, so it needs no locks.
/// </summary>
sealed class JobMonitor
{
    public const int MaxFailures = 100;
    public const int MaxSamples = 600;
    public static readonly TimeSpan SampleInterval = TimeSpan.FromSeconds(1);
    // Rates are over this window: long enough to smooth single images, short enough to show a silo stalling.
    static readonly TimeSpan RateWindow = TimeSpan.FromSeconds(10);

    sealed class SiloCounts
    {
        public long Images, Masks;
        public readonly Queue<(long Ticks, long Masks)> Recent = new();
    }

    readonly LinkedList<FailedItem> failures = new();
    readonly Dictionary<string, SiloCounts> silos = new(StringComparer.Ordinal);
    readonly Queue<RateSample> samples = new();
    readonly Queue<(long Ticks, long Settled)> recent = new();
    long failuresSeen, settled, lastSampleTicks;

    /// <summary>Counts one settled image: its silo's share and each failed mask (or the image, when it failed whole).</summary>
    public void Add(ImageOutcome outcome)
    {
        var now = DateTimeOffset.UtcNow;
        long ticks = Stopwatch.GetTimestamp();
        settled += outcome.Masks.Length;
        if (outcome.Silo is { } name)
        {
            if (!silos.TryGetValue(name, out var s)) silos[name] = s = new SiloCounts();
            s.Images++;
            s.Masks += outcome.Masks.Length;
            s.Recent.Enqueue((ticks, s.Masks));
            Trim(s.Recent, ticks);
        }
        if (outcome.Error is { } imageError) Fail(now, outcome.ImageId, null, imageError);
        else
            foreach (var mask in outcome.Masks)
                if (mask.Error is { } maskError) Fail(now, outcome.ImageId, mask.MaskId, maskError);
        recent.Enqueue((ticks, settled));
        Trim(recent, ticks);
        if (Stopwatch.GetElapsedTime(lastSampleTicks, ticks) >= SampleInterval) Sample(now, ticks);
    }

    /// <summary>A dataset record that could not be read at all (no image id known beyond the record's).</summary>
    public void AddReadError(string item, string error) => Fail(DateTimeOffset.UtcNow, item, null, error);

    /// <summary>The view as of now; a sample is added when the last is older than the interval (an idle job's rate falls to 0).</summary>
    public JobMonitorView View(JobProgress progress, bool running)
    {
        long ticks = Stopwatch.GetTimestamp();
        if (running && Stopwatch.GetElapsedTime(lastSampleTicks, ticks) >= SampleInterval) Sample(DateTimeOffset.UtcNow, ticks);
        var perSilo = silos.OrderBy(s => s.Key, StringComparer.Ordinal)
            .Select(s => new SiloThroughput(s.Key, s.Value.Images, s.Value.Masks, running ? Rate(s.Value.Recent, ticks) : 0)).ToArray();
        return new JobMonitorView(progress, failures.ToArray(), failuresSeen, perSilo, samples.ToArray());
    }

    /// <summary>A sharded job's view from its shards': failures newest first (bounded), silos' figures added, and the
    /// masks/s histories added per second of the clock (each shard samples once a second, at its own moments).</summary>
    public static JobMonitorView Merge(JobProgress progress, IReadOnlyList<JobMonitorView> shards)
    {
        if (shards.Count == 1) return shards[0] with { Progress = progress };
        var failures = shards.SelectMany(v => v.Failures).OrderByDescending(f => f.At).Take(MaxFailures).ToArray();
        var silos = shards.SelectMany(v => v.Silos).GroupBy(s => s.Silo, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => new SiloThroughput(g.Key, g.Sum(s => s.Images), g.Sum(s => s.Masks), g.Sum(s => s.MasksPerSecond))).ToArray();
        var history = shards.SelectMany(v => v.History)
            .GroupBy(h => h.At.ToUnixTimeSeconds())
            .OrderBy(g => g.Key)
            .Select(g => new RateSample(DateTimeOffset.FromUnixTimeSeconds(g.Key), g.Sum(h => h.MasksPerSecond), g.Sum(h => h.MasksSettled)))
            .TakeLast(MaxSamples).ToArray();
        return new JobMonitorView(progress, failures, shards.Sum(v => v.FailuresSeen), silos, history);
    }

    void Fail(DateTimeOffset at, string imageId, string? maskId, string error)
    {
        failuresSeen++;
        failures.AddFirst(new FailedItem(at, imageId, maskId, error));
        if (failures.Count > MaxFailures) failures.RemoveLast();
    }

    void Sample(DateTimeOffset now, long ticks)
    {
        Trim(recent, ticks);
        lastSampleTicks = ticks;
        samples.Enqueue(new RateSample(now, Rate(recent, ticks), settled));
        while (samples.Count > MaxSamples) samples.Dequeue();
    }

    /// <summary>Masks per second over the window: the count added since the oldest point still in it.</summary>
    static double Rate(Queue<(long Ticks, long Count)> points, long now)
    {
        Trim(points, now);
        if (points.Count < 2) return 0;
        var (firstTicks, firstCount) = points.Peek();
        // At least a second, so two images settling together do not read as a spike.
        double seconds = Math.Max(Stopwatch.GetElapsedTime(firstTicks, now).TotalSeconds, 1);
        return (points.Last().Count - firstCount) / seconds;
    }

    static void Trim(Queue<(long Ticks, long Count)> points, long now)
    {
        // Keep one point older than the window as the baseline the window's increase is measured from.
        while (points.Count > 1 && Stopwatch.GetElapsedTime(points.ElementAt(1).Ticks, now) > RateWindow) points.Dequeue();
    }
}
