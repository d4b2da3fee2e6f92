namespace MaskInversion.Grains;

[GenerateSerializer]
public sealed class JobRegistryState
{
    [Id(0)] public Dictionary<string, JobListEntry> Jobs { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>The list of jobs. Lives on coordinator silos (see SiloBuilderExtensions) and in the jobs store, so it
/// survives the loss of any compute silo. Writes only when an entry changes.</summary>
public sealed class JobRegistryGrain(
    [PersistentState("registry", StorageNames.Jobs)] IPersistentState<JobRegistryState> state) : Grain, IJobRegistryGrain
{
    public async Task UpsertAsync(JobListEntry entry)
    {
        if (state.State.Jobs.TryGetValue(entry.JobId, out var known))
        {
            entry = entry with { SubmittedAt = known.SubmittedAt };
            if (known == entry) return;
        }
        state.State.Jobs[entry.JobId] = entry;
        await state.WriteRecoveringAsync();
    }

    public Task<JobListEntry[]> ListAsync() =>
        Task.FromResult(state.State.Jobs.Values.OrderByDescending(j => j.SubmittedAt).ThenBy(j => j.JobId, StringComparer.Ordinal).ToArray());

    public Task<JobListEntry?> GetAsync(string jobId) => Task.FromResult(state.State.Jobs.GetValueOrDefault(jobId));
}
