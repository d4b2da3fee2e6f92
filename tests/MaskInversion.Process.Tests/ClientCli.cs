using System.Globalization;
using System.Text.RegularExpressions;

namespace MaskInversion.Process.Tests;

/// <summary>The real client CLI (the built client.dll under `dotnet`), one process per command.</summary>
sealed class ClientCli(string folder, IReadOnlyList<string> connection)
{
    int runs;

    /// <summary>Runs one command to its end and returns its output; a non-zero exit fails with that output.</summary>
    public async Task<string> RunAsync(IEnumerable<string> args, TimeSpan? timeout = null)
    {
        var (exitCode, output) = await RunForExitCodeAsync(args, timeout);
        if (exitCode != 0) throw new InvalidOperationException($"client {string.Join(' ', args)} exited {exitCode}:\n{output}");
        return output;
    }

    /// <summary>Runs one command to its end: its exit code and its output (stdout and stderr).</summary>
    public async Task<(int ExitCode, string Output)> RunForExitCodeAsync(IEnumerable<string> args, TimeSpan? timeout = null)
    {
        var log = Path.Combine(folder, $"client-{Interlocked.Increment(ref runs):D2}.log");
        using var process = ManagedProcess.Start("client", "dotnet", [BuildOutputs.ClientDll, .. args, .. connection], log,
            // Spectre.Console draws the table at this width instead of the terminal's (there is none).
            new Dictionary<string, string> { ["COLUMNS"] = "200" });
        if (!await process.WaitForExitAsync(timeout ?? TimeSpan.FromMinutes(2)))
            throw new TimeoutException($"client {string.Join(' ', args)} still running after {timeout}:\n{process.Tail()}");
        return (process.ExitCode, process.Output);
    }

    public Task<string> StatusAsync(string job) => RunAsync(["status", "--job", job]);
    public Task<string> ResultsAsync(string job) => RunAsync(["results", "--job", job]);

    /// <summary>The figures of a status line ("job: Running — images 3 done, 0 failed; masks 9/30 done, …").</summary>
    public static StatusLine Parse(string output)
    {
        var flat = Regex.Replace(output, @"\s+", " ");
        var m = Regex.Match(flat, @": (\w+) — images (\d+) done, (\d+) failed; masks (\d+)(?:/\d+)? done, (\d+) failed; (\d+) read errors, (\d+) retries");
        if (!m.Success) throw new FormatException($"No status line in:\n{output}");
        long N(int g) => long.Parse(m.Groups[g].Value, CultureInfo.InvariantCulture);
        return new StatusLine(m.Groups[1].Value, N(2), N(3), N(4), N(5), N(6), N(7));
    }
}

sealed record StatusLine(string State, long ImagesDone, long ImagesFailed, long MasksDone, long MasksFailed, long ReadErrors, long Retries);
