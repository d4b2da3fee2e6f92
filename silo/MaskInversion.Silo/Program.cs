using MaskInversion.Grains;
using MaskInversion.Silo;
using Orleans.Configuration;
using Orleans.Dashboard;

// A MaskInversion silo. Configuration: appsettings.json (beside the executable), then environment variables
// (Cluster__*, MaskInversion__*, Recovery__*, Web__*, Paths__*, Membership__*), then command-line arguments
// (--Cluster:SiloPort=11112). See deploy/ARCHITECTURE.md and SiloConfiguration for the sections.
// Content root = the executable's folder, so appsettings.json (log levels, the localhost URL) applies from any cwd.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
ClusterSettings cluster;
ComputeOptions compute;
WebSettings web;
try
{
    cluster = SiloConfiguration.Get<ClusterSettings>(builder.Configuration);
    compute = SiloConfiguration.Get<ComputeOptions>(builder.Configuration);
    web = SiloConfiguration.Get<WebSettings>(builder.Configuration);
    SiloConfiguration.Get<RecoveryOptions>(builder.Configuration);
    SiloConfiguration.Get<ClusterMembershipOptions>(builder.Configuration);
    // Production (Redis) silos serve any client on the network: they confine jobs to configured folders only.
    var paths = SiloConfiguration.Get<PathOptions>(builder.Configuration);
    if (cluster.RedisConnection is not null && paths.ProductionProblem() is { } pathProblem) throw new InvalidOperationException(pathProblem);
    // Refuse to start rather than serve the dashboard (and its log stream) to the network without a token.
    WebAccess.Validate(WebAccess.ConfiguredUrls(builder.Configuration), web);
}
catch (InvalidOperationException ex)
{
    Console.Error.WriteLine($"silo: configuration refused: {ex.Message}");
    return 2;
}

// Process-wide and meant to be set once, before any tensor work.
MaskInversion.Core.Runtime.OpenMpSettings.PreferPassiveWaits();
if (compute.TorchThreads > 0) TorchSharp.torch.set_num_threads(compute.TorchThreads);

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
app.MapGet("/", () => Results.Text(
    $"MaskInversion silo (compute: {compute.Compute}, coordinator: {compute.Coordinator}, device: {compute.Device}). Dashboard: /dashboard"));

await app.StartAsync();
try
{
    // What Kestrel actually bound (ports from other sources included) must pass the same rule.
    WebAccess.Validate(app.Urls, web);
}
catch (InvalidOperationException ex)
{
    app.Logger.LogCritical("{Refusal}", ex.Message);
    await app.StopAsync();
    return 2;
}
await app.WaitForShutdownAsync();
return 0;
