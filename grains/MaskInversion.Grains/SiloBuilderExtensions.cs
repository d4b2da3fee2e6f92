using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Orleans.Configuration;

namespace MaskInversion.Grains;

public static class SiloBuilderExtensions
{
    /// <summary>
    /// Registers the executor and the job metrics, and decides, by role, which grain classes this silo can host.
    /// Placement then only ever picks compatible silos (Orleans' cluster manifest), so image and mask grains land
    /// on compute silos even when the call comes from a gateway-only silo or an external client — unlike
    /// RequiredMatchSiloMetadataPlacementFilter, which compares with the placing silo's own metadata.
    /// Requires the storage providers in <see cref="StorageNames"/> and a reminder service (coordinators hold a resume
    /// reminder); <see cref="RecoveryOptions"/> and <see cref="PathOptions"/> come from the host's configuration.
    /// </summary>
    public static ISiloBuilder AddMaskInversion(this ISiloBuilder builder, ComputeOptions options)
    {
        builder.Services.AddSingleton(Options.Create(options));
        builder.Services.AddSingleton<ComputeExecutor>();
        // PathOptions come from the host's configuration ("Paths"); unconfigured, the development defaults apply.
        builder.Services.AddOptions<PathOptions>();
        builder.Services.AddSingleton<JobPaths>();
        builder.Services.AddSingleton<JobMetricRegistry>();
        builder.Services.AddSingleton<JobActivity>();
        // Compute silos report their executor's load (queue, cache) for the dashboard and read it for /metrics.
        builder.Services.AddSingleton<SiloLoadReporter>();
        if (options.Compute) builder.Services.AddHostedService(sp => sp.GetRequiredService<SiloLoadReporter>());
        // A host may have registered its own (bench coordinator's canned outcomes) before this call.
        builder.Services.TryAddSingleton<IImageProcessor, ImageGrainProcessor>();
        builder.AddJobMetric<RetrievalJobMetric>().AddJobMetric<DiceLossJobMetric>().AddJobMetric<ReferringJobMetric>();
        // A resume period under Orleans' one-minute reminder floor (the process tests use seconds) lowers the floor
        // instead of failing the registration.
        builder.Services.AddOptions<ReminderOptions>().Configure<IOptions<RecoveryOptions>>((reminders, recovery) =>
        {
            if (recovery.Value.ResumeReminderPeriod < reminders.MinimumReminderPeriod) reminders.MinimumReminderPeriod = recovery.Value.ResumeReminderPeriod;
        });
        builder.Services.PostConfigure<GrainTypeOptions>(types =>
        {
            if (!options.Compute)
            {
                types.Classes.Remove(typeof(ImageGrain));
                types.Classes.Remove(typeof(ReferringImageGrain));
                types.Classes.Remove(typeof(MaskGrain));
                types.Classes.Remove(typeof(OverlayGrain));
            }
            if (!options.Coordinator)
            {
                types.Classes.Remove(typeof(JobCoordinatorGrain));
                types.Classes.Remove(typeof(JobShardGrain));
                types.Classes.Remove(typeof(JobRegistryGrain));
                types.Classes.Remove(typeof(SiloLoadGrain));
            }
        });
        return builder;
    }

    /// <summary>Adds a metric every job's coordinator merges (see <see cref="IJobMetric"/>); same set on every coordinator silo.</summary>
    public static ISiloBuilder AddJobMetric<T>(this ISiloBuilder builder) where T : class, IJobMetric
    {
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IJobMetric, T>());
        return builder;
    }
}
