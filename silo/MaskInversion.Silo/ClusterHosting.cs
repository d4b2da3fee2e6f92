using System.Net;
using System.Net.Sockets;
using MaskInversion.Grains;
using Orleans.Configuration;
using StackExchange.Redis;

namespace MaskInversion.Silo;

/// <summary>Membership, endpoints, grain storage and reminders of a silo, from <see cref="ClusterSettings"/>.</summary>
public static class ClusterHosting
{
    public static ISiloBuilder UseCluster(this ISiloBuilder silo, ClusterSettings cluster)
    {
        silo.Configure<ClusterOptions>(o => { o.ClusterId = cluster.ClusterId; o.ServiceId = cluster.ServiceId; });
        // Orleans' default directory forgets the entries a crashed silo owned, so a grain living elsewhere (a job's
        // coordinator, the development state grains on the primary) can get a second, empty activation after the
        // crash. The distributed directory recovers those entries from the surviving silos.
        silo.AddDistributedGrainDirectory();
        if (cluster.RedisConnection is { Length: > 0 } redis) UseRedis(silo, cluster, redis);
        else if (cluster.Kubernetes) throw new InvalidOperationException("Cluster:Kubernetes needs Cluster:RedisConnection (membership and storage).");
        else UseLocalhost(silo, cluster);
        return silo;
    }

    /// <summary>Production: any silo can die and the whole cluster can restart; jobs resume by their reminders.</summary>
    static void UseRedis(ISiloBuilder silo, ClusterSettings cluster, string redis)
    {
        ConfigurationOptions Redis() => ConfigurationOptions.Parse(redis);
        silo.UseRedisClustering(o => o.ConfigurationOptions = Redis());
        silo.AddRedisGrainStorage(StorageNames.Jobs, o => o.ConfigurationOptions = Redis());
        silo.AddRedisGrainStorage(StorageNames.Masks, o =>
        {
            o.ConfigurationOptions = Redis();
            o.EntryExpiry = cluster.MaskRecordTtl;
        });
        silo.UseRedisReminderService(o => o.ConfigurationOptions = Redis());
        if (cluster.Kubernetes)
        {
            // Addresses come from the pod (POD_IP); the ports are ours.
            silo.Configure<EndpointOptions>(o => { o.SiloPort = cluster.SiloPort; o.GatewayPort = cluster.GatewayPort; });
            silo.UseKubernetesHosting();
            return;
        }
        var advertised = ResolveAddress(cluster.AdvertisedAddress, nameof(ClusterSettings.AdvertisedAddress));
        var listen = cluster.ListenAddress is { Length: > 0 } l ? ResolveAddress(l, nameof(ClusterSettings.ListenAddress)) : advertised;
        silo.Configure<EndpointOptions>(o =>
        {
            o.AdvertisedIPAddress = advertised;
            o.SiloPort = cluster.SiloPort;
            o.GatewayPort = cluster.GatewayPort;
            o.SiloListeningEndpoint = new IPEndPoint(listen, cluster.SiloPort);
            o.GatewayListeningEndpoint = new IPEndPoint(listen, cluster.GatewayPort);
        });
    }

    /// <summary>Development: one machine, the primary silo holds membership and (see PrimaryHeldState) the in-memory
    /// job state and reminders, so losing any other silo loses nothing.</summary>
    static void UseLocalhost(ISiloBuilder silo, ClusterSettings cluster)
    {
        silo.UseLocalhostClustering(cluster.SiloPort, cluster.GatewayPort, new IPEndPoint(IPAddress.Loopback, cluster.PrimarySiloPort),
            cluster.ServiceId, cluster.ClusterId);
        silo.AddMemoryGrainStorage(StorageNames.Jobs);
        silo.AddExpiringMemoryGrainStorage(StorageNames.Masks, cluster.MaskRecordTtl);
        silo.UseInMemoryReminderService();
        PrimaryHeldState.Apply(silo, isPrimary: cluster.SiloPort == cluster.PrimarySiloPort);
    }

    /// <summary>An IP literal, "auto" (this machine's host name) or a DNS name; IPv4 preferred.</summary>
    public static IPAddress ResolveAddress(string value, string setting)
    {
        if (IPAddress.TryParse(value, out var ip)) return ip;
        var name = value.Equals("auto", StringComparison.OrdinalIgnoreCase) ? Dns.GetHostName() : value;
        IPAddress[] addresses;
        try
        {
            addresses = Dns.GetHostAddresses(name);
        }
        catch (SocketException ex)
        {
            throw new InvalidOperationException($"Cluster:{setting} '{value}': host name '{name}' does not resolve ({ex.Message}).", ex);
        }
        return addresses.Where(a => !IPAddress.IsLoopback(a)).OrderBy(a => a.AddressFamily == AddressFamily.InterNetwork ? 0 : 1).FirstOrDefault()
            ?? addresses.FirstOrDefault()
            ?? throw new InvalidOperationException($"Cluster:{setting} '{value}': host name '{name}' has no address.");
    }
}
