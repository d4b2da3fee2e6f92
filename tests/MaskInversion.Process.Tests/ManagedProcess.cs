using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;

namespace MaskInversion.Process.Tests;

/// <summary>A child process whose output lines are kept (with the time each arrived) and copied to a log file.</summary>
sealed class ManagedProcess : IDisposable
{
    readonly System.Diagnostics.Process process;
    readonly ConcurrentQueue<(DateTime At, string Line)> lines = new();
    readonly StreamWriter log;
    readonly TaskCompletionSource exited = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public string Name { get; }
    public int Pid => process.Id;
    public string LogPath { get; }

    /// <summary>Safety net: a test host that exits (or is stopped) takes its silos and servers with it.</summary>
    static readonly ConcurrentDictionary<ManagedProcess, byte> Live = new();

    static ManagedProcess()
    {
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            foreach (var p in Live.Keys) p.Kill();
        };
    }

    ManagedProcess(string name, System.Diagnostics.Process process, string logPath)
    {
        Name = name;
        this.process = process;
        LogPath = logPath;
        log = new StreamWriter(logPath, append: true) { AutoFlush = true };
    }

    /// <summary>Starts <paramref name="file"/>; inside network namespace <paramref name="netns"/> when given
    /// (`ip netns exec` execs the command in place, so the pid is the command's).</summary>
    public static ManagedProcess Start(string name, string file, IEnumerable<string> args, string logPath,
        IReadOnlyDictionary<string, string>? environment = null, string? netns = null)
    {
        var info = new ProcessStartInfo
        {
            FileName = netns is null ? file : "ip",
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(logPath)!,
        };
        if (netns is not null) foreach (var a in new[] { "netns", "exec", netns, file }) info.ArgumentList.Add(a);
        foreach (var a in args) info.ArgumentList.Add(a);
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["DOTNET_NOLOGO"] = "1";
        if (environment is not null) foreach (var (k, v) in environment) info.Environment[k] = v;
        var process = new System.Diagnostics.Process { StartInfo = info, EnableRaisingEvents = true };
        var managed = new ManagedProcess(name, process, logPath);
        process.OutputDataReceived += (_, e) => managed.Add(e.Data);
        process.ErrorDataReceived += (_, e) => managed.Add(e.Data);
        process.Exited += (_, _) => managed.exited.TrySetResult();
        managed.log.WriteLine($"# {DateTime.Now:HH:mm:ss.fff} {(netns is null ? "" : $"ip netns exec {netns} ")}{file} {string.Join(' ', info.ArgumentList.Skip(netns is null ? 0 : 4))}");
        process.Start();
        Live[managed] = 0;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return managed;
    }

    void Add(string? line)
    {
        if (line is null) return;
        lines.Enqueue((DateTime.UtcNow, line));
        lock (log) log.WriteLine(line);
    }

    public bool HasExited => exited.Task.IsCompleted;
    public int ExitCode => process.ExitCode;
    public IEnumerable<string> Lines => lines.Select(l => l.Line);
    public string Output => string.Join('\n', Lines);

    /// <summary>When the first line matching <paramref name="pattern"/> (arrived at or after <paramref name="since"/>)
    /// came; fails with the output's tail if the process exits or the time runs out first.</summary>
    public async Task<DateTime> WaitForLineAsync(Regex pattern, TimeSpan timeout, DateTime? since = null, bool exitIsFine = false)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            foreach (var (at, line) in lines)
                if (at >= (since ?? DateTime.MinValue) && pattern.IsMatch(line)) return at;
            if (HasExited && !exitIsFine) throw new InvalidOperationException($"{Name} exited (code {ExitCode}) before printing /{pattern}/:\n{Tail()}");
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{Name} did not print /{pattern}/ within {timeout}:\n{Tail()}");
            await Task.Delay(50);
        }
    }

    /// <summary>When the first line matching <paramref name="pattern"/> at or after <paramref name="since"/> came, if any.</summary>
    public DateTime? FirstLine(Regex pattern, DateTime since) =>
        lines.Where(l => l.At >= since && pattern.IsMatch(l.Line)).Select(l => (DateTime?)l.At).FirstOrDefault();

    public string Tail(int count = 40) => string.Join('\n', lines.Select(l => l.Line).TakeLast(count));

    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        await Task.WhenAny(exited.Task, Task.Delay(timeout));
        if (exited.Task.IsCompleted) process.WaitForExit();   // drains the output
        return exited.Task.IsCompleted;
    }

    /// <summary>SIGKILL: no shutdown code runs, like a power cut or an OOM kill.</summary>
    public void Kill()
    {
        try
        {
            if (!HasExited) process.Kill();
        }
        catch (InvalidOperationException) { }   // exited meanwhile
    }

    /// <summary>SIGTERM: the host shuts down gracefully.</summary>
    public void Terminate()
    {
        if (!HasExited && SysKill(process.Id, 15) != 0) throw new InvalidOperationException($"kill -TERM {process.Id} failed: errno {Marshal.GetLastWin32Error()}");
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    static extern int SysKill(int pid, int signal);

    public void Dispose()
    {
        Kill();
        try { process.WaitForExit(10_000); } catch (InvalidOperationException) { }
        Live.TryRemove(this, out _);
        process.Dispose();
        lock (log) log.Dispose();
    }
}
