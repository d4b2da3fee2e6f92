using System.Text.Json;

namespace MaskInversion.Process.Tests;

/// <summary>Measured figures (recovery seconds, job seconds) of the process tests, one JSON line per scenario in
/// out/process-tests/figures.jsonl under the repository (git-ignored), so a run's numbers can be quoted.</summary>
static class Figures
{
    static readonly object Gate = new();

    public static string Path { get; } = System.IO.Path.Combine(BuildOutputs.RepoRoot, "out", "process-tests", "figures.jsonl");

    public static string Record(string scenario, Dictionary<string, object> figures)
    {
        figures = new Dictionary<string, object>(figures) { ["scenario"] = scenario, ["at"] = DateTime.UtcNow.ToString("O") };
        var line = JsonSerializer.Serialize(figures);
        lock (Gate)
        {
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
            File.AppendAllText(Path, line + "\n");
        }
        return line;
    }

    public static double Seconds(DateTime from, DateTime to) => Math.Round((to - from).TotalSeconds, 2);
}
