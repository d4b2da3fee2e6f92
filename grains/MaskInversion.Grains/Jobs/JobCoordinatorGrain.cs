using MaskInversion.Core.Datasets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MaskInversion.Grains;

/// <summary>
/// One job (key: job id): admission, the job's state and verdict, and the sum of its shards. The work is done by its
/// <see cref="JobShardGrain"/>s ("jobId/0" … "jobId/{Shards−1}", one unless the job asks for more), each over every
/// Shards-th dataset record with its own checkpoints and Parquet parts. This grain starts them, adds up their counters
/// and metric totals (<see cref="JobShardState.Sum"/>: exact) for progress and results, and once every shard has ended
/// judges the job (<see cref="JobVerdict"/>) and writes metrics.json. A running job holds a reminder: each tick pokes the
/// shards, which reactivates (so resumes) any whose silo died, and finishes a job whose shards ended while this grain
/// was gone — recovery after a silo loss or a cluster restart with nobody calling.
/// </summary>
public sealed class JobCoordinatorGrain(
    [PersistentState("job", StorageNames.Jobs)] IPersistentState<JobCoordinatorState> state,
    JobMetricRegistry metricRegistry,
    IOptions<RecoveryOptions> recovery,
    JobPaths paths,
    ILogger<JobCoordinatorGrain> logger) : Grain, IJobCoordinatorGrain, IJobShardEvents, IRemindable
{
    const string ResumeReminder = "resume";
    // How long a progress query waits for a shard before showing its last known figures (its silo may be dying).
    static readonly TimeSpan ShardQueryTimeout = TimeSpan.FromSeconds(5);
    static readonly TimeSpan PublishInterval = TimeSpan.FromSeconds(1);

    JobCoordinatorState S => state.State;
    string JobId => this.GetPrimaryKeyString();
    int ShardCount => S.Settings?.Shards ?? 1;
    bool Running => S.State is JobState.Running or JobState.Cancelling;

    // Each shard's last known progress (from queries and checkpoints): a view in memory, refreshed by every query.
    readonly Dictionary<int, JobProgress> lastSeen = [];
    Task? finishing;
    DateTimeOffset lastPublished;
    double finalRate;

    IJobShardGrain Shard(int shard) => GrainFactory.GetGrain<IJobShardGrain>(JobShardKeys.Of(JobId, shard));

    public override Task OnActivateAsync(CancellationToken ct)
    {
        if (Running)
        {
            // After a crash or a move: the shards may be gone with the silo too. Poking them resumes them; not awaited,
            // so the activation (and whoever's call caused it) does not wait on every shard.
            logger.LogInformation("Job {Job} resumes: its {Shards} shard(s) are poked", JobId, ShardCount);
            _ = ResumeAsync();
        }
        return Task.CompletedTask;
    }

    async Task ResumeAsync()
    {
        await KeepResumeReminderAsync();
        await ReviewAsync(start: true);
    }

    /// <summary>A tick activates this grain and pokes a running job's shards (starting, so resuming, any that are gone);
    /// once the job is over it writes a metrics.json a crash prevented, then goes.</summary>
    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName != ResumeReminder) return;
        if (Running)
        {
            await ReviewAsync(start: true);
            return;
        }
        if (S.Settings is { } job && S.Final is { } final && !File.Exists(JobOutputs.MetricsPathOf(job))) WriteMetricsJson(job, final, S.State, S.Error);
        await DropResumeReminderAsync();
    }

    Task KeepResumeReminderAsync() =>
        this.RegisterOrUpdateReminder(ResumeReminder, recovery.Value.ResumeReminderPeriod, recovery.Value.ResumeReminderPeriod);

    async Task DropResumeReminderAsync()
    {
        try
        {
            if (await this.GetReminder(ResumeReminder) is { } reminder) await this.UnregisterReminder(reminder);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The next tick finds the job over and tries again.
            logger.LogWarning(ex, "Resume reminder of job {Job} not removed", JobId);
        }
    }

    public async Task<JobProgress> SubmitAsync(JobSettings settings)
    {
        var result = await TrySubmitAsync(settings);
        return result.Accepted ? result.Progress! : throw new ArgumentException(result.Refusal(JobId));
    }

    public async Task<SubmitResult> TrySubmitAsync(JobSettings settings)
    {
        if (S.Settings is not null)
        {
            JobSettings again;
            try { again = settings.Normalise(); }
            catch (ArgumentException ex) { return new SubmitResult(null, ["Settings: " + ex.Message]); }
            return S.Settings.SameAs(again) ? new SubmitResult(await ProgressAsync(), [])
                : new SubmitResult(null, [$"Job: '{JobId}' already exists with different settings; choose another job id (--job)."]);
        }
        // Reads the weights' header, the tokenizer and the dataset's class list: off the grain scheduler. The grain is
        // not reentrant, so a second submit of this id waits for this one.
        var (job, problems) = await Task.Run(() => JobAdmission.Check(settings, paths));
        if (job is null)
        {
            logger.LogInformation("Job {Job} refused: {Problems}", JobId, string.Join("; ", problems));
            return new SubmitResult(null, problems);
        }
        S.Settings = job;
        S.State = JobState.Running;
        S.SubmittedAt = DateTimeOffset.UtcNow;
        await state.WriteRecoveringAsync();
        await PublishAsync();
        await KeepResumeReminderAsync();
        // A shard that cannot be started now (its silo going) is started by the reminder's next poke.
        await ReviewAsync(start: true);
        return new SubmitResult(await ProgressAsync(), []);
    }

    public Task<JobProgress> GetProgressAsync() => ProgressAsync();

    public async Task<JobResults> GetResultsAsync()
    {
        var sum = S.Final ?? (S.Settings is null ? new JobShardState() : JobShardState.Sum((await Task.WhenAll(Enumerable.Range(0, ShardCount).Select(k => Shard(k).GetReportAsync(withTotals: true))))
            .Select(r => r.State).ToList()));
        var summaries = new JobMetrics(metricRegistry, sum.Metrics).Summaries(S.Settings?.Methods ?? [], (int)sum.ImagesDone);
        return new JobResults(await ProgressAsync(), summaries, sum.ClassNames);
    }

    public async Task<JobMonitorView> GetMonitorAsync()
    {
        var progress = await ProgressAsync();
        if (S.Settings is null) return new JobMonitorView(progress, [], 0, [], []);
        var views = await Task.WhenAll(Enumerable.Range(0, ShardCount).Select(async k =>
        {
            try { return await Shard(k).GetMonitorAsync().WaitAsync(ShardQueryTimeout); }
            catch (Exception ex) when (ex is not OperationCanceledException) { return null; }
        }));
        return JobMonitor.Merge(progress, views.OfType<JobMonitorView>().ToList());
    }

    public async Task<string[]> DrawOverlayAsync(string imageId, string maskId)
    {
        var job = S.Settings ?? throw new InvalidOperationException($"Job '{JobId}' was never submitted.");
        var image = await DatasetLookup.FindAsync(job.ToReaderOptions(), imageId);
        var mask = image.Masks.FirstOrDefault(m => m.MaskId == maskId)
            ?? throw new ArgumentException($"Image '{imageId}' has no mask '{maskId}' (it has {string.Join(", ", image.Masks.Take(10).Select(m => m.MaskId))}{(image.Masks.Count > 10 ? ", …" : "")}).");
        // The job's own class list, so the compute silo reuses the job's loaded engine.
        var named = S.Final ?? (await Shard(0).GetReportAsync(withTotals: true)).State;
        if (named.ClassIds.Length == 0 && !DatasetFormats.IsReferring(job.Format))
            throw new InvalidOperationException($"Job '{JobId}' has not opened its dataset yet; ask again in a moment.");
        var jobClasses = new JobClasses(named.ClassIds, named.ClassNames);
        var work = new ImageWork(JobId, image.ImageId, image.ImagePath, [new MaskWork(mask.MaskId, jobClasses.IndexOf(mask), mask.ClassId, mask.Source.ToData(), true)],
            job, jobClasses.Names);
        return await GrainFactory.GetGrain<IOverlayGrain>(GrainKeys.Mask(JobId, imageId, maskId)).DrawAsync(work);
    }

    public async Task<JobProgress> CancelAsync()
    {
        if (S.State == JobState.Running && S.Settings is not null)
        {
            // Each shard stops dispatching, lets its images in flight finish, checkpoints and ends Cancelled; the last
            // one to end has this grain write the outputs and mark the job Cancelled (a shard that missed this call
            // is cancelled by the next poke).
            S.State = JobState.Cancelling;
            await Task.WhenAll(Enumerable.Range(0, ShardCount).Select(async k =>
            {
                try { Seen(await Shard(k).CancelAsync().WaitAsync(ShardQueryTimeout)); }
                catch (Exception ex) when (ex is not OperationCanceledException) { logger.LogWarning("Job {Job}: cancelling shard {Shard} failed ({Error}); the next poke retries", JobId, k, ex.Message); }
            }));
        }
        return await ProgressAsync();
    }

    public async Task ShardEndedAsync(int shard)
    {
        logger.LogInformation("Job {Job}: shard {Shard} ended", JobId, shard);
        await ReviewAsync(start: false);
    }

    public Task ShardCheckpointed(int shard, JobProgress progress)
    {
        lastSeen[shard] = progress;
        if (DateTimeOffset.UtcNow - lastPublished < PublishInterval) return Task.CompletedTask;
        return PublishAsync();
    }

    /// <summary>Asks every shard how it stands (starting it when <paramref name="start"/>, which resumes one that is gone,
    /// and cancelling it when the job is cancelling); finishes the job once all have ended, and stops the others once one
    /// has failed (the job fails with it: its results would be incomplete).</summary>
    async Task ReviewAsync(bool start)
    {
        if (!Running || S.Settings is not { } job) return;
        var reports = await Task.WhenAll(Enumerable.Range(0, ShardCount).Select(async k =>
        {
            try
            {
                var report = start ? await Shard(k).StartAsync(job, k, ShardCount) : await Shard(k).GetReportAsync(withTotals: false);
                if (S.State == JobState.Cancelling && !report.Ended) report = await Shard(k).CancelAsync();
                return Seen(report);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogWarning("Job {Job}: shard {Shard} did not answer ({Error}); the next poke retries", JobId, k, ex.Message);
                return null;
            }
        }));
        if (reports.All(r => r is { Ended: true }))
        {
            await FinishAsync();
            return;
        }
        if (S.State == JobState.Running && reports.Any(r => r is { Ended: true, State.State: JobState.Failed }))
            foreach (var r in reports.Where(r => r is { Ended: false }))
            {
                try { Seen(await Shard(r!.Shard).CancelAsync()); }
                catch (Exception ex) when (ex is not OperationCanceledException) { logger.LogWarning("Job {Job}: stopping shard {Shard} failed ({Error})", JobId, r!.Shard, ex.Message); }
            }
    }

    ShardReport Seen(ShardReport r)
    {
        lastSeen[r.Shard] = ProgressOf(r);
        return r;
    }

    JobProgress ProgressOf(ShardReport r) => new(JobShardKeys.Of(JobId, r.Shard), r.State.State, r.State.ImagesDone, r.State.ImagesFailed,
        r.State.MasksDone, r.State.MasksFailed, r.State.ReadErrors, r.State.ImagesTotal, r.State.MasksTotal, r.InFlight, r.State.Retries,
        r.MasksPerSecond, null, r.State.Error, S.Settings?.OutputFolder ?? "");

    Task FinishAsync() => finishing is { IsCompleted: false } ? finishing : finishing = FinishCoreAsync();

    /// <summary>Every shard has ended: adds them up, judges the job, writes metrics.json, and only then shows the job as
    /// ended (whoever sees the end state finds the outputs).</summary>
    async Task FinishCoreAsync()
    {
        if (!Running || S.Settings is not { } job) return;
        try
        {
            var reports = await Task.WhenAll(Enumerable.Range(0, ShardCount).Select(k => Shard(k).GetReportAsync(withTotals: true)));
            if (!reports.All(r => r.Ended)) return;
            var sum = JobShardState.Sum(reports.Select(r => r.State).ToList());
            var failed = reports.Select(r => r.State).Where(s => s.State == JobState.Failed).OrderBy(s => s.Shard).FirstOrDefault();
            (JobState verdict, string? error) =
                failed is not null ? (JobState.Failed, ShardCount == 1 ? failed.Error : $"shard {failed.Shard} of {ShardCount}: {failed.Error}")
                : S.State == JobState.Cancelling || reports.Any(r => r.State.State == JobState.Cancelled) ? (JobState.Cancelled, null)
                : JobVerdict.FailureReason(sum) is { } reason ? (JobState.Failed, reason)
                : (JobState.Completed, (string?)null);
            finalRate = lastSeen.Values.Sum(p => p.MasksPerSecond);
            S.Final = sum;
            WriteMetricsJson(job, sum, verdict, error);
            (S.State, S.Error) = (verdict, error);
            await state.WriteRecoveringAsync();
            await PublishAsync();
            await DropResumeReminderAsync();
            logger.LogInformation("Job {Job} {State}: {Images} images, {Masks} masks, {Failed} failed masks ({Shards} shard(s))",
                JobId, S.State, sum.ImagesDone, sum.MasksDone, sum.MasksFailed, ShardCount);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogWarning(ex, "Job {Job}: its shards have ended but it could not be finished now; the next poke retries", JobId);
        }
    }

    /// <summary>The job's progress: from its final sum once ended; while running, the shards' figures added (each asked
    /// now, or as last seen when it does not answer in time).</summary>
    async Task<JobProgress> ProgressAsync()
    {
        if (!Running || S.Settings is null)
        {
            var f = S.Final ?? new JobShardState();
            return new JobProgress(JobId, S.State, f.ImagesDone, f.ImagesFailed, f.MasksDone, f.MasksFailed, f.ReadErrors, f.ImagesTotal, f.MasksTotal,
                0, f.Retries, finalRate, null, S.Error, S.Settings?.OutputFolder ?? "");
        }
        var reports = await Task.WhenAll(Enumerable.Range(0, ShardCount).Select(async k =>
        {
            try { return Seen(await Shard(k).GetReportAsync(withTotals: false).WaitAsync(ShardQueryTimeout)); }
            catch (Exception ex) when (ex is not OperationCanceledException) { return null; }
        }));
        // Shards that have all ended while their notices were lost: finish now rather than at the next tick.
        if (reports.All(r => r is { Ended: true })) _ = FinishAsync();
        return Summed();
    }

    /// <summary>The shards' last seen figures added; totals only once every shard has counted its own.</summary>
    JobProgress Summed()
    {
        var seen = Enumerable.Range(0, ShardCount).Select(k => lastSeen.GetValueOrDefault(k)).ToList();
        var known = seen.OfType<JobProgress>().ToList();
        long? Total(Func<JobProgress, long?> of) => known.Count == ShardCount && known.All(p => of(p) is not null) ? known.Sum(p => of(p)!.Value) : null;
        long masksDone = known.Sum(p => p.MasksDone), masksFailed = known.Sum(p => p.MasksFailed);
        long? masksTotal = Total(p => p.MasksTotal);
        double rate = known.Sum(p => p.MasksPerSecond);
        TimeSpan? eta = masksTotal is { } total && rate > 0 && S.State == JobState.Running
            ? TimeSpan.FromSeconds(Math.Max(0, total - masksDone - masksFailed) / rate) : null;
        // Running until the last shard's outputs and metrics.json are written (FinishCoreAsync), whatever the shards say.
        return new JobProgress(JobId, S.State, known.Sum(p => p.ImagesDone), known.Sum(p => p.ImagesFailed), masksDone, masksFailed,
            known.Sum(p => p.ReadErrors), Total(p => p.ImagesTotal), masksTotal, known.Sum(p => p.InFlight), known.Sum(p => p.Retries), rate, eta,
            S.Error ?? known.Select(p => p.Error).FirstOrDefault(e => e is not null), S.Settings?.OutputFolder ?? "");
    }

    /// <summary>Refreshes the job's entry in the cluster's job list. Best effort: the list is a view, the job's own
    /// state is the record, so a failed refresh is logged and the next checkpoint tries again.</summary>
    async Task PublishAsync()
    {
        lastPublished = DateTimeOffset.UtcNow;
        var p = Running ? Summed() : await ProgressAsync();
        try
        {
            await GrainFactory.GetGrain<IJobRegistryGrain>(IJobRegistryGrain.Key).UpsertAsync(new JobListEntry(JobId, S.State, S.SubmittedAt,
                DateTimeOffset.UtcNow, S.Settings?.DatasetName ?? "", S.Settings?.OutputFolder ?? "", p.MasksDone, p.MasksFailed, p.MasksTotal, S.Error));
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogWarning(ex, "Job list entry of job {Job} not refreshed", JobId);
        }
    }

    void WriteMetricsJson(JobSettings job, JobShardState sum, JobState verdict, string? error)
    {
        try
        {
            new JobMetrics(metricRegistry, sum.Metrics).WriteJson(JobOutputs.MetricsPathOf(job), job, sum.ClassNames, (int)sum.ImagesDone, verdict, error);
        }
        catch (IOException ex)
        {
            logger.LogError(ex, "metrics.json for job {Job} not written", JobId);
        }
    }
}
