using System.Diagnostics;
using System.Text;

namespace MaskInversion.Process.Tests;

/// <summary>
/// Real silo processes (one control silo: gateway + coordinators; compute silos: image and mask grains) on a Redis
/// started for them, or on localhost clustering (development), plus the client CLI pointed at them. Logs of every
/// process stay in <see cref="Folder"/>; a failing test prints their tails.
/// </summary>
sealed class ProcessCluster : IDisposable
{
    public string Folder { get; }
    public string ClusterId { get; } = "pt-" + Guid.NewGuid().ToString("N")[..8];
    public RedisServer? Redis { get; }
    public List<SiloProcess> Silos { get; } = [];
    public ClientCli Client { get; }
    /// <summary>The job folders' parent.</summary>
    public string Outputs => Path.Combine(Folder, "jobs");

    ProcessCluster(string folder, RedisServer? redis, IReadOnlyList<string> clientConnection)
    {
        Folder = folder;
        Redis = redis;
        // A generous connect timeout: these clients often run right after silos (re)start on a loaded machine.
        Client = new ClientCli(folder, [.. clientConnection, "--cluster-id", ClusterId, "--connect-timeout", "60"]);
    }

    public static async Task<ProcessCluster> StartRedisAsync(string name, params string[] redisBind)
    {
        var folder = NewFolder(name);
        var redis = await RedisServer.StartAsync(Path.Combine(folder, "redis"), redisBind);
        return new ProcessCluster(folder, redis, ["--redis", redis.ConnectionString]);
    }

    /// <summary>Localhost clustering: the first silo added is the primary (and the client's gateway).</summary>
    public static ProcessCluster Development(string name, out int primarySiloPort, out int primaryGatewayPort)
    {
        primarySiloPort = Ports.Free();
        primaryGatewayPort = Ports.Free();
        return new ProcessCluster(NewFolder(name), null, ["--gateway", primaryGatewayPort.ToString()]);
    }

    static string NewFolder(string name)
    {
        var folder = Path.Combine(Path.GetTempPath(), "mi-process-tests", $"{name}-{DateTime.Now:HHmmss}-{Guid.NewGuid().ToString("N")[..6]}");
        Directory.CreateDirectory(folder);
        return folder;
    }

    /// <summary>A silo spec on free ports (Redis mode when this cluster has a Redis).</summary>
    public SiloSpec Spec(string name, SiloRole role, string? address = null, string? netns = null, string? redisAddress = null) =>
        new(name, role, ClusterId, Redis is null ? null : redisAddress is null ? Redis.ConnectionString : Redis.ConnectionStringAt(redisAddress),
            Ports.Free(), Ports.Free(), Ports.Free())
        {
            Address = address ?? "127.0.0.1",
            Netns = netns,
        };

    public SiloProcess Start(SiloSpec spec)
    {
        var silo = SiloProcess.Start(spec, Folder);
        Silos.Add(silo);
        return silo;
    }

    /// <summary>Starts the silos together (their start-up overlaps) and waits until each has joined.</summary>
    public async Task StartAsync(params SiloSpec[] specs)
    {
        var started = specs.Select(Start).ToList();
        await Task.WhenAll(started.Select(s => s.WaitStartedAsync()));
    }

    public SiloProcess Control => Silos.Single(s => s.Spec.Role == SiloRole.Control);
    public IReadOnlyList<SiloProcess> Compute => Silos.Where(s => s.Spec.Role == SiloRole.Compute).ToList();

    public string JobFolder(string job) => Path.Combine(Outputs, job);

    /// <summary>`client submit` of the fixture's dataset and settings; returns at once (no --watch).</summary>
    public Task<string> SubmitAsync(Scenes data, string job, params string[] extra) =>
        Client.RunAsync(["submit", "--job", job, .. data.SubmitArguments(Outputs), .. extra]);

    /// <summary>Waits (on the file system: a client process takes seconds to start on a loaded machine) until the
    /// coordinator has committed its first checkpoint and begun Parquet part 1: the job is under way with a
    /// watermark above zero and most of it ahead, and the fault lands now. Fails if the job is already over.</summary>
    public async Task WaitUntilUnderWayAsync(string job, TimeSpan timeout)
    {
        // part-00001.parquet, or a shard's part-00001-shardSSS.parquet in a sharded job.
        var masks = Path.Combine(JobFolder(job), "masks");
        var clock = Stopwatch.StartNew();
        while (!Directory.Exists(masks) || !Directory.EnumerateFiles(masks, "part-00001*.parquet").Any())
        {
            if (clock.Elapsed > timeout) throw new TimeoutException($"{job}: no first checkpoint (masks/part-00001*.parquet begun) after {timeout}");
            await Task.Delay(20);
        }
        if (File.Exists(JobOutputs.MetricsPath(JobFolder(job)))) throw new InvalidOperationException($"{job} ended before the fault: make the job longer");
    }

    /// <summary>Waits for the job's metrics.json by watching the file system only: nothing calls the cluster, so a
    /// job that gets there after a loss resumed unattended.</summary>
    public async Task<DateTime> WaitForMetricsAsync(string job, TimeSpan timeout)
    {
        var path = JobOutputs.MetricsPath(JobFolder(job));
        var clock = Stopwatch.StartNew();
        while (!File.Exists(path))
        {
            if (clock.Elapsed > timeout) throw new TimeoutException($"{job}: no metrics.json after {timeout} (nothing called the cluster meanwhile)");
            await Task.Delay(100);
        }
        return DateTime.UtcNow;
    }

    /// <summary>The last lines of every process's log, for a failing test's output.</summary>
    public string Describe()
    {
        var text = new StringBuilder($"Cluster folder (logs kept): {Folder}\n");
        foreach (var s in Silos)
            text.Append($"--- {s.Name} (pid {s.Process.Pid}, {(s.Process.HasExited ? $"exited {s.Process.ExitCode}" : "running")})\n{s.Process.Tail(25)}\n");
        return text.ToString();
    }

    /// <summary>Keep the folder (logs, outputs) after the test: set on failure, or for every run with MI_KEEP_PROCESS_LOGS=1.</summary>
    public bool Keep { get; set; } = Environment.GetEnvironmentVariable("MI_KEEP_PROCESS_LOGS") == "1";

    public void Dispose()
    {
        foreach (var s in Silos) s.Dispose();
        Redis?.Dispose();
        if (!Keep)
        {
            try { Directory.Delete(Folder, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }
}
