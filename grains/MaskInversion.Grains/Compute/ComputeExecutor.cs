using System.Diagnostics;
using System.Threading.Channels;
using MaskInversion.Core.Pipeline;
using MaskInversion.Core.Referring;
using MaskInversion.Core.Runtime;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MaskInversion.Grains;

/// <summary>
/// The silo's device scheduler (DI singleton). It owns the device, the loaded engines and every prepared image;
/// all tensor work runs on its one dedicated thread, because RegionEngine is not thread-safe and TorchSharp's
/// dispose scopes and grad mode are per thread. Grains only enqueue requests and await TaskCompletionSources
/// created with RunContinuationsAsynchronously, so their continuations go back to the grain scheduler instead
/// of running on (and stalling) this thread. Intra-op parallelism comes from libtorch.
/// <para>Preparing an image issues a <see cref="PreparedImageHandle"/> naming its slot here; the image grain owns
/// it until it releases it. New images wait while the prepared images exceed the cache budget. Evaluate requests
/// from the mask grains of one image are collected into one batched Evaluate call (where the decomposition pays):
/// a batch runs when all the masks the image announced have arrived, when it reaches MaxBatchMasks, or after
/// BatchLinger.</para>
/// </summary>
public sealed class ComputeExecutor : IDisposable
{
    abstract class Item;

