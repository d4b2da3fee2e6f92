using System.Diagnostics;
using MaskInversion.Client.Jobs;
using MaskInversion.Grains;

namespace MaskInversion.Client.Commands;

/// <summary>The benches' sampling loop: every interval the job's progress, how many items it has settled and their rate
/// since the previous sample, handed to the bench's own recorder; until the job ends.</summary>
static class JobSampler
{
    /// <param name="clock">The bench's clock (started before submit): sample times are read from it.</param>
    /// <param name="settled">The count the bench follows (images, or masks) from a progress.</param>
    /// <param name="sample">Called with (progress, seconds on the clock, settled count, settled per second since the last sample).</param>
    /// <returns>The progress that showed the job ended.</returns>
    public static async Task<JobProgress> UntilEndedAsync(IJobCoordinatorGrain job, Stopwatch clock, TimeSpan every, Func<JobProgress, long> settled,
        Func<JobProgress, double, long, double, Task> sample, CancellationToken ct)
    {
        long lastCount = 0;
        double lastT = 0;
        while (true)
        {
            await Task.Delay(every, ct);
            var p = await job.GetProgressAsync();
            double t = clock.Elapsed.TotalSeconds;
            long count = settled(p);
            await sample(p, t, count, (count - lastCount) / (t - lastT));
            (lastCount, lastT) = (count, t);
            if (JobView.Finished(p)) return p;
        }
    }
}
