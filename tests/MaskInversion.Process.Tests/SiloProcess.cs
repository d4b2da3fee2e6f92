using System.Text.RegularExpressions;

namespace MaskInversion.Process.Tests;

/// <summary>Control: gateway and coordinators, no tensors. Compute: image and mask grains, no coordinators.
/// Both: everything (a development silo started with defaults).</summary>
enum SiloRole { Control, Compute, Both }

/// <summary>What a silo process is started with; a restart reuses it (same ports, same address).</summary>
sealed record SiloSpec(string Name, SiloRole Role, string ClusterId, string? Redis, int SiloPort, int GatewayPort, int HttpPort)
{
    /// <summary>Redis mode: the address the silo advertises and listens on.</summary>
    public string Address { get; init; } = "127.0.0.1";
    /// <summary>Localhost clustering: the primary's silo port.</summary>
    public int? PrimarySiloPort { get; init; }
    public string? Netns { get; init; }
    public IReadOnlyList<string> Extra { get; init; } = [];

    /// <summary>Where every process test keeps its data and job folders.</summary>
    public static string TestsFolder { get; } = Path.Combine(Path.GetTempPath(), "mi-process-tests");

    public IEnumerable<string> Arguments()
    {
        yield return $"--Cluster:ClusterId={ClusterId}";
        yield return $"--Cluster:ServiceId={ClusterId}";
        yield return $"--Cluster:SiloPort={SiloPort}";
        yield return $"--Cluster:GatewayPort={GatewayPort}";
        if (Redis is not null)
        {
            yield return $"--Cluster:RedisConnection={Redis}";
            yield return $"--Cluster:AdvertisedAddress={Address}";
            // A silo on Redis needs its allowed folders: the tests' scenes and job folders are all under this one.
            yield return $"--Paths:DatasetRoots:0={TestsFolder}";
            yield return $"--Paths:OutputRoots:0={TestsFolder}";
        }
        else yield return $"--Cluster:PrimarySiloPort={PrimarySiloPort ?? SiloPort}";
        yield return $"--Urls=http://127.0.0.1:{HttpPort}";
        yield return $"--MaskInversion:Compute={Role != SiloRole.Control}";
        yield return $"--MaskInversion:Coordinator={Role != SiloRole.Compute}";
        // One libtorch thread per silo: three silos share two cores, and every run computes alike.
        yield return "--MaskInversion:TorchThreads=1";
        // Seconds, not the production minute: the tests wait for the resume reminder.
        yield return "--Recovery:ResumeReminderPeriod=00:00:03";
        // A dead silo is declared dead after 3 missed 2 s probes (production: 5 s).
        yield return "--Membership:ProbeTimeout=00:00:02";
        yield return "--Logging:Console:FormatterName=simple";
        yield return "--Logging:Console:FormatterOptions:SingleLine=true";
        yield return "--Logging:Console:FormatterOptions:TimestampFormat=HH:mm:ss.fff ";
        foreach (var e in Extra) yield return e;
    }
}

/// <summary>One real silo process (the built silo.dll under `dotnet`).</summary>
sealed class SiloProcess : IDisposable
{
    static readonly Regex Started = new("Application started");
    readonly string folder;

    public SiloSpec Spec { get; private set; }
    public ManagedProcess Process { get; private set; }
    public string Name => Spec.Name;

    SiloProcess(SiloSpec spec, string folder, ManagedProcess process) { Spec = spec; this.folder = folder; Process = process; }

    /// <summary>Starts the process; <see cref="WaitStartedAsync"/> waits until it has joined the cluster.</summary>
    public static SiloProcess Start(SiloSpec spec, string folder) => new(spec, folder, Launch(spec, folder));

    static ManagedProcess Launch(SiloSpec spec, string folder) =>
        ManagedProcess.Start(spec.Name, "dotnet", [BuildOutputs.SiloDll, .. spec.Arguments()], Path.Combine(folder, spec.Name + ".log"), netns: spec.Netns);

    public Task<DateTime> WaitStartedAsync() => Process.WaitForLineAsync(Started, TimeSpan.FromSeconds(90));

    /// <summary>A new process for the same silo (same ports), after the old one is gone.</summary>
    public void Restart(SiloSpec? spec = null)
    {
        if (!Process.HasExited) throw new InvalidOperationException($"{Name} is still running (pid {Process.Pid}).");
        Process.Dispose();
        Spec = spec ?? Spec;
        Process = Launch(Spec, folder);
    }

    public void Dispose() => Process.Dispose();
}
