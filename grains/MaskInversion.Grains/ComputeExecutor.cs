using System.Diagnostics;
using System.Threading.Channels;
using MaskInversion.Core.Imaging;
using MaskInversion.Core.Pipeline;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MaskInversion.Grains;

/// <summary>The image is not (or no longer) prepared on this silo's executor: the caller must prepare it again.</summary>
[GenerateSerializer]
public sealed class ImageNotPreparedException(string message) : Exception(message);

/// <summary>Size of a prepared image and the cache it holds.</summary>
public sealed record PreparedInfo(int Width, int Height, long Bytes);

/// <summary>
/// The silo's device owner (DI singleton). All tensor work runs on one dedicated thread, because RegionEngine is
/// not thread-safe and TorchSharp's dispose scopes and grad mode are per thread; grains only enqueue requests and
/// await TaskCompletionSources created with RunContinuationsAsynchronously, so their continuations go back to the
/// grain scheduler instead of running on (and stalling) this thread. Intra-op parallelism comes from libtorch.
/// <para>Prepared images (decoded + forwarded once, holding the decomposition cache) stay here, keyed by the
/// image grain's key, until released; new images wait while the cache is over budget. Evaluate requests from the
/// mask grains of one image are collected into one batched Evaluate call: a batch runs when all the masks the
/// image announced have arrived, when it reaches MaxBatchMasks, or after BatchLinger.</para>
/// </summary>
public sealed class ComputeExecutor : IDisposable
{
    abstract class Item;

    sealed class PrepareItem(EngineSpec engine, string key, string imageId, string path, int expectedMasks, IReadOnlyList<RegionMethod> methods, bool embeddings) : Item
    {
        public EngineSpec Engine { get; } = engine;
        public string Key { get; } = key;
        public string ImageId { get; } = imageId;
        public string Path { get; } = path;
        public int ExpectedMasks { get; } = expectedMasks;
        public IReadOnlyList<RegionMethod> Methods { get; } = methods;
        public bool Embeddings { get; } = embeddings;
        public TaskCompletionSource<PreparedInfo> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    sealed class EvaluateItem(string key, MaskInput mask, string? overlayFolder) : Item
    {
        public string Key { get; } = key;
        public MaskInput Mask { get; } = mask;
        public string? OverlayFolder { get; } = overlayFolder;
        public TaskCompletionSource<IReadOnlyList<MaskResult>> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    sealed class ReleaseItem(string key) : Item
    {
        public string Key { get; } = key;
    }

    sealed class Entry(PreparedImage image, RegionEngine engine, string engineKey, PrepareItem request)
    {
        public PreparedImage Image { get; } = image;
        public RegionEngine Engine { get; } = engine;
        public string EngineKey { get; } = engineKey;
        public PrepareItem Request { get; } = request;
        public int Evaluated { get; set; }
        public List<EvaluateItem> Pending { get; } = [];
        public long FirstPendingTicks { get; set; }
        public long Bytes { get; set; }
    }

    static readonly object LoadLock = new();
    readonly ComputeOptions options;
    readonly ILogger<ComputeExecutor> logger;
    readonly Channel<Item> queue;
    readonly object startLock = new();
    Thread? worker;
    bool disposed;

    // Owned by the worker thread.
    readonly Dictionary<string, Entry> prepared = new(StringComparer.Ordinal);
    readonly List<PrepareItem> deferred = [];
    readonly List<(string Key, RegionEngine Engine)> engines = [];   // most recently used last

    long forwards, evaluateCalls, masksEvaluated, cachedBytes, peakCachedBytes, deferrals;

    public ComputeExecutor(IOptions<ComputeOptions> options, ILogger<ComputeExecutor> logger)
    {
        this.options = options.Value;
        this.logger = logger;
        queue = Channel.CreateBounded<Item>(new BoundedChannelOptions(Math.Max(1, this.options.QueueCapacity))
        {
            SingleReader = true, FullMode = BoundedChannelFullMode.Wait,
        });
    }

    /// <summary>Images decoded and forwarded on this silo (the "forward once" check).</summary>
    public long Forwards => Interlocked.Read(ref forwards);
    public long EvaluateCalls => Interlocked.Read(ref evaluateCalls);
    public long MasksEvaluated => Interlocked.Read(ref masksEvaluated);
    public long CachedBytes => Interlocked.Read(ref cachedBytes);
    public long PeakCachedBytes => Interlocked.Read(ref peakCachedBytes);
    /// <summary>Prepare requests that had to wait for cache budget.</summary>
    public long Deferrals => Interlocked.Read(ref deferrals);

    /// <summary>Decodes and forwards the image once (a repeat for a key already prepared returns its info).</summary>
    /// <param name="expectedMasks">How many Evaluate requests will come, so their batch can run as soon as all arrived.</param>
    public async Task<PreparedInfo> PrepareAsync(string key, EngineSpec engine, string imageId, string imagePath, int expectedMasks,
        IReadOnlyList<RegionMethod> methods, bool returnEmbeddings, CancellationToken ct = default)
    {
        var item = new PrepareItem(engine, key, imageId, imagePath, expectedMasks, methods, returnEmbeddings);
        await EnqueueAsync(item, ct);
        return await item.Done.Task;
    }

    /// <summary>Runs the image's methods on one mask, batched with the image's other pending masks.</summary>
    /// <param name="overlayFolder">When set, PNGs of the image, the mask and the final map are written there.</param>
    public async Task<IReadOnlyList<MaskResult>> EvaluateAsync(string key, MaskInput mask, string? overlayFolder = null, CancellationToken ct = default)
    {
        var item = new EvaluateItem(key, mask, overlayFolder);
        await EnqueueAsync(item, ct);
        return await item.Done.Task;
    }

    /// <summary>Frees the image's cache; masks still pending fail with <see cref="ImageNotPreparedException"/>.</summary>
    public Task ReleaseAsync(string key) => EnqueueAsync(new ReleaseItem(key), CancellationToken.None).AsTask();

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

            var wait = NextDeadline();
            // A timed-out wait stays pending and is simply superseded by the next one.
            var more = reader.WaitToReadAsync().AsTask();
            if (more.Wait(wait) && !more.Result) break;   // channel completed: disposing
        }
        foreach (var key in prepared.Keys.ToList()) Release(key);
        foreach (var p in deferred) p.Done.TrySetException(new ObjectDisposedException(nameof(ComputeExecutor)));
        foreach (var (_, engine) in engines) engine.Dispose();
        engines.Clear();
    }

