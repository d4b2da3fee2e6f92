using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;

namespace MaskInversion.Process.Tests;

/// <summary>An Orleans client in the test process: where grains are activated (Orleans' management grain), and many
/// progress queries without a client process each.</summary>
sealed class OrleansAdmin : IAsyncDisposable
{
    readonly IHost host;
    IManagementGrain Management => host.Services.GetRequiredService<IClusterClient>().GetGrain<IManagementGrain>(0);

    OrleansAdmin(IHost host) => this.host = host;

    public static async Task<OrleansAdmin> ConnectLocalhostAsync(int gatewayPort, string clusterId)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.UseOrleansClient(c =>
        {
            c.UseLocalhostClustering(gatewayPort, clusterId, clusterId);
            c.Configure<ClusterOptions>(o => { o.ClusterId = clusterId; o.ServiceId = clusterId; });
        });
        var host = builder.Build();
        await host.StartAsync();
        return new OrleansAdmin(host);
    }

    /// <summary>Silo port of every activation whose grain class name contains <paramref name="className"/>.</summary>
    public async Task<IReadOnlyList<int>> SiloPortsOfAsync(string className) =>
        (await Management.GetDetailedGrainStatistics())
            .Where(s => s.GrainType.Contains(className, StringComparison.Ordinal))
            .Select(s => s.SiloAddress.Endpoint.Port).ToList();

    public IGrainFactory Grains => host.Services.GetRequiredService<IClusterClient>();

    public async ValueTask DisposeAsync()
    {
        await host.StopAsync();
        host.Dispose();
    }
}
