namespace MaskInversion.Core.Metrics;

/// <summary>
/// Outcomes keyed by (image id, item id), the basis of idempotent accumulation: a retried mask grain or a
/// partial result merged twice lands on the same key and is not counted again. On a conflicting repeat
/// (same key, different outcome) the first value stays, so results never depend on retries that race.
/// </summary>
internal sealed class KeyedOutcomes<T> where T : notnull
{
    readonly Dictionary<string, Dictionary<string, T>> byImage = new(StringComparer.Ordinal);

    public long Count { get; private set; }
    public int ImageCount => byImage.Count;
    public int Conflicts { get; private set; }

    /// <summary>True when the key was new (the caller then counts it).</summary>
    public bool TryAdd(string imageId, string itemId, T outcome)
    {
        if (!byImage.TryGetValue(imageId, out var items)) byImage[imageId] = items = new Dictionary<string, T>(StringComparer.Ordinal);
        if (items.TryGetValue(itemId, out var existing))
        {
            if (!EqualityComparer<T>.Default.Equals(existing, outcome)) Conflicts++;
            return false;
        }
        items.Add(itemId, outcome);
        Count++;
        return true;
    }

    public IEnumerable<(string ImageId, IEnumerable<T> Items)> Images() =>
        byImage.Select(kv => (kv.Key, (IEnumerable<T>)kv.Value.Values));

    public IEnumerable<T> All() => byImage.Values.SelectMany(v => v.Values);
}
