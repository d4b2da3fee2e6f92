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
    // Below Linux's ephemeral range (32768–60999): a port from that range can be taken by any outgoing connection
    // (the silos' own, Redis clients') between handing it out here and the silo binding it seconds later.
    const int First = 20_000, Last = 32_000;
    static readonly HashSet<int> Given = [];

    /// <summary>A port outside the ephemeral range that nothing listens on now, not handed out before by this run.</summary>
    public static int Free()
    {
        lock (Given)
        {
            for (int tries = 0; tries < 1000; tries++)
            {
                int port = Random.Shared.Next(First, Last);
                if (Given.Contains(port)) continue;
                try
                {
                    using var listener = new TcpListener(IPAddress.Any, port);
                    listener.Start();
                }
                catch (SocketException)
                {
                    continue;
                }
                Given.Add(port);
                return port;
            }
        }
        throw new InvalidOperationException($"No free port in {First}–{Last}.");
    }
}

static class Tools
{
    public static string? Find(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Concat(["/usr/sbin", "/usr/bin", "/sbin", "/bin"])
            .Select(dir => Path.Combine(dir, name)).FirstOrDefault(File.Exists);
}
