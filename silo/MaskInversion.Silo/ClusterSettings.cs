namespace MaskInversion.Silo;

/// <summary>Config section "Cluster" (env: Cluster__RedisConnection=…, Cluster__SiloPort=…).</summary>
public sealed class ClusterSettings
{
    public const string Section = "Cluster";

    public string ClusterId { get; set; } = "maskinversion";
    public string ServiceId { get; set; } = "maskinversion";
    public int SiloPort { get; set; } = 11111;
    public int GatewayPort { get; set; } = 30000;
    /// <summary>Localhost clustering: the primary silo's port (this silo is primary when it equals SiloPort).</summary>
    public int PrimarySiloPort { get; set; } = 11111;
    /// <summary>When set, membership, grain storage and reminders use Redis (StackExchange.Redis connection string,
    /// e.g. "redis:6379,password=…"), which survives the loss of any silo and restarts of the whole cluster. Unset:
    /// localhost clustering with state held in memory on the primary silo (development).</summary>
    public string? RedisConnection { get; set; }
    /// <summary>Redis mode: the address other silos and clients reach this silo at. An IP, a DNS name, or "auto"
    /// (the address this machine's host name resolves to: a container's own address). The loopback default keeps a
    /// silo off the network until it is configured onto one. Ignored with localhost clustering and under Kubernetes
    /// (the pod's IP).</summary>
    public string AdvertisedAddress { get; set; } = "127.0.0.1";
    /// <summary>Redis mode: the address the silo and gateway ports listen on; unset = the advertised address.
    /// "0.0.0.0" listens on every interface (behind NAT, where the advertised address is not local).</summary>
    public string? ListenAddress { get; set; }
    /// <summary>Kubernetes hosting (Microsoft.Orleans.Hosting.Kubernetes): silo name and address from the pod
    /// (POD_NAME, POD_IP, POD_NAMESPACE), listening on the pod's interfaces, and pods of dead silos deleted.
    /// Needs RedisConnection for membership and storage.</summary>
    public bool Kubernetes { get; set; }
    /// <summary>Lifetime of a mask record (its top-10s, Dice, embedding), in Redis (key expiry) and in development
    /// mode's memory storage (ExpiringGrainStorage). A record only saves recomputing a mask whose image is re-dispatched
    /// before the coordinator's next checkpoint commits it; after that nothing reads it, so it expires instead of
    /// staying in Redis or in the primary silo's memory forever. An expired record costs at most a recomputation
    /// (same result, counted once). Null keeps records forever.</summary>
    public TimeSpan? MaskRecordTtl { get; set; } = TimeSpan.FromHours(1);
    /// <summary>Serve the Orleans dashboard at /dashboard on the host's HTTP endpoint (ASPNETCORE_URLS / Urls).</summary>
    public bool Dashboard { get; set; } = true;
}