    void Accept(Item item)
    {
        switch (item)
        {
            case PrepareItem p:
                if (prepared.TryGetValue(p.Key, out var existing))
                    p.Done.TrySetResult(Info(existing));
                else if (prepared.Count == 0 || Interlocked.Read(ref cachedBytes) < options.CacheBudgetBytes)
                    Prepare(p);
                else
                {
                    Interlocked.Increment(ref deferrals);
                    deferred.Add(p);
                }
                break;
            case EvaluateItem e:
                if (!prepared.TryGetValue(e.Key, out var entry))
                    e.Done.TrySetException(new ImageNotPreparedException($"Image '{e.Key}' is not prepared on this silo."));
                else
                {
                    if (entry.Pending.Count == 0) entry.FirstPendingTicks = Stopwatch.GetTimestamp();
                    entry.Pending.Add(e);
                }
                break;
            case ReleaseItem r:
                Release(r.Key);
                break;
        }
    }

    static PreparedInfo Info(Entry e) => new(e.Image.Image.Width, e.Image.Image.Height, e.Bytes);

    void Prepare(PrepareItem p)
    {
        try
        {
            var (engineKey, engine) = GetEngine(p.Engine);
            var image = engine.Prepare(p.ImageId, p.Path);
            Interlocked.Increment(ref forwards);
            var entry = new Entry(image, engine, engineKey, p) { Bytes = image.ApproximateBytes };
            prepared[p.Key] = entry;
            AddCached(entry.Bytes);
            p.Done.TrySetResult(Info(entry));
        }
        catch (Exception ex)
        {
            p.Done.TrySetException(ex);
        }
    }

    bool AdmitDeferred()
    {
        if (deferred.Count == 0 || (prepared.Count > 0 && Interlocked.Read(ref cachedBytes) >= options.CacheBudgetBytes)) return false;
        var p = deferred[0];
        deferred.RemoveAt(0);
        Accept(p);
        return true;
    }

    (string Key, RegionEngine Engine) GetEngine(EngineSpec spec)
    {
        var key = spec.CacheKey;
        int i = engines.FindIndex(e => e.Key == key);
        if (i >= 0)
        {
            var hit = engines[i];
            engines.RemoveAt(i);
            engines.Add(hit);
            return hit;
        }
        // Evict least recently used engines that no prepared image still uses.
        for (int j = 0; j < engines.Count && engines.Count >= Math.Max(1, options.EngineCacheSize);)
        {
            var candidate = engines[j];
            if (prepared.Values.Any(e => e.EngineKey == candidate.Key)) { j++; continue; }
            candidate.Engine.Dispose();
            engines.RemoveAt(j);
        }
        logger.LogInformation("Loading engine (model {Model}, {Classes} classes, image size {Size})", spec.Model ?? spec.Weights, spec.ClassNames.Length, spec.ImageSize);
        RegionEngine engine;
        // Seeded random weights come from libtorch's process-wide generator: silos sharing a process (tests, the
        // embedded demo) must not interleave their seeding, or "the same" model differs between them.
        lock (LoadLock) engine = RegionEngine.Load(spec.ToSettings() with { Device = options.Device });
        engines.Add((key, engine));
        return (key, engine);
    }

