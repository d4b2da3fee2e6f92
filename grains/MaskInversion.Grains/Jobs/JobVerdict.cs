using System.Text.RegularExpressions;

namespace MaskInversion.Grains;

/// <summary>
/// Whether a job that ran to its end succeeded (#13: a job whose every item failed ended "Completed … N failed" with a
/// table of zeros). The rule: a job in which no mask succeeded is Failed — it measured nothing. Its reason is the items'
/// common error when they all failed the same way (equal once the item's own names — image and mask ids, their paths —
/// and numbers such as line numbers are blanked), else the first error and how many items failed. A dataset that
/// yields no image at all fails too. One success anywhere keeps the job Completed; its failures stay counted and in
/// the Parquet error column. The errors seen are kept in each <see cref="JobShardState"/> and added up over the shards, so the verdict survives resumes.
/// </summary>
public static partial class JobVerdict
{
    /// <summary>Notes one failed item: its error and the names that identify it (blanked for the comparison).</summary>
    public static void RecordFailure(JobShardState s, string error, params string?[] itemNames)
    {
        var pattern = Pattern(error, itemNames);
        if (s.FirstItemError is null) (s.FirstItemError, s.FirstItemErrorPattern) = (error, pattern);
        else if (pattern != s.FirstItemErrorPattern) s.ItemErrorsDiffer = true;
    }

    /// <summary>Why the job failed although it ran to its end, or null when it succeeded.</summary>
    public static string? FailureReason(JobShardState s)
    {
        if (s.MasksDone > 0) return null;
        long failed = s.MasksFailed + s.ReadErrors;
        if (failed == 0 || s.FirstItemError is null)
            return s.ImagesFailed > 0
                ? $"all {s.ImagesFailed} images failed."
                : $"the dataset yielded no image (format {s.Settings?.Format}, root '{s.Settings?.DatasetRoot}', split {s.Settings?.Split ?? "default"}).";
        return s.ItemErrorsDiffer
            ? $"no item succeeded: {failed} failed with different errors (see the error column of masks/*.parquet); the first: {s.FirstItemError}"
            : $"every item failed the same way ({failed} items): {s.FirstItemError}";
    }

    /// <summary>The error with the item's names and every number blanked: what items that failed alike share.</summary>
    public static string Pattern(string error, params string?[] itemNames)
    {
        foreach (var name in itemNames.Where(n => !string.IsNullOrEmpty(n)).OrderByDescending(n => n!.Length))
            error = error.Replace(name!, "…", StringComparison.Ordinal);
        return Digits().Replace(error, "#");
    }

    [GeneratedRegex("[0-9]+")]
    private static partial Regex Digits();
}
