using System.Diagnostics;
using MaskInversion.Core.Datasets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MaskInversion.Grains;

/// <summary>
/// One job: identity, durable state and messages; the work is done by named collaborators. The run loop takes
/// records from the <see cref="DatasetStream"/>, sends at most MaxInFlight images at a time through the
/// <see cref="ImageDispatcher"/> (retries), and settles each outcome into the <see cref="JobMetrics"/> (the
/// metric registry's merge) and the <see cref="JobOutputs"/> (Parquet parts). A checkpoint commits the part,
/// folds the metrics into the persisted totals and writes state in one step, so after a crash the job resumes
/// from the last checkpoint without counting or writing anything twice. A running job holds a reminder, so it
/// resumes unattended after its silo dies or the cluster restarts.
/// </summary>
public sealed class JobCoordinatorGrain(
    [PersistentState("job", StorageNames.Jobs)] IPersistentState<JobCoordinatorState> state,
    JobMetricRegistry metricRegistry,
    JobActivity activity,
    IImageProcessor imageProcessor,
    IOptions<RecoveryOptions> recovery,
    JobPaths paths,
    ILogger<JobCoordinatorGrain> logger) : Grain, IJobCoordinatorGrain, IRemindable
{
    const string ResumeReminder = "resume";
    static readonly TimeSpan CheckpointInterval = TimeSpan.FromSeconds(2);
    const int CheckpointImages = 256;

    JobCoordinatorState S => state.State;
    string JobId => this.GetPrimaryKeyString();

    CancellationTokenSource? cancel;
    Task? loop;
    // Set when this activation goes (silo shutdown, collection): its loop stops without a verdict and touches neither
    // state nor outputs again; the next activation resumes from the last checkpoint.
    bool deactivating;
    JobMetrics? metrics;
    JobOutputs? outputs;
    JobClasses classes = new([], []);
    int sinceCheckpoint;
    readonly Stopwatch sinceCheckpointClock = new();
    // This activation's run, for masks/s.
    readonly Stopwatch runClock = new();
    long runMasks;
    int inFlight;
    readonly JobMonitor monitor = new();

    JobMetrics Metrics => metrics ??= new JobMetrics(metricRegistry, S.Metrics);

    public override async Task OnActivateAsync(CancellationToken ct)
    {
        if (S.State is JobState.Running or JobState.Cancelling)
        {
            // Resume after a crash or a move: drop parts written after the last checkpoint, their images are redone.
            logger.LogInformation("Job {Job} resumes at ordinal {Watermark} ({Done} images done)", JobId, S.Watermark, S.ImagesDone);
            await KeepResumeReminderAsync();
            StartLoop();
        }
    }

    /// <summary>A tick activates this grain (OnActivateAsync resumes a running job); it also restarts a loop whose
    /// activation outlived it, and once the job is over writes a metrics.json a crash prevented, then goes.</summary>
    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName != ResumeReminder) return;
        if (S.State is JobState.Running or JobState.Cancelling)
        {
            StartLoop();
            return;
        }
        if (S.Settings is { } job && S.State is not JobState.NotStarted && !File.Exists(JobOutputs.MetricsPathOf(job))) WriteMetricsJson(job);
        await DropResumeReminderAsync();
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken ct)
    {
        deactivating = true;
        cancel?.Cancel();
        return Task.CompletedTask;
    }

    void ThrowIfDeactivating()
    {
        if (deactivating) throw new OperationCanceledException($"Job {JobId}'s activation is going; the job resumes from its last checkpoint.");
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
            return S.Settings.SameAs(again) ? new SubmitResult(Progress(), [])
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
        StartLoop();
        return new SubmitResult(Progress(), []);
    }

    public Task<JobProgress> GetProgressAsync() => Task.FromResult(Progress());

    public Task<JobResults> GetResultsAsync() =>
        Task.FromResult(new JobResults(Progress(), Metrics.Summaries(S.Settings?.Methods ?? [], (int)S.ImagesDone), S.ClassNames));

    public Task<JobMonitorView> GetMonitorAsync() => Task.FromResult(monitor.View(Progress(), running: S.State is JobState.Running or JobState.Cancelling));

    public async Task<string[]> DrawOverlayAsync(string imageId, string maskId)
    {
        var job = S.Settings ?? throw new InvalidOperationException($"Job '{JobId}' was never submitted.");
        var image = await DatasetLookup.FindAsync(job.ToReaderOptions(), imageId);
        var mask = image.Masks.FirstOrDefault(m => m.MaskId == maskId)
            ?? throw new ArgumentException($"Image '{imageId}' has no mask '{maskId}' (it has {string.Join(", ", image.Masks.Take(10).Select(m => m.MaskId))}{(image.Masks.Count > 10 ? ", …" : "")}).");
        // The job's own class list, so the compute silo reuses the job's loaded engine.
        var jobClasses = new JobClasses(S.ClassIds, S.ClassNames);
        var work = new ImageWork(JobId, image.ImageId, image.ImagePath, [new MaskWork(mask.MaskId, jobClasses.IndexOf(mask), mask.ClassId, mask.Source.ToData(), true)],
            job, jobClasses.Names);
        return await GrainFactory.GetGrain<IOverlayGrain>(GrainKeys.Mask(JobId, imageId, maskId)).DrawAsync(work);
    }

    public Task<JobProgress> CancelAsync()
    {
        if (S.State == JobState.Running)
        {
            // The loop stops dispatching, lets images in flight finish, checkpoints and marks the job Cancelled.
            S.State = JobState.Cancelling;
            cancel?.Cancel();
        }
        return Task.FromResult(Progress());
    }

    JobProgress Progress()
    {
        double rate = runClock.Elapsed.TotalSeconds > 0 ? runMasks / runClock.Elapsed.TotalSeconds : 0;
        TimeSpan? eta = null;
        if (S.MasksTotal is { } total && rate > 0 && S.State == JobState.Running)
            eta = TimeSpan.FromSeconds(Math.Max(0, total - S.MasksDone - S.MasksFailed) / rate);
        // The verdict is set before the last checkpoint closes the final Parquet part and metrics.json is written: until
        // the loop has finished those, callers see the job still running, so "ended" means its outputs are complete.
        var shown = loop is { IsCompleted: false } && S.State is JobState.Completed or JobState.Failed or JobState.Cancelled
            ? (S.State == JobState.Cancelled ? JobState.Cancelling : JobState.Running)
            : S.State;
        return new JobProgress(JobId, shown, S.ImagesDone, S.ImagesFailed, S.MasksDone, S.MasksFailed, S.ReadErrors,
            S.ImagesTotal, S.MasksTotal, inFlight, S.Retries, rate, eta, S.Error, S.Settings?.OutputFolder ?? "");
    }

    void StartLoop()
    {
        if (loop is { IsCompleted: false }) return;
        outputs = new JobOutputs(S.Settings!, S.PartsCommitted);
        outputs.DeleteParts(fromIndex: S.PartsCommitted);
        cancel = new CancellationTokenSource();
        if (S.State == JobState.Cancelling) cancel.Cancel();
        // Runs on this activation's scheduler, interleaving with progress queries at every await.
        loop = RunAsync(cancel.Token);
    }

    async Task RunAsync(CancellationToken token)
    {
        var job = S.Settings!;
        runClock.Restart();
        sinceCheckpointClock.Restart();
        JobState verdict;
        string? failure = null;
        try
        {
            var stream = await DatasetStream.OpenAsync(job.ToReaderOptions(paths.Datasets));
            // A referring job scores expressions against the image's masks; class prompts would only cost text-tower time.
            classes = DatasetFormats.IsReferring(job.Format) ? new JobClasses([], []) : JobClasses.Of(stream.Classes);
            (S.ClassIds, S.ClassNames) = (classes.Ids, classes.Names);
            stream.Start(count: S.ImagesTotal is null, S.Watermark, new HashSet<long>(S.SettledAbove), job.MaxImages, job.MaxInFlight * 2,
                ex => logger.LogWarning(ex, "Counting pass of job {Job} failed; progress has no total", JobId), token);
            _ = RecordTotalsAsync(stream.Totals);

            var dispatcher = new ImageDispatcher(GrainFactory, imageProcessor, logger, () => { S.Retries++; activity.Retried(); }, () => deactivating);
            var inflight = new List<InFlightImage>();   // in dispatch order
            int window = JobCoordinatorState.SettledWindow(job.MaxInFlight);
            // The next record waits while it is a window or more past the watermark (an image still retrying holds the
            // watermark back): the settled ordinals above the watermark, which are persisted, then stay under the window.
            bool Blocked() => inflight.Count >= job.MaxInFlight
                || inflight.Count > 0 && stream.Records.TryPeek(out var head) && head.Ordinal >= S.Watermark + window;
            while (!token.IsCancellationRequested)
            {
                while (Blocked()) await SettleNextAsync(inflight);
                try
                {
                    if (!await stream.Records.WaitToReadAsync(token).AsTask()) break;
                }
                catch (OperationCanceledException) { break; }
                while (!Blocked() && stream.Records.TryRead(out var next))
                {
                    if (next.Record.Error is { } error)
                    {
                        S.ReadErrors++;
                        JobVerdict.RecordFailure(S, error.Message, error.ItemId);
                        monitor.AddReadError(error.ItemId, error.Message);
                        await outputs!.WriteReadErrorAsync(error);
                        S.Settle(next.Ordinal);
                        continue;
                    }
                    var image = next.Record.Image!;
                    inflight.Add(new InFlightImage(dispatcher.DispatchAsync(Work(image, job)), next.Ordinal, image));
                    inFlight = inflight.Count;
                }
            }
            while (inflight.Count > 0) await SettleNextAsync(inflight);
            if (!token.IsCancellationRequested) await stream.Completion;   // surfaces a reader failure
            ThrowIfDeactivating();
            verdict = token.IsCancellationRequested ? JobState.Cancelled : JobState.Completed;
            if (verdict == JobState.Completed && JobVerdict.FailureReason(S) is { } reason) (verdict, failure) = (JobState.Failed, reason);
        }
        catch (Exception) when (deactivating)
        {
            logger.LogInformation("Job {Job} stops with its activation; it resumes from its last checkpoint", JobId);
            return;
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "Job {Job} failed", JobId);
            (verdict, failure) = (JobState.Failed, $"{ex.GetType().Name}: {ex.Message}");
        }
        runClock.Stop();   // masks/s then stays the run's average
        // The last part and the metrics are committed while the job still shows as running; it shows as ended only
        // once metrics.json is there, so whoever sees the end state finds the outputs.
        await CheckpointAsync();
        (S.State, S.Error) = (verdict, failure);
        WriteMetricsJson(job);
        await state.WriteRecoveringAsync();
        await PublishAsync();
        await DropResumeReminderAsync();
        logger.LogInformation("Job {Job} {State}: {Images} images, {Masks} masks, {Failed} failed masks", JobId, S.State, S.ImagesDone, S.MasksDone, S.MasksFailed);
    }

    /// <summary>Refreshes the job's entry in the cluster's job list. Best effort: the list is a view, the job's own
    /// state is the record, so a failed refresh is logged and the next checkpoint tries again.</summary>
    async Task PublishAsync()
    {
        var p = Progress();
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

    void WriteMetricsJson(JobSettings job)
    {
        try
        {
            Metrics.WriteJson(JobOutputs.MetricsPathOf(job), job, S.ClassNames, (int)S.ImagesDone, S.State, S.Error);
        }
        catch (IOException ex)
        {
            logger.LogError(ex, "metrics.json for job {Job} not written", JobId);
        }
    }

    async Task RecordTotalsAsync(Task<(long Images, long Masks)?> counted)
    {
        if (await counted is { } t) (S.ImagesTotal, S.MasksTotal) = t;
    }

    /// <summary>The image's work: its masks with class indices, the first OverlaySamples masks asking for overlays, and in
    /// referring jobs its expressions (the masks are then their candidates).</summary>
    ImageWork Work(DatasetImage image, JobSettings job)
    {
        var masks = image.Masks.Select(m =>
        {
            bool overlay = S.OverlaysAssigned < job.OverlaySamples;
            if (overlay) S.OverlaysAssigned++;
            return new MaskWork(m.MaskId, classes.IndexOf(m), m.ClassId, m.Source.ToData(), overlay);
        }).ToArray();
        var expressions = DatasetFormats.IsReferring(job.Format)
            ? (image.Expressions ?? []).Select(e => new ExpressionWork(e.ExpressionId, e.Text, e.MaskId)).ToArray()
            : null;
        return new ImageWork(JobId, image.ImageId, image.ImagePath, masks, job, classes.Names, expressions);
    }

    readonly record struct InFlightImage(Task<ImageOutcome> Outcome, long Ordinal, DatasetImage Image);

    /// <summary>Settles the earliest-dispatched image that has finished, waiting for one when none has. Earliest first
    /// keeps the watermark moving, so the settled ordinals above it stay within the window: Task.WhenAny alone returns
    /// whichever finished task comes first in the collection, which let an early image wait unsettled behind later ones
    /// for a whole job (measured: the persisted set grew with the dataset, ~70 KB after 20,000 images).</summary>
    async Task SettleNextAsync(List<InFlightImage> inflight)
    {
        int i = inflight.FindIndex(f => f.Outcome.IsCompleted);
        if (i < 0)
        {
            await Task.WhenAny(inflight.Select(f => f.Outcome));
            i = inflight.FindIndex(f => f.Outcome.IsCompleted);
        }
        ThrowIfDeactivating();
        var (done, ordinal, image) = inflight[i];
        inflight.RemoveAt(i);
        inFlight = inflight.Count;
        // Item errors arrive inside the outcome; an image that failed MaxAttempts for any other reason throws
        // (ImageDispatchException) and fails the job, so no engine fault is ever counted as a result.
        var outcome = await done;

        foreach (var mask in outcome.Masks)
        {
            runMasks++;
            if (mask.Error is null) S.MasksDone++;
            else
            {
                S.MasksFailed++;
                JobVerdict.RecordFailure(S, mask.Error, image.ImageId, image.ImagePath, mask.MaskId,
                    image.Masks.FirstOrDefault(m => m.MaskId == mask.MaskId)?.Source.PngPath);
            }
        }
        monitor.Add(outcome);
        activity.Settled(outcome);
        if (outcome.Error is null) S.ImagesDone++;
        else S.ImagesFailed++;
        Metrics.Add(image, outcome);
        await outputs!.WriteAsync(image, outcome, classes);
        S.Settle(ordinal);
        // The loop outlives any single request: keep the activation from being collected as idle.
        DelayDeactivation(TimeSpan.FromMinutes(10));
        if (++sinceCheckpoint >= CheckpointImages || sinceCheckpointClock.Elapsed >= CheckpointInterval) await CheckpointAsync();
    }

    /// <summary>Commits the current Parquet part, folds the metric segments into the persisted totals and writes
    /// state: everything settled so far is then durable together, and nothing after it is.</summary>
    async Task CheckpointAsync()
    {
        ThrowIfDeactivating();
        int before = S.PartsCommitted;
        int committed = await outputs!.CommitAsync();
        if (committed > before && recovery.Value.CrashAfterClosingPart == before) CrashForFaultInjection(before);
        S.PartsCommitted = committed;
        Metrics.Checkpoint();
        sinceCheckpoint = 0;
        sinceCheckpointClock.Restart();
        await state.WriteRecoveringAsync();
        await PublishAsync();
    }

    /// <summary>RecoveryOptions.CrashAfterClosingPart: dies like a SIGKILLed silo, between a closed part and its checkpoint.</summary>
    void CrashForFaultInjection(int part)
    {
        // Straight to stderr: the console logger's queue would die with the process.
        Console.Error.WriteLine($"FAULT INJECTION: job {JobId} closed part {part} and kills this silo before the checkpoint that commits it.");
        Console.Error.Flush();
        System.Diagnostics.Process.GetCurrentProcess().Kill();
    }
}