    sealed class PrepareItem(ImagePlan plan) : Item
    {
        public ImagePlan Plan { get; } = plan;
        public TaskCompletionSource<PreparedImageHandle> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    sealed class EvaluateItem(PreparedImageHandle image, MaskInput mask, bool overlay) : Item
    {
        public PreparedImageHandle Image { get; } = image;
        public MaskInput Mask { get; } = mask;
        public bool Overlay { get; } = overlay;
        public TaskCompletionSource<IReadOnlyList<MaskResult>> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    sealed class ReferItem(PreparedImageHandle image, IReadOnlyList<MaskInput> candidates, IReadOnlyList<ReferringQuery> queries,
        IReadOnlySet<string> overlays) : Item
    {
        public PreparedImageHandle Image { get; } = image;
        public IReadOnlyList<MaskInput> Candidates { get; } = candidates;
        public IReadOnlyList<ReferringQuery> Queries { get; } = queries;
        public IReadOnlySet<string> Overlays { get; } = overlays;
        public TaskCompletionSource<ReferringImageResult> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    sealed class ReleaseItem(PreparedImageHandle image) : Item
    {
        public PreparedImageHandle Image { get; } = image;
    }

    /// <summary>A prepared image in its slot: the tensors, the engine that made them, and its pending masks.</summary>
    sealed class Slot(PreparedImageHandle handle, PreparedImage image, RegionEngine engine, string engineKey, ImagePlan plan)
    {
        public PreparedImageHandle Handle { get; } = handle;
        public PreparedImage Image { get; } = image;
        public RegionEngine Engine { get; } = engine;
        public string EngineKey { get; } = engineKey;
        public ImagePlan Plan { get; } = plan;
        public long Bytes { get; } = image.ApproximateBytes;
        public int Evaluated { get; set; }
        public List<EvaluateItem> Pending { get; } = [];
        public long FirstPendingTicks { get; set; }
    }

    readonly ComputeOptions options;
    readonly ILogger<ComputeExecutor> logger;
    readonly Channel<Item> queue;
    readonly object startLock = new();
    Thread? worker;
    bool disposed;

    // Owned by the worker thread.
    readonly Dictionary<long, Slot> slots = [];
    long lastTrimTicks = Stopwatch.GetTimestamp();
    bool trimPending;   // an image was released since the last trim
    readonly List<PrepareItem> deferred = [];
    readonly EngineCache engines;
    long nextSlot;
    int deferredCount;

    long forwards, evaluateCalls, masksEvaluated, cachedBytes;
    int faultsInjected;

    /// <param name="paths">Where images may be read and overlays written (default: the development roots).</param>
    public ComputeExecutor(IOptions<ComputeOptions> options, ILogger<ComputeExecutor> logger, JobPaths? paths = null)
    {
        this.options = options.Value;
        Paths = paths ?? new JobPaths(Options.Create(new PathOptions()));
        this.logger = logger;
        engines = new EngineCache(this.options.EngineCacheSize, logger);
        queue = Channel.CreateBounded<Item>(new BoundedChannelOptions(Math.Max(1, this.options.QueueCapacity))
        {
            SingleReader = true, FullMode = BoundedChannelFullMode.Wait,
        });
    }

    /// <summary>The silo's allowed folders; images and masks are decoded with <see cref="JobPaths.Images"/>.</summary>
    public JobPaths Paths { get; }

    /// <summary>This executor's identity: handles it issued carry it, handles from any other executor are refused.</summary>
    public Guid Id { get; } = Guid.NewGuid();

    /// <summary>Images decoded and forwarded on this silo (the "forward once" check).</summary>
    public long Forwards => Interlocked.Read(ref forwards);
    public long EvaluateCalls => Interlocked.Read(ref evaluateCalls);
    public long MasksEvaluated => Interlocked.Read(ref masksEvaluated);
    /// <summary>Tensor memory held by prepared images now.</summary>
    public long CachedBytes => Interlocked.Read(ref cachedBytes);
    public long CacheBudgetBytes => options.CacheBudgetBytes;
    /// <summary>Requests waiting for the executor thread, plus images waiting for room in the cache budget.</summary>
    public int QueueDepth => queue.Reader.Count + Volatile.Read(ref deferredCount);

    /// <summary>Decodes and forwards the image once and keeps it in a new slot until released.</summary>
    public async Task<PreparedImageHandle> PrepareAsync(ImagePlan plan, CancellationToken ct = default)
    {
        var item = new PrepareItem(plan);
        await EnqueueAsync(item, ct);
        return await item.Done.Task;
    }

    /// <summary>Runs the image's methods on one mask, batched with the image's other pending masks.</summary>
    /// <param name="overlay">Write PNGs of the image, the mask and the final maps into the plan's overlay folder.</param>
    /// <exception cref="ImageNotPreparedException">The handle is another executor's, or released.</exception>
    public async Task<IReadOnlyList<MaskResult>> EvaluateAsync(PreparedImageHandle image, MaskInput mask, bool overlay = false, CancellationToken ct = default)
    {
        CheckIssuedHere(image);
        var item = new EvaluateItem(image, mask, overlay);
        await EnqueueAsync(item, ct);
        return await item.Done.Task;
    }

    /// <summary>A referring image's whole work in one call: every candidate embedded under every method of the job in one
    /// batch, and ranked for every expression (core's <see cref="ReferringEvaluator"/>, as a direct run computes it).
    /// The region embeddings stay on this silo unless the job saves them; maps are only drawn into overlays.</summary>
    /// <param name="overlays">Candidates whose image, mask and final maps are written as PNGs.</param>
    /// <exception cref="ImageNotPreparedException">The handle is another executor's, or released.</exception>
    public async Task<ReferringImageResult> ReferAsync(PreparedImageHandle image, IReadOnlyList<MaskInput> candidates,
        IReadOnlyList<ReferringQuery> queries, IReadOnlySet<string> overlays, CancellationToken ct = default)
    {
        CheckIssuedHere(image);
        var item = new ReferItem(image, candidates, queries, overlays);
        await EnqueueAsync(item, ct);
        return await item.Done.Task;
    }

    /// <summary>Frees the image's slot; masks still pending fail with <see cref="ImageNotPreparedException"/>.
    /// Releasing twice, or another executor's handle, does nothing.</summary>
    public Task ReleaseAsync(PreparedImageHandle image) =>
        image.Executor == Id ? EnqueueAsync(new ReleaseItem(image), CancellationToken.None).AsTask() : Task.CompletedTask;

    void CheckIssuedHere(PreparedImageHandle image)
    {
        if (image.Executor != Id)
            throw new ImageNotPreparedException(
                $"Image '{image.ImageId}' was prepared by executor {image.Executor}, not by this silo's ({Id}): prepare it here.");
    }

    ValueTask EnqueueAsync(Item item, CancellationToken ct)
    {
        EnsureStarted();
        return queue.Writer.WriteAsync(item, ct);
    }

    void EnsureStarted()
    {
        if (worker is not null) return;
        lock (startLock)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            if (worker is not null) return;
            worker = new Thread(Run) { IsBackground = true, Name = "MaskInversion compute" };
            worker.Start();
        }
    }

    void Run()
    {
        var reader = queue.Reader;
        while (true)
        {
            while (reader.TryRead(out var item)) Accept(item);
            if (RunReadyBatch() || AdmitDeferred()) continue;

            // Idle with nothing prepared (a job's end): what the last images freed goes back to the system now.
            if (trimPending && slots.Count == 0 && options.NativeHeapTrimInterval > TimeSpan.Zero) TrimNativeHeap();
            var wait = NextDeadline();
            // A timed-out wait stays pending and is simply superseded by the next one.
            var more = reader.WaitToReadAsync().AsTask();
            if (more.Wait(wait) && !more.Result) break;   // channel completed: disposing
        }
        foreach (var slot in slots.Keys.ToList()) Release(slot);
        foreach (var p in deferred) p.Done.TrySetException(new ObjectDisposedException(nameof(ComputeExecutor)));
        engines.Dispose();
    }

    void Accept(Item item)
    {
        switch (item)
        {
            case PrepareItem p:
                if (slots.Count == 0 || Interlocked.Read(ref cachedBytes) < options.CacheBudgetBytes)
                    Prepare(p);
                else
                {
                    deferred.Add(p);
                    Volatile.Write(ref deferredCount, deferred.Count);
                }
                break;
            case EvaluateItem e:
                if (!slots.TryGetValue(e.Image.Slot, out var slot))
                    e.Done.TrySetException(new ImageNotPreparedException(
                        $"Image '{e.Image.ImageId}' (slot {e.Image.Slot}) is no longer prepared on this silo: it was released; prepare it again."));
                else
                {
                    if (slot.Pending.Count == 0) slot.FirstPendingTicks = Stopwatch.GetTimestamp();
                    slot.Pending.Add(e);
                }
                break;
            case ReferItem f:
                if (slots.TryGetValue(f.Image.Slot, out var referring)) RunReferring(referring, f);
                else f.Done.TrySetException(new ImageNotPreparedException(
                    $"Image '{f.Image.ImageId}' (slot {f.Image.Slot}) is no longer prepared on this silo: it was released; prepare it again."));
                break;
            case ReleaseItem r:
                Release(r.Image.Slot);
                break;
        }
    }

    void Prepare(PrepareItem p)
    {
        try
        {
            var (engineKey, engine) = engines.Get(p.Plan.Job.ToEngineSettings(p.Plan.ClassNames, options.Device),
                key => slots.Values.Any(s => s.EngineKey == key));
            var image = engine.Prepare(p.Plan.ImageId, p.Plan.ImagePath, Paths.Images);
            Interlocked.Increment(ref forwards);
            var handle = new PreparedImageHandle(Id, ++nextSlot, p.Plan.ImageId, image.Image.Width, image.Image.Height);
            var slot = new Slot(handle, image, engine, engineKey, p.Plan);
            slots[handle.Slot] = slot;
            Interlocked.Add(ref cachedBytes, slot.Bytes);
            p.Done.TrySetResult(handle);
        }
        catch (Exception ex)
        {
            p.Done.TrySetException(ex);
        }
    }

    bool AdmitDeferred()
    {
        if (deferred.Count == 0 || (slots.Count > 0 && Interlocked.Read(ref cachedBytes) >= options.CacheBudgetBytes)) return false;
        var p = deferred[0];
        deferred.RemoveAt(0);
        Volatile.Write(ref deferredCount, deferred.Count);
        Prepare(p);
        return true;
    }

    TimeSpan NextDeadline()
    {
        long earliest = long.MaxValue;
        foreach (var s in slots.Values)
            if (s.Pending.Count > 0) earliest = Math.Min(earliest, s.FirstPendingTicks);
        if (earliest == long.MaxValue) return Timeout.InfiniteTimeSpan;
        var left = options.BatchLinger - Stopwatch.GetElapsedTime(earliest);
        return left > TimeSpan.Zero ? left : TimeSpan.Zero;
    }

    bool RunReadyBatch()
    {
        foreach (var slot in slots.Values)
        {
            if (slot.Pending.Count == 0) continue;
            bool all = slot.Evaluated + slot.Pending.Count >= slot.Plan.ExpectedMasks;
            bool full = slot.Pending.Count >= options.MaxBatchMasks;
            bool late = Stopwatch.GetElapsedTime(slot.FirstPendingTicks) >= options.BatchLinger;
            if (!(all || full || late)) continue;
            var batch = slot.Pending.Take(options.MaxBatchMasks).ToList();
            slot.Pending.RemoveRange(0, batch.Count);
            if (slot.Pending.Count > 0) slot.FirstPendingTicks = Stopwatch.GetTimestamp();
            RunBatch(slot, batch);
            return true;
        }
        return false;
    }

    void RunBatch(Slot slot, List<EvaluateItem> batch)
    {
        // A mask asked twice (e.g. a duplicate grain activation during a failure) is computed once.
        var unique = batch.GroupBy(b => b.Mask.MaskId, StringComparer.Ordinal).Select(g => g.First()).ToList();
        try
        {
            InjectFault(slot);
            var results = slot.Engine.Evaluate(slot.Image, unique.Select(u => u.Mask).ToList(), slot.Plan.Methods, slot.Plan.Job.SaveEmbeddings);
            Interlocked.Increment(ref evaluateCalls);
            Interlocked.Add(ref masksEvaluated, unique.Count);
            slot.Evaluated += unique.Count;
            var byMask = results.GroupBy(r => r.MaskId, StringComparer.Ordinal).ToDictionary(g => g.Key, g => (IReadOnlyList<MaskResult>)g.ToList());
            var initial = batch.Any(b => b.Overlay) ? InitialMap(slot) : null;
            foreach (var item in batch)
            {
                var mine = byMask[item.Mask.MaskId];
                if (item.Overlay) OverlayWriter.TryWrite(slot.Plan.OverlayFolder, slot.Image.Image, item.Mask, mine, initial, JobSettingsConversion.OverlayMapSize, logger);
                item.Done.TrySetResult(mine);
            }
        }
        catch (Exception ex)
        {
            foreach (var item in batch) item.Done.TrySetException(ex);
        }
    }

    void RunReferring(Slot slot, ReferItem f)
    {
        try
        {
            InjectFault(slot);
            var result = new ReferringEvaluator(slot.Engine).EvaluateImage(slot.Image, f.Candidates, f.Queries, slot.Plan.Methods);
            Interlocked.Increment(ref evaluateCalls);
            Interlocked.Add(ref masksEvaluated, f.Candidates.Count);
            slot.Evaluated += f.Candidates.Count;
            var initial = f.Overlays.Count > 0 ? InitialMap(slot) : null;
            foreach (var c in f.Candidates.Where(c => f.Overlays.Contains(c.MaskId)))
                OverlayWriter.TryWrite(slot.Plan.OverlayFolder, slot.Image.Image, c, result.Regions.Where(r => r.MaskId == c.MaskId).ToList(), initial,
                    JobSettingsConversion.OverlayMapSize, logger);
            bool keep = slot.Plan.Job.SaveEmbeddings;
            f.Done.TrySetResult(result with { Regions = result.Regions.Select(r => r with { Embedding = keep ? r.Embedding : null, Map = null }).ToList() });
        }
        catch (Exception ex)
        {
            f.Done.TrySetException(ex);
        }
    }

    /// <summary><see cref="ComputeOptions.InjectEngineFaults"/>: fails this batch like a libtorch error, while faults are left.</summary>
    void InjectFault(Slot slot)
    {
        if (faultsInjected >= options.InjectEngineFaults) return;
        faultsInjected++;
        throw new System.Runtime.InteropServices.ExternalException(
            $"FAULT INJECTION {faultsInjected}/{options.InjectEngineFaults}: engine fault on image {slot.Handle.ImageId} (as libtorch's 'value cannot be converted to type float').");
    }

    /// <summary>LeGrad map of the image's LET₀ for overlays; an overlay is never worth failing the masks for.</summary>
    float[]? InitialMap(Slot slot)
    {
        try
        {
            return slot.Engine.InitialMap(slot.Image, JobSettingsConversion.OverlayMapSize);
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "Initial map of image {Image} not drawn", slot.Handle.ImageId);
            return null;
        }
    }

