using System.Text;

namespace MaskInversion.Core.Weights;

/// <summary>A checkpoint tensor whose shape differs from the one the model needs.</summary>
public sealed record ShapeMismatch(string Key, IReadOnlyList<long> Expected, IReadOnlyList<long> Actual)
{
    public override string ToString() => $"{Key}: expected [{string.Join(", ", Expected)}], checkpoint has [{string.Join(", ", Actual)}]";
}

/// <summary>What loading a checkpoint did and every problem it found. Key names are the checkpoint's own
/// (after prefix stripping), so they can be looked up in the file.</summary>
public sealed record LoadReport(
    string Path,
    CheckpointLayout Layout,
    string StrippedPrefix,
    int LoadedCount,
    IReadOnlyList<string> MissingKeys,
    IReadOnlyList<string> UnexpectedKeys,
    IReadOnlyList<ShapeMismatch> ShapeMismatches,
    IReadOnlyList<string> ArchitectureMismatches,
    IReadOnlyList<string> IgnoredKeys)
{
    /// <summary>True when every model parameter was loaded and nothing in the file was left over.</summary>
    public bool IsComplete => MissingKeys.Count == 0 && UnexpectedKeys.Count == 0 && ShapeMismatches.Count == 0 && ArchitectureMismatches.Count == 0;

    /// <summary>Human-readable list of all problems; long categories are cut at <paramref name="maxPerCategory"/> entries.</summary>
    public string Describe(int maxPerCategory = 50)
    {
        var sb = new StringBuilder();
        sb.Append($"'{Path}' ({Layout} layout{(StrippedPrefix.Length > 0 ? $", prefix '{StrippedPrefix}' stripped" : "")}) does not match the model:");
        void Section<T>(string title, IReadOnlyList<T> items)
        {
            if (items.Count == 0) return;
            sb.Append($"\n  {title} ({items.Count}):");
            foreach (var item in items.Take(maxPerCategory)) sb.Append($"\n    {item}");
            if (items.Count > maxPerCategory) sb.Append($"\n    … and {items.Count - maxPerCategory} more (see CheckpointException.Report)");
        }
        Section("architecture", ArchitectureMismatches);
        Section("missing keys", MissingKeys);
        Section("unexpected keys", UnexpectedKeys);
        Section("shape mismatches", ShapeMismatches);
        return sb.ToString();
    }
}

/// <summary>A checkpoint that cannot be loaded: a pickle file, an unknown layout, or keys and shapes that
/// do not fit the model (all of them listed at once, in <see cref="Report"/>).</summary>
public sealed class CheckpointException : Exception
{
    public LoadReport? Report { get; }

    public CheckpointException(string message) : base(message) { }

    public CheckpointException(LoadReport report) : base(report.Describe()) => Report = report;
}
