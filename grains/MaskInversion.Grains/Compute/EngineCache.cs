using System.Text.Json;
using MaskInversion.Core.Pipeline;
using Microsoft.Extensions.Logging;

namespace MaskInversion.Grains;

/// <summary>The executor's loaded engines (model + class prompts + hyper-parameters), least recently used last
/// out. Owned by the executor's thread.</summary>
sealed class EngineCache(int capacity, ILogger logger) : IDisposable
{
    // Seeded random weights come from libtorch's process-wide generator: silos sharing a process (tests, the
    // embedded demo) must not interleave their seeding, or "the same" model differs between them.
    static readonly object LoadLock = new();
    readonly List<(string Key, RegionEngine Engine)> engines = [];   // most recently used last

    /// <summary>Value identity of engine settings: every field, lists by content.</summary>
    public static string KeyOf(EngineSettings settings) => JsonSerializer.Serialize(settings);

    /// <param name="inUse">Engine keys prepared images still hold; those are never evicted.</param>
    public (string Key, RegionEngine Engine) Get(EngineSettings settings, Func<string, bool> inUse)
    {
        var key = KeyOf(settings);
        int i = engines.FindIndex(e => e.Key == key);
        if (i >= 0)
        {
            var hit = engines[i];
            engines.RemoveAt(i);
            engines.Add(hit);
            return hit;
        }
        for (int j = 0; j < engines.Count && engines.Count >= Math.Max(1, capacity);)
        {
            var candidate = engines[j];
            if (inUse(candidate.Key)) { j++; continue; }
            candidate.Engine.Dispose();
            engines.RemoveAt(j);
        }
        logger.LogInformation("Loading engine (model {Model}, {Classes} classes, image size {Size})",
            settings.Model ?? settings.Weights, settings.ClassNames.Count, settings.ImageSize);
        RegionEngine engine;
        lock (LoadLock) engine = RegionEngine.Load(settings);
        engines.Add((key, engine));
        return (key, engine);
    }

    public void Dispose()
    {
        foreach (var (_, engine) in engines) engine.Dispose();
        engines.Clear();
    }
}
