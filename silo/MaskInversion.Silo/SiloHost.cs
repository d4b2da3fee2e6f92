using MaskInversion.Grains;
using MaskInversion.Silo.Web;
using Orleans.Configuration;
using Orleans.Dashboard;

namespace MaskInversion.Silo;

/// <summary>The silo's Generic Host: Orleans, the executor, and the HTTP endpoints (job pages, their event stream,
/// /metrics, the Orleans dashboard), all behind <see cref="WebAccess"/>. Program.cs runs it; the browser tests host
/// the same thing in-process.</summary>
public static class SiloHost
{
    /// <summary>The configured, not yet started host. Configuration: appsettings.json beside the executable, then
    /// environment variables, then <paramref name="args"/>.</summary>
    /// <exception cref="InvalidOperationException">A refused configuration (the message says which setting and why).</exception>
    public static WebApplication Build(string[] args)
    {
        // Content root = the executable's folder, so appsettings.json (log levels, the localhost URL) applies from any cwd.
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        var cluster = SiloConfiguration.Get<ClusterSettings>(builder.Configuration);
        var compute = SiloConfiguration.Get<ComputeOptions>(builder.Configuration);
        var web = SiloConfiguration.Get<WebSettings>(builder.Configuration);
        SiloConfiguration.Get<RecoveryOptions>(builder.Configuration);
        SiloConfiguration.Get<ClusterMembershipOptions>(builder.Configuration);
        // Production (Redis) silos serve any client on the network: they confine jobs to configured folders only.
        var paths = SiloConfiguration.Get<PathOptions>(builder.Configuration);
        if (cluster.RedisConnection is not null && paths.ProductionProblem() is { } pathProblem) throw new InvalidOperationException(pathProblem);
        // Refuse to start rather than serve the dashboard (and its log stream) to the network without a token.
        WebAccess.Validate(WebAccess.ConfiguredUrls(builder.Configuration), web);

        // Process-wide and meant to be set once, before any tensor work.
        MaskInversion.Core.Runtime.OpenMpSettings.PreferPassiveWaits();
        if (compute.TorchThreads > 0) TorchSharp.torch.set_num_threads(compute.TorchThreads);

        builder.Services.AddSingleton(web);
        SiloConfiguration.Configure<RecoveryOptions>(builder.Services, builder.Configuration);
        SiloConfiguration.Configure<ClusterMembershipOptions>(builder.Services, builder.Configuration);
        SiloConfiguration.Configure<PathOptions>(builder.Services, builder.Configuration);
        builder.UseOrleans(silo =>
        {
            silo.UseCluster(cluster);
            silo.AddMaskInversion(compute);
            if (cluster.Dashboard) silo.AddDashboard();
        });

        var app = builder.Build();
        app.UseWebAccess(web);
        if (cluster.Dashboard) app.MapOrleansDashboard("/dashboard");
        app.MapJobPages(cluster.Dashboard);
        app.MapJobEvents();
        app.MapMetricsEndpoint();
        app.MapGet("/", () => Results.Text(
            $"MaskInversion silo (compute: {compute.Compute}, coordinator: {compute.Coordinator}, device: {compute.Device}). " +
            "Jobs: /jobs; Prometheus: /metrics" + (cluster.Dashboard ? "; Orleans dashboard: /dashboard" : "")));
        return app;
    }

    /// <summary>Starts the host and checks what Kestrel actually bound (ports from other sources included) against
    /// the same rule as the configuration; stops it and throws when that is refused.</summary>
    public static async Task StartAsync(WebApplication app)
    {
        await app.StartAsync();
        try
        {
            WebAccess.Validate(app.Urls, app.Services.GetRequiredService<WebSettings>());
        }
        catch (InvalidOperationException)
        {
            await app.StopAsync();
            throw;
        }
    }
}
