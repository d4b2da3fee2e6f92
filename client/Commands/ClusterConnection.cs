using System.CommandLine;
using System.Net;
using MaskInversion.Grains;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using StackExchange.Redis;

namespace MaskInversion.Client.Commands;

/// <summary>A connection to a cluster: an external Orleans client, or (embedded mode) a silo hosted in this process.</summary>
public sealed class ClusterConnection : IAsyncDisposable
{
    readonly IHost host;
    public IGrainFactory Grains { get; }

    ClusterConnection(IHost host, IGrainFactory grains) { this.host = host; Grains = grains; }

    public static Option<int> GatewayOption { get; } = new("--gateway") { Description = "Gateway port of a localhost cluster.", DefaultValueFactory = _ => 30000 };
    public static Option<string?> RedisOption { get; } = new("--redis") { Description = "Redis connection string of the cluster's membership (instead of --gateway)." };
    public static Option<string> ClusterIdOption { get; } = new("--cluster-id") { Description = "ClusterId/ServiceId of the cluster.", DefaultValueFactory = _ => "maskinversion" };

    public static void AddOptions(Command command)
    {
        command.Options.Add(GatewayOption);
        command.Options.Add(RedisOption);
        command.Options.Add(ClusterIdOption);
    }

    public static async Task<ClusterConnection> ConnectAsync(ParseResult r, CancellationToken ct)
    {
        var redis = r.GetValue(RedisOption);
        var id = r.GetValue(ClusterIdOption)!;
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.UseOrleansClient(client =>
        {
            client.Configure<ClusterOptions>(o => { o.ClusterId = id; o.ServiceId = id; });
            if (redis is { Length: > 0 }) client.UseRedisClustering(o => o.ConfigurationOptions = ConfigurationOptions.Parse(redis));
            else client.UseLocalhostClustering(r.GetValue(GatewayOption), id, id);
        });
        var host = builder.Build();
        await host.StartAsync(ct);
        return new ClusterConnection(host, host.Services.GetRequiredService<IClusterClient>());
    }

    /// <summary>One silo in this process with both roles, localhost clustering on free ports and memory storage.</summary>
    public static async Task<ClusterConnection> StartEmbeddedAsync(ComputeOptions compute, CancellationToken ct)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning).AddFilter("Orleans", LogLevel.Error);
        int siloPort = FreePort(), gatewayPort = FreePort();
        builder.UseOrleans(silo =>
        {
            silo.UseLocalhostClustering(siloPort, gatewayPort, new IPEndPoint(IPAddress.Loopback, siloPort), "maskinversion-embedded", "maskinversion-embedded");
            silo.AddMemoryGrainStorage(StorageNames.Jobs);
            silo.AddMemoryGrainStorage(StorageNames.Masks);
            silo.UseInMemoryReminderService();
            silo.AddMaskInversion(compute);
        });
        var host = builder.Build();
        await host.StartAsync(ct);
        return new ClusterConnection(host, host.Services.GetRequiredService<IGrainFactory>());
    }

    public ComputeExecutor? EmbeddedExecutor => host.Services.GetService<ComputeExecutor>();

    static int FreePort()
    {
        using var socket = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        socket.Start();
        return ((IPEndPoint)socket.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        await host.StopAsync();
        host.Dispose();
    }
}