    TimeSpan NextDeadline()
    {
        long earliest = long.MaxValue;
        foreach (var e in prepared.Values)
            if (e.Pending.Count > 0) earliest = Math.Min(earliest, e.FirstPendingTicks);
        if (earliest == long.MaxValue) return Timeout.InfiniteTimeSpan;
        var left = options.BatchLinger - Stopwatch.GetElapsedTime(earliest);
        return left > TimeSpan.Zero ? left : TimeSpan.Zero;
    }

    bool RunReadyBatch()
    {
        foreach (var entry in prepared.Values)
        {
            if (entry.Pending.Count == 0) continue;
            bool all = entry.Evaluated + entry.Pending.Count >= entry.Request.ExpectedMasks;
            bool full = entry.Pending.Count >= options.MaxBatchMasks;
            bool late = Stopwatch.GetElapsedTime(entry.FirstPendingTicks) >= options.BatchLinger;
            if (!(all || full || late)) continue;
            var batch = entry.Pending.Take(options.MaxBatchMasks).ToList();
            entry.Pending.RemoveRange(0, batch.Count);
            if (entry.Pending.Count > 0) entry.FirstPendingTicks = Stopwatch.GetTimestamp();
            RunBatch(entry, batch);
            return true;
        }
        return false;
    }

    void RunBatch(Entry entry, List<EvaluateItem> batch)
    {
        // A mask asked twice (e.g. a duplicate grain activation during a failure) is computed once.
        var unique = batch.GroupBy(b => b.Mask.MaskId, StringComparer.Ordinal).Select(g => g.First()).ToList();
        try
        {
            var results = entry.Engine.Evaluate(entry.Image, unique.Select(u => u.Mask).ToList(), entry.Request.Methods, entry.Request.Embeddings);
            Interlocked.Increment(ref evaluateCalls);
            Interlocked.Add(ref masksEvaluated, unique.Count);
            entry.Evaluated += unique.Count;
            var byMask = results.GroupBy(r => r.MaskId, StringComparer.Ordinal).ToDictionary(g => g.Key, g => (IReadOnlyList<MaskResult>)g.ToList());
            foreach (var item in batch)
            {
                var mine = byMask[item.Mask.MaskId];
                if (item.OverlayFolder is not null) TryWriteOverlay(entry.Image.Image, item, mine);
                item.Done.TrySetResult(mine);
            }
        }
        catch (Exception ex)
        {
            foreach (var item in batch) item.Done.TrySetException(ex);
        }
    }

    void TryWriteOverlay(RgbImage image, EvaluateItem item, IReadOnlyList<MaskResult> results)
    {
        try
        {
            Directory.CreateDirectory(item.OverlayFolder!);
            var stem = Path.Combine(item.OverlayFolder!, Safe(item.Mask.MaskId));
            PngWriter.Save(image, stem + "_image.png");
            PngWriter.Save(item.Mask.Mask, stem + "_mask.png");
            foreach (var r in results.Where(r => r.Map is not null))
                PngWriter.SaveHeatMap(r.Map!, r.MapSize, r.MapSize, $"{stem}_{r.Method.Name()}_map.png", image);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
        {
            logger.LogWarning(ex, "Overlay for mask {Mask} not written", item.Mask.MaskId);
        }
    }

    internal static string Safe(string name) => string.Concat(name.Select(c => char.IsLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_'));

    void Release(string key)
    {
        if (!prepared.Remove(key, out var entry)) return;
        foreach (var p in entry.Pending)
            p.Done.TrySetException(new ImageNotPreparedException($"Image '{key}' was released before mask {p.Mask.MaskId} ran."));
        AddCached(-entry.Bytes);
        entry.Image.Dispose();
    }

    void AddCached(long delta)
    {
        long now = Interlocked.Add(ref cachedBytes, delta);
        long peak;
        while (now > (peak = Interlocked.Read(ref peakCachedBytes)) && Interlocked.CompareExchange(ref peakCachedBytes, now, peak) != peak) { }
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
