using System.Diagnostics;
using System.Threading.Channels;
using MaskInversion.Core.Datasets;
using MaskInversion.Core.Metrics;
using MaskInversion.Core.Output;
using MaskInversion.Core.Pipeline;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MaskInversion.Grains;

/// <summary>The coordinator's durable state: spec, counters and per-method per-class counters, and which stream
/// ordinals are settled. Its size does not grow with the dataset (see deploy/ARCHITECTURE.md).</summary>
[GenerateSerializer]
public sealed class JobCoordinatorState
{
    [Id(0)] public JobSpec? Spec { get; set; }
    [Id(1)] public JobState State { get; set; }
    [Id(2)] public string? Error { get; set; }
    /// <summary>Every dataset record with an ordinal below this is settled (counted and written).</summary>
    [Id(3)] public long Watermark { get; set; }
    /// <summary>Settled ordinals above the watermark: at most about the in-flight window.</summary>
    [Id(4)] public HashSet<long> SettledAbove { get; set; } = [];
    [Id(5)] public long ImagesDone { get; set; }
    [Id(6)] public long ImagesFailed { get; set; }
    [Id(7)] public long MasksDone { get; set; }
    [Id(8)] public long MasksFailed { get; set; }
    [Id(9)] public long ReadErrors { get; set; }
    [Id(10)] public long Retries { get; set; }
    [Id(11)] public long? ImagesTotal { get; set; }
    [Id(12)] public long? MasksTotal { get; set; }
    [Id(13)] public Dictionary<string, MethodCounters> Methods { get; set; } = new();
    /// <summary>Parquet parts (masks/, embeddings/) whose rows are counted; higher-numbered parts are discarded on resume.</summary>
    [Id(14)] public int PartsCommitted { get; set; }
    [Id(15)] public int OverlaysAssigned { get; set; }
    [Id(16)] public string[] ClassNames { get; set; } = [];
    [Id(17)] public string[] ClassIds { get; set; } = [];
}

