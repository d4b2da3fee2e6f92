using Orleans.Storage;

namespace MaskInversion.Grains;

/// <summary>Grain storage provider names the silo must register (memory in tests, Redis/AdoNet in production).</summary>
public static class StorageNames
{
    public const string Jobs = "jobs";
    public const string Masks = "masks";
}

static class PersistentStateExtensions
{
    /// <summary>
    /// Writes the state; when the store has lost our record (e.g. an in-memory storage grain died with its silo, so the
    /// ETag no longer matches) re-reads to adopt the store's ETag and writes our copy again. Only the single live owner
    /// of a key calls this, so overwriting is what we want.
    /// </summary>
    public static async Task WriteRecoveringAsync<T>(this IPersistentState<T> state)
    {
        try
        {
            await state.WriteStateAsync();
        }
        catch (InconsistentStateException)
        {
            var mine = state.State;
            await state.ReadStateAsync();
            state.State = mine;
            await state.WriteStateAsync();
        }
    }
}
