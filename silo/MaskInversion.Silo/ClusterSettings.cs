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
    /// <summary>When set, membership and grain storage use Redis (StackExchange.Redis connection string),
    /// which survives the loss of any silo. Unset: localhost clustering and in-memory storage (development).</summary>
    public string? RedisConnection { get; set; }
    /// <summary>Serve the Orleans dashboard at /dashboard on the host's HTTP endpoint (ASPNETCORE_URLS / Urls).</summary>
    public bool Dashboard { get; set; } = true;
}
