using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using StackExchange.Redis;

namespace MaskInversion.Process.Tests;

/// <summary>A throwaway redis-server (Debian package) on a free port, no persistence, its files in a temp folder.</summary>
sealed class RedisServer : IDisposable
{
    readonly ManagedProcess process;
    ConnectionMultiplexer? connection;

    public int Port { get; }
    public string ConnectionString => $"127.0.0.1:{Port}";
    /// <summary>The same server as seen from another address it listens on (a network namespace's peer).</summary>
    public string ConnectionStringAt(string address) => $"{address}:{Port}";

    RedisServer(ManagedProcess process, int port) { this.process = process; Port = port; }

    /// <param name="bind">Addresses besides 127.0.0.1 to listen on (the host end of a veth pair).</param>
    public static async Task<RedisServer> StartAsync(string folder, params string[] bind)
    {
        var executable = Tools.Find("redis-server")
            ?? throw new InvalidOperationException("redis-server is not installed: `.ci/run` installs it (apt-get update && apt-get install -y redis-server).");
        Directory.CreateDirectory(folder);
        int port = Ports.Free();
        var process = ManagedProcess.Start("redis", executable,
            ["--port", port.ToString(), "--bind", string.Join(' ', ["127.0.0.1", .. bind]), "--save", "", "--appendonly", "no",
             "--dir", folder, "--protected-mode", "no", "--daemonize", "no"],
            Path.Combine(folder, "redis.log"));
        var server = new RedisServer(process, port);
        await process.WaitForLineAsync(new Regex("Ready to accept connections"), TimeSpan.FromSeconds(20));
        return server;
    }

    public IDatabase Database => (connection ??= ConnectionMultiplexer.Connect(ConnectionString + ",allowAdmin=true")).GetDatabase();

    public IServer Server
    {
        get
        {
            _ = Database;
            return connection!.GetServer(ConnectionString);
        }
    }

    public void Dispose()
    {
        connection?.Dispose();
        process.Dispose();
    }
}

static class Ports
{
    /// <summary>A port the kernel just handed out (and took back): free unless someone races for it.</summary>
    public static int Free()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

static class Tools
{
    public static string? Find(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Concat(["/usr/sbin", "/usr/bin", "/sbin", "/bin"])
            .Select(dir => Path.Combine(dir, name)).FirstOrDefault(File.Exists);
}