/// <summary>
/// One job. Streams the dataset on a background thread into a bounded channel, dispatches image grains with at
/// most MaxInFlight outstanding, retries failed images with bounded backoff (image grains are idempotent by key),
/// merges the per-image records into per-method accumulators and writes per-mask rows into the current Parquet
/// part. A checkpoint closes the part, folds the accumulators into the persisted per-class counters and writes
/// state in one step, so after a crash the job resumes from the last checkpoint without counting anything twice.
/// A running job holds a reminder, so it resumes unattended after its silo dies or the cluster restarts.
/// </summary>
public sealed class JobCoordinatorGrain(
    [PersistentState("job", StorageNames.Jobs)] IPersistentState<JobCoordinatorState> state,
    IOptions<RecoveryOptions> recovery,
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
    // Since the last checkpoint: merged into S only by CheckpointAsync.
    readonly Dictionary<string, RetrievalAccumulator> segment = new();
    readonly Dictionary<string, (double Sum, long Count)> segmentDice = new();
    PerMaskResultsParquet? partWriter;
    EmbeddingsParquet? embeddingWriter;
    int sinceCheckpoint;
    readonly Stopwatch sinceCheckpointClock = new();
    // This activation's run, for masks/s.
    readonly Stopwatch runClock = new();
    long runMasks;
    int inFlight;
    Dictionary<string, int> classIndex = new(StringComparer.Ordinal);

    public override async Task OnActivateAsync(CancellationToken ct)
    {
        if (S.State is JobState.Running or JobState.Cancelling)
        {
            // Resume after a crash or a move: drop parts written after the last checkpoint, their images are redone.
            logger.LogInformation("Job {Job} resumes at ordinal {Watermark} ({Done} images done)", JobId, S.Watermark, S.ImagesDone);
            DeleteParts(S.Spec!, fromIndex: S.PartsCommitted);
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
        if (S.Spec is { } spec && S.State is not JobState.NotStarted && !File.Exists(Path.Combine(spec.OutputFolder, "metrics.json"))) JobMetrics(spec);
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

    public async Task<JobProgress> SubmitAsync(JobSpec spec)
    {
        if (S.Spec is not null)
        {
            if (S.Spec != spec with { Methods = S.Spec.Methods } || !S.Spec.Methods.SequenceEqual(spec.Methods))
                throw new InvalidOperationException($"Job '{JobId}' already exists with a different spec.");
            return Progress();
        }
        Validate(spec);
        S.Spec = spec;
        S.State = JobState.Running;
        foreach (var m in spec.Methods) S.Methods[m] = new MethodCounters();
        DeleteParts(spec, fromIndex: 0);
        await state.WriteRecoveringAsync();
        await KeepResumeReminderAsync();
        StartLoop();
        return Progress();
    }

    static void Validate(JobSpec spec)
    {
        if (!Path.IsPathFullyQualified(spec.OutputFolder)) throw new ArgumentException($"Output folder must be an absolute path, got '{spec.OutputFolder}'.");
        if (spec.MaxInFlight < 1 || spec.MaxAttempts < 1) throw new ArgumentException("MaxInFlight and MaxAttempts must be ≥ 1.");
        var parsed = RegionMethods.ParseList(string.Join(',', spec.Methods));
        if (parsed.Count != spec.Methods.Length || parsed.Select(m => m.Name()).Where((n, i) => n != spec.Methods[i]).Any())
            throw new ArgumentException("Methods must be given by their canonical names (expand groups on the client).");
    }

    public Task<JobProgress> GetProgressAsync() => Task.FromResult(Progress());

    public Task<JobResults> GetResultsAsync()
    {
        var methods = (S.Spec?.Methods ?? []).Select(m =>
        {
            var counters = S.Methods.GetValueOrDefault(m) ?? new MethodCounters();
            var (sum, count) = segmentDice.GetValueOrDefault(m);
            return counters.Plus(segment.GetValueOrDefault(m), sum, count).ToSummary(m, (int)S.ImagesDone);
        }).ToArray();
        return Task.FromResult(new JobResults(Progress(), methods, S.ClassNames));
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
        return new JobProgress(JobId, S.State, S.ImagesDone, S.ImagesFailed, S.MasksDone, S.MasksFailed, S.ReadErrors,
            S.ImagesTotal, S.MasksTotal, inFlight, S.Retries, rate, eta, S.Error, S.Spec?.OutputFolder ?? "");
    }

    void StartLoop()
    {
        if (loop is { IsCompleted: false }) return;
        cancel = new CancellationTokenSource();
        if (S.State == JobState.Cancelling) cancel.Cancel();
        // Runs on this activation's scheduler, interleaving with progress queries at every await.
        loop = RunAsync(cancel.Token);
    }

    async Task RunAsync(CancellationToken token)
    {
        var spec = S.Spec!;
        runClock.Restart();
        sinceCheckpointClock.Restart();
        try
        {
            var reader = await Task.Run(() => DatasetReaders.Open(spec.Format, spec.DatasetRoot, spec.Split, spec.ClassesFile));
            S.ClassNames = reader.Classes.Select(c => c.Name).ToArray();
            S.ClassIds = reader.Classes.Select(c => c.Id).ToArray();
            classIndex = new Dictionary<string, int>(StringComparer.Ordinal);
            for (int i = 0; i < S.ClassIds.Length; i++) classIndex.TryAdd(S.ClassIds[i], i);
            var engine = new EngineSpec(spec.Model, spec.Weights, spec.PretrainedTag, spec.Tokenizer, spec.ImageSize, spec.Templates,
                S.ClassNames, spec.Iterations, spec.LearningRate, spec.Alpha, spec.Seed);
            if (S.ImagesTotal is null) _ = CountAsync(spec);

            var channel = Channel.CreateBounded<(long Ordinal, DatasetRecord Record)>(Math.Max(4, spec.MaxInFlight * 2));
            // The producer gets copies: the settled set only changes for ordinals it has already passed.
            long watermark = S.Watermark;
            var settled = new HashSet<long>(S.SettledAbove);
            var producer = Task.Run(() => Produce(reader, channel.Writer, watermark, settled, spec.MaxImages, token));

            var inflight = new Dictionary<Task<ImageOutcome>, (long Ordinal, DatasetImage Image)>();
            while (!token.IsCancellationRequested)
            {
                while (inflight.Count >= spec.MaxInFlight) await HandleNextAsync(inflight, spec);
                try
                {
                    if (!await channel.Reader.WaitToReadAsync(token).AsTask()) break;
                }
                catch (OperationCanceledException) { break; }
                while (inflight.Count < spec.MaxInFlight && channel.Reader.TryRead(out var next))
                {
                    if (next.Record.Error is { } error)
                    {
                        S.ReadErrors++;
                        await WriteRowAsync(new PerMaskResult(error.ItemId, "", "", null, [], [], null, error.Message), spec);
                        Settle(next.Ordinal);
                        continue;
                    }
                    var image = next.Record.Image!;
                    var task = DispatchAsync(BuildWork(image, engine, spec), spec);
                    inflight.Add(task, (next.Ordinal, image));
                    inFlight = inflight.Count;
                }
            }
            while (inflight.Count > 0) await HandleNextAsync(inflight, spec);
            if (!token.IsCancellationRequested) await producer;   // surfaces a reader failure
            ThrowIfDeactivating();
            S.State = token.IsCancellationRequested ? JobState.Cancelled : JobState.Completed;
        }
        catch (Exception) when (deactivating)
        {
            logger.LogInformation("Job {Job} stops with its activation; it resumes from its last checkpoint", JobId);
            return;
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "Job {Job} failed", JobId);
            S.State = JobState.Failed;
            S.Error = $"{ex.GetType().Name}: {ex.Message}";
        }
        runClock.Stop();   // masks/s then stays the run's average
        await CheckpointAsync(spec);
        JobMetrics(spec);
        await DropResumeReminderAsync();
        logger.LogInformation("Job {Job} {State}: {Images} images, {Masks} masks, {Failed} failed masks", JobId, S.State, S.ImagesDone, S.MasksDone, S.MasksFailed);
    }

    void JobMetrics(JobSpec spec)
    {
        try
        {
            MethodCounters.WriteMetricsJson(Path.Combine(spec.OutputFolder, "metrics.json"), spec, S.Methods, (int)S.ImagesDone, S.ClassNames);
        }
        catch (IOException ex)
        {
            logger.LogError(ex, "metrics.json for job {Job} not written", JobId);
        }
    }

    static void Produce(IDatasetReader reader, ChannelWriter<(long, DatasetRecord)> writer, long watermark, HashSet<long> settled,
        int maxImages, CancellationToken token)
    {
        try
        {
            long ordinal = 0;
            int images = 0;
            foreach (var record in reader.ReadImages(token))
            {
                if (record.Image is not null)
                {
                    if (maxImages > 0 && images >= maxImages) break;
                    images++;
                }
                long o = ordinal++;
                if (o < watermark || settled.Contains(o)) continue;
                writer.WriteAsync((o, record), token).AsTask().GetAwaiter().GetResult();
            }
            writer.TryComplete();
        }
        catch (OperationCanceledException) { writer.TryComplete(); }
        catch (Exception ex) { writer.TryComplete(ex); }
    }

    async Task CountAsync(JobSpec spec)
    {
        try
        {
            var (images, masks) = await Task.Run(() =>
            {
                var reader = DatasetReaders.Open(spec.Format, spec.DatasetRoot, spec.Split, spec.ClassesFile);
                long i = 0, m = 0;
                foreach (var r in reader.ReadImages())
                {
                    if (r.Image is null) continue;
                    if (spec.MaxImages > 0 && i >= spec.MaxImages) break;
                    i++;
                    m += r.Image.Masks.Count;
                }
                return (i, m);
            });
            S.ImagesTotal = images;
            S.MasksTotal = masks;
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "Counting pass of job {Job} failed; progress has no total", JobId);
        }
    }

    ImageWork BuildWork(DatasetImage image, EngineSpec engine, JobSpec spec)
    {
        var masks = image.Masks.Select(m =>
        {
            int cls = m.ClassId is not null && classIndex.TryGetValue(m.ClassId, out var c) ? c
                : m.ClassName is not null ? Array.IndexOf(S.ClassNames, m.ClassName) : -1;
            bool overlay = S.OverlaysAssigned < spec.OverlaySamples;
            if (overlay) S.OverlaysAssigned++;
            return new MaskWork(m.MaskId, cls, m.ClassId, m.Source.ToData(), overlay);
        }).ToArray();
        return new ImageWork(JobId, image.ImageId, image.ImagePath, masks, engine, spec.Methods, spec.SaveEmbeddings,
            Path.Combine(spec.OutputFolder, "overlays"));
    }

    async Task<ImageOutcome> DispatchAsync(ImageWork work, JobSpec spec)
    {
        for (int attempt = 1, counted = 0; ; attempt++)
        {
            ThrowIfDeactivating();
            try
            {
                // Resolved per attempt: while no compute silo is in the cluster (a restart under way) this throws.
                var grain = GrainFactory.GetGrain<IImageGrain>(GrainKeys.Image(work.JobId, work.ImageId));
                return await grain.ProcessAsync(work);
            }
            catch (Exception ex) when (!deactivating && (ClusterUnavailable(ex) || ++counted < spec.MaxAttempts))
            {
                // Silo lost, timeout, storage hiccup: the image grain is idempotent by key, so send it again.
                S.Retries++;
                var delay = TimeSpan.FromMilliseconds(Math.Min(10_000, 250 * Math.Pow(2, attempt - 1)));
                logger.LogWarning("Image {Image} attempt {Attempt} failed ({Error}); retrying in {Delay}", work.ImageId, attempt, ex.Message, delay);
                await Task.Delay(delay);
            }
        }
    }

    /// <summary>No silo can take the image right now: the silo holding it is dead or unreachable, or no compute silo
    /// has joined yet (the cluster is restarting). Not the image's fault, so it never uses up MaxAttempts.</summary>
    static bool ClusterUnavailable(Exception ex) =>
        ex is OrleansMessageRejectionException   // includes SiloUnavailableException and failed connections
        || ex is ArgumentException { Message: var m } && m.StartsWith("Could not find an implementation for interface", StringComparison.Ordinal);

    async Task HandleNextAsync(Dictionary<Task<ImageOutcome>, (long Ordinal, DatasetImage Image)> inflight, JobSpec spec)
    {
        var done = await Task.WhenAny(inflight.Keys);
        ThrowIfDeactivating();
        var (ordinal, image) = inflight[done];
        inflight.Remove(done);
        inFlight = inflight.Count;
        ImageOutcome outcome;
        try
        {
            outcome = await done;
        }
        catch (Exception ex)
        {
            var error = $"failed after {spec.MaxAttempts} attempts: {ex.GetType().Name}: {ex.Message}";
            outcome = new ImageOutcome(image.ImageId, image.Masks.Select(m => new MaskRecord(m.MaskId, -1, [], error)).ToArray(), error, "");
        }
        await RecordAsync(image, outcome, spec);
        Settle(ordinal);
        // The loop outlives any single request: keep the activation from being collected as idle.
        DelayDeactivation(TimeSpan.FromMinutes(10));
        if (++sinceCheckpoint >= CheckpointImages || sinceCheckpointClock.Elapsed >= CheckpointInterval) await CheckpointAsync(spec);
    }

    async Task RecordAsync(DatasetImage image, ImageOutcome outcome, JobSpec spec)
    {
        var labels = image.Masks.ToDictionary(m => m.MaskId, m => m.ClassId ?? m.Expression, StringComparer.Ordinal);
        foreach (var mask in outcome.Masks)
        {
            var label = labels.GetValueOrDefault(mask.MaskId);
            runMasks++;
            if (mask.Error is not null)
            {
                S.MasksFailed++;
                await WriteRowAsync(new PerMaskResult(image.ImageId, mask.MaskId, "", label, [], [], null, mask.Error), spec);
                continue;
            }
            S.MasksDone++;
            foreach (var r in mask.Results)
            {
                if (mask.ClassIndex >= 0)
                {
                    if (!segment.TryGetValue(r.Method, out var acc)) segment[r.Method] = acc = new RetrievalAccumulator();
                    acc.Add(image.ImageId, mask.MaskId, mask.ClassIndex, r.TopClasses);
                }
                if (r.Dice is { } d)
                {
                    var (sum, count) = segmentDice.GetValueOrDefault(r.Method);
                    segmentDice[r.Method] = (sum + d, count + 1);
                }
                await WriteRowAsync(new PerMaskResult(image.ImageId, mask.MaskId, r.Method, label,
                    r.TopClasses.Select(c => c >= 0 && c < S.ClassIds.Length ? S.ClassIds[c] : c.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray(),
                    r.TopScores, r.Dice, null), spec);
                if (r.Embedding is not null)
                {
                    embeddingWriter ??= EmbeddingsParquet.Create(PartPath(spec, "embeddings", S.PartsCommitted));
                    await embeddingWriter.AddAsync(new MaskEmbedding(image.ImageId, mask.MaskId, r.Method, r.Embedding));
                }
            }
        }
        if (outcome.Error is null) S.ImagesDone++;
        else S.ImagesFailed++;
    }

    async Task WriteRowAsync(PerMaskResult row, JobSpec spec)
    {
        partWriter ??= PerMaskResultsParquet.Create(PartPath(spec, "masks", S.PartsCommitted));
        await partWriter.AddAsync(row);
    }

    void Settle(long ordinal)
    {
        S.SettledAbove.Add(ordinal);
        while (S.SettledAbove.Remove(S.Watermark)) S.Watermark++;
    }

    /// <summary>Closes the current Parquet part, folds the segment into the persisted counters and writes state:
    /// everything settled so far is then durable together, and nothing after it is.</summary>
    async Task CheckpointAsync(JobSpec spec)
    {
        ThrowIfDeactivating();
        bool part = partWriter is not null || embeddingWriter is not null;
        if (partWriter is not null) { await partWriter.DisposeAsync(); partWriter = null; }
        if (embeddingWriter is not null) { await embeddingWriter.DisposeAsync(); embeddingWriter = null; }
        if (part)
        {
            if (recovery.Value.CrashAfterClosingPart == S.PartsCommitted) CrashForFaultInjection(S.PartsCommitted);
            S.PartsCommitted++;
        }
        foreach (var (method, acc) in segment)
        {
            if (!S.Methods.TryGetValue(method, out var counters)) S.Methods[method] = counters = new MethodCounters();
            counters.Add(acc.Compute());
        }
        foreach (var (method, (sum, count)) in segmentDice)
        {
            var counters = S.Methods[method];
            counters.DiceSum += sum;
            counters.DiceCount += count;
        }
        segment.Clear();
        segmentDice.Clear();
        sinceCheckpoint = 0;
        sinceCheckpointClock.Restart();
        await state.WriteRecoveringAsync();
    }

    /// <summary>RecoveryOptions.CrashAfterClosingPart: dies like a SIGKILLed silo, between a closed part and its checkpoint.</summary>
    void CrashForFaultInjection(int part)
    {
        // Straight to stderr: the console logger's queue would die with the process.
        Console.Error.WriteLine($"FAULT INJECTION: job {JobId} closed part {part} and kills this silo before the checkpoint that commits it.");
        Console.Error.Flush();
        System.Diagnostics.Process.GetCurrentProcess().Kill();
    }

    internal static string PartPath(JobSpec spec, string kind, int index)
    {
        var dir = Path.Combine(spec.OutputFolder, kind);
        Directory.CreateDirectory(dir);
        return Path.Combine(dir, $"part-{index:D5}.parquet");
    }

    static void DeleteParts(JobSpec spec, int fromIndex)
    {
        foreach (var kind in new[] { "masks", "embeddings" })
        {
            var dir = Path.Combine(spec.OutputFolder, kind);
            if (!Directory.Exists(dir)) continue;
            foreach (var file in Directory.EnumerateFiles(dir, "part-*.parquet"))
                if (int.TryParse(Path.GetFileNameWithoutExtension(file)["part-".Length..], out int i) && i >= fromIndex) File.Delete(file);
        }
    }
}
