using System.Globalization;

namespace MaskInversion.Process.Tests;

/// <summary>What a finished clean run left behind in Redis and on the network, read before its cluster goes.</summary>
sealed record CleanRunFacts(
    StatusLine Status,
    string ResultsOutput,
    int MaskRecords,
    IReadOnlyList<TimeSpan?> MaskRecordTtls,
    TimeSpan? JobRecordTtl,
    int RemindersLeft,
    IReadOnlyList<(string Silo, int Port, string Address)> Listening,
    int PollyInfoLines)
{
    public static async Task<CleanRunFacts> CollectAsync(ProcessCluster cluster, string job)
    {
        var results = await cluster.Client.ResultsAsync(job);
        var redis = cluster.Redis!;
        var keys = redis.Server.Keys(pattern: $"{cluster.ClusterId}/state/*").Select(k => k.ToString()).ToList();
        var maskKeys = keys.Where(k => k.Contains($"/state/mask/{job}/", StringComparison.Ordinal)).ToList();
        var ttls = new List<TimeSpan?>();
        foreach (var k in maskKeys) ttls.Add(await redis.Database.KeyTimeToLiveAsync(k));
        var jobKey = keys.Single(k => k.Contains($"/state/jobcoordinator/{job}/", StringComparison.Ordinal));
        var reminders = await redis.Database.SortedSetRangeByRankAsync($"{cluster.ClusterId}/reminders");
        var listening = cluster.Silos.SelectMany(s => new[] { s.Spec.SiloPort, s.Spec.GatewayPort, s.Spec.HttpPort }
            .SelectMany(port => ListeningSockets.Addresses(port).Select(a => (s.Name, port, a)))).ToList();
        return new CleanRunFacts(ClientCli.Parse(results), results, maskKeys.Count, ttls, await redis.Database.KeyTimeToLiveAsync(jobKey),
            reminders.Count(r => r.ToString().Contains(job, StringComparison.Ordinal)), listening,
            // Orleans' placement logs one Polly line per placed grain at Information (issue #14); appsettings.json filters it.
            cluster.Silos.Sum(s => s.Process.Lines.Count(l => l.Contains("info: Polly", StringComparison.Ordinal))));
    }
}

/// <summary>The kernel's table of listening TCP sockets in this network namespace (/proc/net/tcp, tcp6).</summary>
static class ListeningSockets
{
    /// <summary>Local addresses listening on <paramref name="port"/>, e.g. "127.0.0.1", "::1", "0.0.0.0".</summary>
    public static IReadOnlyList<string> Addresses(int port)
    {
        var found = new List<string>();
        foreach (var (file, v6) in new[] { ("/proc/net/tcp", false), ("/proc/net/tcp6", true) })
        {
            if (!File.Exists(file)) continue;
            foreach (var line in File.ReadLines(file).Skip(1))
            {
                var cols = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (cols.Length < 4 || cols[3] != "0A") continue;   // 0A = LISTEN
                var local = cols[1].Split(':');
                if (int.Parse(local[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture) != port) continue;
                found.Add(Decode(local[0], v6));
            }
        }
        return found;
    }

    /// <summary>/proc/net prints addresses as 32-bit words in host (little-endian) order.</summary>
    static string Decode(string hex, bool v6)
    {
        var bytes = new byte[hex.Length / 2];
        for (int word = 0; word < hex.Length / 8; word++)
            for (int b = 0; b < 4; b++)
                bytes[word * 4 + b] = byte.Parse(hex.AsSpan(word * 8 + (3 - b) * 2, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        return new System.Net.IPAddress(bytes).ToString();
    }
}
