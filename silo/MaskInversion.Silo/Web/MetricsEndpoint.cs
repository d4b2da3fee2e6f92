using MaskInversion.Grains;
using Prometheus;

namespace MaskInversion.Silo.Web;

/// <summary>
/// <c>GET /metrics</c> in Prometheus' text format (prometheus-net). Per silo: what the job coordinators here settled
/// (masks, failures, retries: sum over silos for the cluster) and this silo's executor (queue depth, prepared-image
/// cache bytes, masks evaluated and masks/s). Values are read from <see cref="JobActivity"/>, the
/// <see cref="ComputeExecutor"/> and (masks/s) <see cref="SiloLoadReporter"/> at scrape time. Behind WebAccess like every endpoint: beyond loopback a scraper
/// sends <c>Authorization: Bearer &lt;token&gt;</c> (Prometheus' <c>authorization</c> setting).
/// </summary>
public static class MetricsEndpoint
{
    public static IEndpointRouteBuilder MapMetricsEndpoint(this IEndpointRouteBuilder app)
    {
        var activity = app.ServiceProvider.GetRequiredService<JobActivity>();
        var executor = app.ServiceProvider.GetRequiredService<ComputeExecutor>();
        var load = app.ServiceProvider.GetRequiredService<SiloLoadReporter>();
        // A registry of our own: only these series, not every Orleans meter of the process.
        var registry = Metrics.NewCustomRegistry();
        var metrics = Metrics.WithCustomRegistry(registry);
        var processed = metrics.CreateCounter("maskinversion_masks_processed_total", "Masks settled without error by the job coordinators on this silo.");
        var failed = metrics.CreateCounter("maskinversion_masks_failed_total", "Masks settled with an error (unreadable image or mask, ...) by the coordinators on this silo.");
        var imagesFailed = metrics.CreateCounter("maskinversion_images_failed_total", "Images that failed as a whole, settled by the coordinators on this silo.");
        var retries = metrics.CreateCounter("maskinversion_image_retries_total", "Image dispatches sent again (silo lost, timeout) by the coordinators on this silo.");
        var evaluated = metrics.CreateCounter("maskinversion_executor_masks_evaluated_total", "Masks this silo's executor evaluated.");
        var rate = metrics.CreateGauge("maskinversion_executor_masks_per_second", "Masks per second this silo's executor evaluated over the last ~10 s.");
        var queue = metrics.CreateGauge("maskinversion_executor_queue_depth", "Requests waiting for this silo's executor thread, plus images waiting for cache room.");
        var cache = metrics.CreateGauge("maskinversion_executor_cache_bytes", "Tensor memory held by prepared images on this silo.");
        var budget = metrics.CreateGauge("maskinversion_executor_cache_budget_bytes", "This silo's budget for prepared images (MaskInversion:CacheBudgetBytes).");
        registry.AddBeforeCollectCallback(() =>
        {
            processed.IncTo(activity.MasksProcessed);
            failed.IncTo(activity.MasksFailed);
            imagesFailed.IncTo(activity.ImagesFailed);
            retries.IncTo(activity.Retries);
            // Counts and levels as of the scrape; the rate is the reporter's (a window of its periodic readings).
            evaluated.IncTo(executor.MasksEvaluated);
            queue.Set(executor.QueueDepth);
            cache.Set(executor.CachedBytes);
            budget.Set(executor.CacheBudgetBytes);
            rate.Set(load.Current.MasksPerSecond);
        });
        app.MapMetrics("/metrics", registry);
        return app;
    }
}
