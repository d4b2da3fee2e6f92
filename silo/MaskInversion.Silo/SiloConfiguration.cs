using MaskInversion.Grains;
using Orleans.Configuration;

namespace MaskInversion.Silo;

/// <summary>
/// Every configuration section the silo binds and the class it binds to. The silo binds through this map with
/// unknown keys refused (a misspelt Cluster__RedisConection stops the silo instead of being ignored), and a test
/// checks every key the deploy files (compose, Kubernetes) set against it.
/// </summary>
public static class SiloConfiguration
{
    /// <summary>Orleans' failure detection (ClusterMembershipOptions: ProbeTimeout, NumMissedProbesLimit, …).</summary>
    public const string MembershipSection = "Membership";

    public static readonly IReadOnlyDictionary<string, Type> Sections = new Dictionary<string, Type>(StringComparer.OrdinalIgnoreCase)
    {
        [ClusterSettings.Section] = typeof(ClusterSettings),
        [ComputeOptions.Section] = typeof(ComputeOptions),
        [RecoveryOptions.Section] = typeof(RecoveryOptions),
        [WebSettings.Section] = typeof(WebSettings),
        [PathOptions.Section] = typeof(PathOptions),
        [MembershipSection] = typeof(ClusterMembershipOptions),
    };

    /// <summary>Top-level keys that the framework reads (ASP.NET Core, logging), not options classes of ours.</summary>
    public static readonly IReadOnlyList<string> FrameworkKeys = ["Logging", "Urls", "Kestrel", "AllowedHosts"];

    static readonly Action<BinderOptions> Strict = o => o.ErrorOnUnknownConfiguration = true;

    public static T Get<T>(IConfiguration config) where T : class, new() =>
        config.GetSection(SectionOf<T>()).Get<T>(Strict) ?? new T();

    /// <summary>Registers IOptions&lt;T&gt; bound to T's section, unknown keys refused.</summary>
    public static void Configure<T>(IServiceCollection services, IConfiguration config) where T : class =>
        services.Configure<T>(config.GetSection(SectionOf<T>()), Strict);

    static string SectionOf<T>() => Sections.Single(s => s.Value == typeof(T)).Key;
}
