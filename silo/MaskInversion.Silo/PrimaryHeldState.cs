using Orleans.Configuration;

namespace MaskInversion.Silo;

/// <summary>
/// Development clustering keeps grain state in memory, inside Orleans' storage grains (MemoryStorageGrain), which
/// Orleans places on any silo: killing a compute silo used to take the job records living there with it (earlier jobs
/// then read as NotStarted with 0 masks). Here only the primary silo may host those grains. The primary already holds
/// the membership table (its loss ends a localhost cluster anyway), so this adds no new single point of failure and
/// every other silo can die without losing state. Chosen over a file-backed store: no on-disk format, no
/// cross-process locking, and durability across restarts is what Redis mode is for.
/// The in-memory reminder table cannot be pinned the same way (every silo resolves its grain while starting, before
/// it knows the primary's grain classes), so in development a running job whose coordinator and reminder table were
/// both lost resumes on its next call (status/watch) instead of by itself.
/// </summary>
public static class PrimaryHeldState
{
    /// <summary>Orleans' internal grain class behind AddMemoryGrainStorage.</summary>
    public static readonly string[] StateGrainClasses = ["Orleans.Storage.MemoryStorageGrain"];

    public static void Apply(ISiloBuilder silo, bool isPrimary)
    {
        if (isPrimary) return;
        silo.Services.PostConfigure<GrainTypeOptions>(types =>
        {
            foreach (var name in StateGrainClasses)
            {
                // A renamed class after an Orleans upgrade must not silently spread state over every silo again.
                var type = types.Classes.FirstOrDefault(t => t.FullName == name)
                    ?? throw new InvalidOperationException($"Orleans grain class {name} not found: update PrimaryHeldState for this Orleans version.");
                types.Classes.Remove(type);
            }
        });
    }
}