    void Release(long id)
    {
        if (!slots.Remove(id, out var slot)) return;
        foreach (var p in slot.Pending)
            p.Done.TrySetException(new ImageNotPreparedException($"Image '{slot.Handle.ImageId}' was released before mask {p.Mask.MaskId} ran."));
        Interlocked.Add(ref cachedBytes, -slot.Bytes);
        slot.Image.Dispose();
        TrimNativeHeapWhenDue();
    }

    /// <summary>Hands the pages libtorch freed back to the system, at most once per NativeHeapTrimInterval (a trim
    /// costs milliseconds; after every image it would add up), and once more when the executor falls idle.</summary>
    void TrimNativeHeapWhenDue()
    {
        trimPending = true;
        var interval = options.NativeHeapTrimInterval;
        if (interval > TimeSpan.Zero && Stopwatch.GetElapsedTime(lastTrimTicks) >= interval) TrimNativeHeap();
    }

    void TrimNativeHeap()
    {
        NativeHeap.Trim();
        lastTrimTicks = Stopwatch.GetTimestamp();
        trimPending = false;
    }

    public void Dispose()
    {
        Thread? w;
        lock (startLock)
        {
            if (disposed) return;
            disposed = true;
            w = worker;
        }
        queue.Writer.TryComplete();
        w?.Join(TimeSpan.FromSeconds(30));
    }
}
