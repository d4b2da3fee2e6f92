using System.Net;
using MaskInversion.Grains;
using MaskInversion.Silo;
using Orleans.Configuration;
using Orleans.Dashboard;
using StackExchange.Redis;

// A MaskInversion silo. Configuration: appsettings.json, then environment variables (Cluster__*, MaskInversion__*),
// then command-line arguments (--Cluster:SiloPort=11112). See deploy/ARCHITECTURE.md.
var builder = WebApplication.CreateBuilder(args);
var cluster = builder.Configuration.GetSection(ClusterSettings.Section).Get<ClusterSettings>() ?? new ClusterSettings();
var compute = builder.Configuration.GetSection(ComputeOptions.Section).Get<ComputeOptions>() ?? new ComputeOptions();

// Process-wide and meant to be set once, before any tensor work.
MaskInversion.Core.Runtime.OpenMpSettings.PreferPassiveWaits();
if (compute.TorchThreads > 0) TorchSharp.torch.set_num_threads(compute.TorchThreads);

builder.UseOrleans(silo =>
{
    silo.Configure<ClusterOptions>(o => { o.ClusterId = cluster.ClusterId; o.ServiceId = cluster.ServiceId; });
    if (cluster.RedisConnection is { Length: > 0 } redis)
    {
        silo.UseRedisClustering(o => o.ConfigurationOptions = ConfigurationOptions.Parse(redis));
        silo.ConfigureEndpoints(cluster.SiloPort, cluster.GatewayPort);
        foreach (var name in new[] { StorageNames.Jobs, StorageNames.Masks })
            silo.AddRedisGrainStorage(name, o => o.ConfigurationOptions = ConfigurationOptions.Parse(redis));
    }
    else
    {
        // Development: the primary silo holds membership (killing it stops the cluster) and storage is in memory.
        silo.UseLocalhostClustering(cluster.SiloPort, cluster.GatewayPort, new IPEndPoint(IPAddress.Loopback, cluster.PrimarySiloPort),
            cluster.ServiceId, cluster.ClusterId);
        silo.AddMemoryGrainStorage(StorageNames.Jobs);
        silo.AddMemoryGrainStorage(StorageNames.Masks);
    }
    silo.AddMaskInversion(compute);
    if (cluster.Dashboard) silo.AddDashboard();
});

var app = builder.Build();
if (cluster.Dashboard) app.MapOrleansDashboard("/dashboard");
app.MapGet("/", () => Results.Text(
    $"MaskInversion silo (compute: {compute.Compute}, coordinator: {compute.Coordinator}, device: {compute.Device}). Dashboard: /dashboard"));
app.Run();
