using System.CommandLine;
using MaskInversion.Grains;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using StackExchange.Redis;

namespace MaskInversion.Client.Jobs;

/// <summary>A connection to a cluster: an external Orleans client, or (embedded mode, built by the CLI) a silo
/// hosted in this process.</summary>
public sealed class ClusterConnection(IHost host, IGrainFactory grains) : IAsyncDisposable
{
    public IGrainFactory Grains { get; } = grains;

    public const string StartSiloHint = "start a silo with: dotnet run --project silo/MaskInversion.Silo -c Release";

    public static Option<int> GatewayOption { get; } = new("--gateway") { Description = "Gateway port of a localhost cluster.", DefaultValueFactory = _ => 30000 };
    public static Option<string?> RedisOption { get; } = new("--redis") { Description = "Redis connection string of the cluster's membership (instead of --gateway)." };
    public static Option<string> ClusterIdOption { get; } = new("--cluster-id") { Description = "ClusterId/ServiceId of the cluster.", DefaultValueFactory = _ => "maskinversion" };
    public static Option<double> ConnectTimeoutOption { get; } = new("--connect-timeout")
    {
        Description = "Seconds to keep trying to reach a gateway before giving up (exit code 5).", DefaultValueFactory = _ => 10,
    };

    public static void AddOptions(Command command)
    {
        command.Options.Add(GatewayOption);
        command.Options.Add(RedisOption);
        command.Options.Add(ClusterIdOption);
        command.Options.Add(ConnectTimeoutOption);
    }

    /// <summary>Connects, retrying until --connect-timeout; then fails with one line naming where it looked
    /// (<see cref="CommandFailedException"/>, <see cref="ExitCodes.NoCluster"/>).</summary>
    public static async Task<ClusterConnection> ConnectAsync(ParseResult r, CancellationToken ct)
    {
        var redis = r.GetValue(RedisOption);
        var id = r.GetValue(ClusterIdOption)!;
        var port = r.GetValue(GatewayOption);
        var timeout = TimeSpan.FromSeconds(Math.Max(0, r.GetValue(ConnectTimeoutOption)));
        var deadline = DateTime.UtcNow + timeout;
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        // Orleans and the host log every refused connection attempt with its stack trace; the one line below says it all.
        builder.Logging.AddFilter("Orleans", LogLevel.Error);
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting", LogLevel.Critical);
        builder.UseOrleansClient(client =>
        {
            client.Configure<ClusterOptions>(o => { o.ClusterId = id; o.ServiceId = id; });
            if (redis is { Length: > 0 }) client.UseRedisClustering(o => o.ConfigurationOptions = ConfigurationOptions.Parse(redis));
            else client.UseLocalhostClustering(port, id, id);
            // A silo may be starting: keep trying, but only until the deadline.
            client.UseConnectionRetryFilter(async (_, token) =>
            {
                if (DateTime.UtcNow >= deadline) return false;
                await Task.Delay(500, token);
                return true;
            });
        });
        var host = builder.Build();
        using var connecting = CancellationTokenSource.CreateLinkedTokenSource(ct);
        connecting.CancelAfter(timeout + TimeSpan.FromSeconds(1));
        try
        {
            await host.StartAsync(connecting.Token);
        }
        catch (Exception ex) when (!ct.IsCancellationRequested)
        {
            host.Dispose();
            var where = redis is { Length: > 0 } ? $"registered in Redis '{redis}'" : $"at 127.0.0.1:{port}";
            throw new CommandFailedException(ExitCodes.NoCluster,
                $"no gateway {where} (cluster id '{id}') answered within {timeout.TotalSeconds:0.#} s ({Reason(ex)}); {StartSiloHint}");
        }
        return new ClusterConnection(host, host.Services.GetRequiredService<IClusterClient>());
    }

    static string Reason(Exception ex)
    {
        while (ex.InnerException is { } inner && ex is AggregateException or OrleansException) ex = inner;
        // Orleans appends its own retry plan ("…, will retry after 488ms"): this client's retries are over.
        var message = ex.Message.Split('\n')[0];
        int retry = message.IndexOf(", will retry", StringComparison.Ordinal);
        return ex is OperationCanceledException ? "timed out" : (retry > 0 ? message[..retry] : message).TrimEnd('.');
    }

    /// <summary>The job's coordinator.</summary>
    public IJobCoordinatorGrain Job(string jobId) => Grains.GetGrain<IJobCoordinatorGrain>(jobId);

    /// <summary>The cluster's job list.</summary>
    public IJobRegistryGrain JobList => Grains.GetGrain<IJobRegistryGrain>(IJobRegistryGrain.Key);

    public async ValueTask DisposeAsync()
    {
        await host.StopAsync();
        host.Dispose();
    }
}
