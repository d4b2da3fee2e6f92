using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.Storage;

namespace MaskInversion.Grains;

/// <summary>
/// Grain storage whose records are cleared a fixed time after they were written: what Redis' key expiry does for mask
/// records in Redis mode, for Orleans' in-memory storage (development clustering, embedded mode). Mask records only
/// spare recomputing a mask whose image is re-dispatched before the coordinator's next checkpoint commits it; kept
/// for ever they are the whole of a long-running development silo's memory growth (≈ 1.7 KB per mask, measured with
/// <c>bench load</c>). Each write queues its clear (the key and the written ETag, not the record), so this store holds
/// ≈ 100 bytes per record younger than the lifetime. A record written again later has a new ETag and its own clear;
/// the stale clear is refused by the inner store and ignored. Clears queued on a silo that dies are lost with it (its
/// records then stay, as before). An expired record costs at most a recomputation (same result, counted once).
/// </summary>
public sealed class ExpiringGrainStorage : IGrainStorage, IDisposable
{
    readonly IGrainStorage inner;
    readonly TimeSpan lifetime;
    readonly TimeProvider time;
    readonly ILogger logger;
    readonly ConcurrentQueue<(DateTimeOffset Due, Func<Task> Clear)> clears = new();
    readonly ITimer sweeper;
    int sweeping, pending;

    public ExpiringGrainStorage(IGrainStorage inner, TimeSpan lifetime, TimeProvider time, ILogger<ExpiringGrainStorage> logger)
    {
        if (lifetime <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(lifetime), lifetime, "A record lifetime must be positive.");
        (this.inner, this.lifetime, this.time, this.logger) = (inner, lifetime, time, logger);
        var period = TimeSpan.FromTicks(Math.Clamp(lifetime.Ticks / 4, TimeSpan.FromMilliseconds(100).Ticks, TimeSpan.FromSeconds(30).Ticks));
        sweeper = time.CreateTimer(_ => _ = SweepAsync(), null, period, period);
    }

    /// <summary>Writes whose clear has not run yet.</summary>
    public int Pending => Volatile.Read(ref pending);

    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) => inner.ReadStateAsync(stateName, grainId, grainState);

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        await inner.WriteStateAsync(stateName, grainId, grainState);
        var written = new GrainState<T> { ETag = grainState.ETag, RecordExists = true };
        Interlocked.Increment(ref pending);
        clears.Enqueue((time.GetUtcNow() + lifetime, () => inner.ClearStateAsync(stateName, grainId, written)));
    }

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) => inner.ClearStateAsync(stateName, grainId, grainState);

    /// <summary>Clears every record whose lifetime is over (the queue is in write order, so due times only grow).</summary>
    async Task SweepAsync()
    {
        if (Interlocked.Exchange(ref sweeping, 1) == 1) return;
        try
        {
            var now = time.GetUtcNow();
            while (clears.TryPeek(out var head) && head.Due <= now && clears.TryDequeue(out head))
            {
                try
                {
                    await head.Clear();
                }
                catch (InconsistentStateException)
                {
                    // Written again since: that write queued its own clear.
                }
                catch (Exception ex)
                {
                    // The record stays (as without expiry); the sweep goes on with the next.
                    logger.LogWarning(ex, "Expired grain record not cleared");
                }
                Interlocked.Decrement(ref pending);
            }
        }
        finally
        {
            Volatile.Write(ref sweeping, 0);
        }
    }

    public void Dispose() => sweeper.Dispose();
}

public static class ExpiringGrainStorageExtensions
{
    /// <summary>
    /// In-memory grain storage <paramref name="name"/> whose records are cleared <paramref name="lifetime"/> after
    /// they were written (null: kept for ever, Orleans' plain memory storage). The records live in Orleans' memory
    /// storage grains under the name "<paramref name="name"/>-memory" (so PrimaryHeldState still pins them).
    /// </summary>
    public static ISiloBuilder AddExpiringMemoryGrainStorage(this ISiloBuilder builder, string name, TimeSpan? lifetime)
    {
        if (lifetime is not { } ttl) return builder.AddMemoryGrainStorage(name);
        var innerName = name + "-memory";
        builder.AddMemoryGrainStorage(innerName);
        builder.Services.AddKeyedSingleton<IGrainStorage>(name, (sp, _) => new ExpiringGrainStorage(sp.GetRequiredKeyedService<IGrainStorage>(innerName), ttl,
            sp.GetService<TimeProvider>() ?? TimeProvider.System, sp.GetRequiredService<ILogger<ExpiringGrainStorage>>()));
        return builder;
    }
}
