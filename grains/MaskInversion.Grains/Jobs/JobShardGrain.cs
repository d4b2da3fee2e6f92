using System.Diagnostics;
using MaskInversion.Core.Datasets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MaskInversion.Grains;

/// <summary>
/// One shard of a job (key "jobId/shard"): it works the dataset records whose ordinal % Shards == Shard. The run loop
/// takes those records from the <see cref="DatasetStream"/>, sends at most its share of MaxInFlight images at a time
/// through the <see cref="ImageDispatcher"/> (retries), and settles each outcome into the <see cref="JobMetrics"/> (the
/// metric registry's merge) and the <see cref="JobOutputs"/> (its own Parquet parts). A checkpoint commits the part,
/// folds the metrics into the persisted totals and writes state in one step, so after a crash the shard resumes from
/// its last checkpoint without counting or writing anything twice. Any call reactivates a running shard, which resumes;
/// its job's coordinator pokes it on every reminder tick, and the shard tells the coordinator when it has ended.
/// </summary>
public sealed class JobShardGrain(
    [PersistentState("shard", StorageNames.Jobs)] IPersistentState<JobShardState> state,
    JobMetricRegistry metricRegistry,
    JobActivity activity,
    IImageProcessor imageProcessor,
    IOptions<RecoveryOptions> recovery,
    JobPaths paths,
    ILogger<JobShardGrain> logger) : Grain, IJobShardGrain
{
    static readonly TimeSpan CheckpointInterval = TimeSpan.FromSeconds(2);
    const int CheckpointImages = 256;

    JobShardState S => state.State;
    string Key => this.GetPrimaryKeyString();
    string JobId => Key[..Key.LastIndexOf('/')];

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
    // The verdict is durable: from here on the shard reports itself ended (its loop may still be telling the coordinator).
    bool endCommitted;
    readonly JobMonitor monitor = new();

    JobMetrics Metrics => metrics ??= new JobMetrics(metricRegistry, S.Metrics);

    public override Task OnActivateAsync(CancellationToken ct)
    {
        if (S.State is JobState.Running or JobState.Cancelling)
        {
            // Resume after a crash or a move: drop parts written after the last checkpoint, their images are redone.
            logger.LogInformation("Job {Job} shard {Shard}/{Shards} resumes at ordinal {Watermark} ({Done} images done)",
                JobId, S.Shard, S.Shards, S.Watermark, S.ImagesDone);
            StartLoop();
        }
        return Task.CompletedTask;
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken ct)
    {
        deactivating = true;
        cancel?.Cancel();
        return Task.CompletedTask;
    }

    void ThrowIfDeactivating()
    {
        if (deactivating) throw new OperationCanceledException($"Job {JobId} shard {S.Shard}'s activation is going; it resumes from its last checkpoint.");
    }

    public async Task<ShardReport> StartAsync(JobSettings job, int shard, int shards)
    {
        if (S.Settings is null)
        {
            (S.Settings, S.Shard, S.Shards, S.State) = (job, shard, shards, JobState.Running);
            // Ordinals below the shard's number are not its own: start the watermark at its first.
            S.Watermark = shard;
            await state.WriteRecoveringAsync();
        }
        else if (S.Shard != shard || S.Shards != shards)
            throw new InvalidOperationException($"Job {JobId}: shard key {Key} holds shard {S.Shard} of {S.Shards}, asked to start as {shard} of {shards}.");
        if (S.State is JobState.Running or JobState.Cancelling) StartLoop();
        return Report(withTotals: false);
    }

    public Task<ShardReport> GetReportAsync(bool withTotals) => Task.FromResult(Report(withTotals));

    public Task<JobMonitorView> GetMonitorAsync() => Task.FromResult(monitor.View(Progress(), running: !Ended));

    public Task<ShardReport> CancelAsync()
    {
        if (S.State == JobState.Running)
        {
            // The loop stops dispatching, lets images in flight finish, checkpoints and marks the shard Cancelled.
            S.State = JobState.Cancelling;
            cancel?.Cancel();
        }
        return Task.FromResult(Report(withTotals: false));
    }

    /// <summary>The loop has finished and committed everything: the state's verdict is final.</summary>
    bool Ended => S.State is JobState.Completed or JobState.Failed or JobState.Cancelled && (endCommitted || loop is not { IsCompleted: false });

    /// <summary>A snapshot of the state for the coordinator; the metric totals (which grow with classes × methods) and
    /// the class list only when asked. The totals include what is settled since the last checkpoint.</summary>
    ShardReport Report(bool withTotals)
    {
        var snapshot = new JobShardState
        {
            Settings = S.Settings, Shard = S.Shard, Shards = S.Shards, State = S.State, Error = S.Error, Watermark = S.Watermark,
            ImagesDone = S.ImagesDone, ImagesFailed = S.ImagesFailed, MasksDone = S.MasksDone, MasksFailed = S.MasksFailed,
            ReadErrors = S.ReadErrors, Retries = S.Retries, ImagesTotal = S.ImagesTotal, MasksTotal = S.MasksTotal,
            PartsCommitted = S.PartsCommitted, OverlaysAssigned = S.OverlaysAssigned,
            FirstItemError = S.FirstItemError, FirstItemErrorPattern = S.FirstItemErrorPattern, ItemErrorsDiffer = S.ItemErrorsDiffer,
        };
        if (withTotals)
        {
            snapshot.Metrics = S.Settings is null ? new() : Metrics.Current();
            (snapshot.ClassIds, snapshot.ClassNames) = (S.ClassIds, S.ClassNames);
        }
        double rate = runClock.Elapsed.TotalSeconds > 0 ? runMasks / runClock.Elapsed.TotalSeconds : 0;
        return new ShardReport(S.Shard, snapshot, Ended, inFlight, rate);
    }

    /// <summary>The shard's own progress (for its monitor view; the coordinator sums the shards').</summary>
    JobProgress Progress()
    {
        double rate = runClock.Elapsed.TotalSeconds > 0 ? runMasks / runClock.Elapsed.TotalSeconds : 0;
        return new JobProgress(Key, Ended ? S.State : S.State == JobState.Cancelling ? JobState.Cancelling : JobState.Running, S.ImagesDone, S.ImagesFailed,
            S.MasksDone, S.MasksFailed, S.ReadErrors, S.ImagesTotal, S.MasksTotal, inFlight, S.Retries, rate, null, S.Error, S.Settings?.OutputFolder ?? "");
    }

    void StartLoop()
    {
        if (loop is { IsCompleted: false }) return;
        outputs = new JobOutputs(S.Settings!, S.PartsCommitted, S.Shard, S.Shards);
        outputs.DeleteParts(fromIndex: S.PartsCommitted);
        cancel = new CancellationTokenSource();
        if (S.State == JobState.Cancelling) cancel.Cancel();
        // Runs on this activation's scheduler, interleaving with progress queries at every await.
        loop = RunAsync(cancel.Token);
    }

    async Task RunAsync(CancellationToken token)
    {
        var job = S.Settings!;
        int maxInFlight = Share(job.MaxInFlight);
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
            stream.Start(count: S.ImagesTotal is null, S.Shard, S.Shards, S.Watermark, new HashSet<long>(S.SettledAbove), job.MaxImages, maxInFlight * 2,
                ex => logger.LogWarning(ex, "Counting pass of job {Job} failed; progress has no total", JobId), token);
            _ = RecordTotalsAsync(stream.Totals);

            var dispatcher = new ImageDispatcher(GrainFactory, imageProcessor, logger, () => { S.Retries++; activity.Retried(); }, () => deactivating);
            var inflight = new List<InFlightImage>();   // in dispatch order
            // In dataset ordinals, of which every Shards-th is this shard's: the same count of its own ordinals whatever the shard count.
            long window = (long)JobShardState.SettledWindow(maxInFlight) * S.Shards;
            // The next record waits while it is a window or more past the watermark (an image still retrying holds the
            // watermark back): the settled ordinals above the watermark, which are persisted, then stay under the window.
            bool Blocked() => inflight.Count >= maxInFlight
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
            // Whether a job that ran to its end measured anything is for the coordinator to say, over all shards (JobVerdict).
            verdict = token.IsCancellationRequested ? JobState.Cancelled : JobState.Completed;
        }
        catch (Exception) when (deactivating)
        {
            logger.LogInformation("Job {Job} shard {Shard} stops with its activation; it resumes from its last checkpoint", JobId, S.Shard);
            return;
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "Job {Job} shard {Shard} failed", JobId, S.Shard);
            (verdict, failure) = (JobState.Failed, $"{ex.GetType().Name}: {ex.Message}");
        }
        runClock.Stop();   // masks/s then stays the run's average
        // The last part and the metrics are committed before the verdict: once the shard shows as ended, its outputs are complete.
        await CheckpointAsync();
        (S.State, S.Error) = (verdict, failure);
        await state.WriteRecoveringAsync();
        endCommitted = true;
        logger.LogInformation("Job {Job} shard {Shard}/{Shards} {State}: {Images} images, {Masks} masks, {Failed} failed masks",
            JobId, S.Shard, S.Shards, S.State, S.ImagesDone, S.MasksDone, S.MasksFailed);
        await TellCoordinatorAsync();
    }

    /// <summary>Tells the job's coordinator that this shard has ended, so the job ends without waiting for its reminder;
    /// retried for a while (its silo may be dying): the reminder's poke is the backstop.</summary>
    async Task TellCoordinatorAsync()
    {
        for (int attempt = 1; attempt <= 5 && !deactivating; attempt++)
        {
            try
            {
                await GrainFactory.GetGrain<IJobShardEvents>(JobId).ShardEndedAsync(S.Shard);
                return;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogWarning("Job {Job} shard {Shard}: telling the coordinator it ended failed ({Error}); attempt {Attempt}", JobId, S.Shard, ex.Message, attempt);
                await Task.Delay(ImageDispatcher.Backoff(attempt + 2));
            }
        }
    }

    /// <summary>This shard's part of a job-wide figure (MaxInFlight, OverlaySamples): the shards' parts add up to it.</summary>
    int Share(int total) => total / S.Shards + (S.Shard < total % S.Shards ? 1 : 0);

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
            bool overlay = S.OverlaysAssigned < Share(job.OverlaySamples);
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
        // For the cluster's job list; one-way: a coordinator that is moving must not hold the checkpoint up.
        _ = GrainFactory.GetGrain<IJobShardEvents>(JobId).ShardCheckpointed(S.Shard, Progress());
    }

    /// <summary>RecoveryOptions.CrashAfterClosingPart: dies like a SIGKILLed silo, between a closed part and its checkpoint.</summary>
    void CrashForFaultInjection(int part)
    {
        // Straight to stderr: the console logger's queue would die with the process.
        Console.Error.WriteLine($"FAULT INJECTION: job {JobId} shard {S.Shard} closed part {part} and kills this silo before the checkpoint that commits it.");
        Console.Error.Flush();
        System.Diagnostics.Process.GetCurrentProcess().Kill();
    }
}
