using System.Globalization;
using System.Text.RegularExpressions;
using MaskInversion.Core.Output;

namespace MaskInversion.Process.Tests;

/// <summary>What a job leaves in its folder, in a form two runs can be compared with exactly: metrics.json without its
/// timestamp, and every per-mask Parquet row (floats by their bits) in a canonical order.</summary>
sealed record JobOutputs(string Metrics, IReadOnlyList<string> Rows)
{
    public static string MetricsPath(string folder) => Path.Combine(folder, "metrics.json");

    public static async Task<JobOutputs> ReadAsync(string folder)
    {
        var metrics = Regex.Replace(await File.ReadAllTextAsync(MetricsPath(folder)), "\"created\": \"[^\"]*\"", "\"created\": \"…\"");
        var rows = new List<string>();
        foreach (var part in Directory.GetFiles(Path.Combine(folder, "masks"), "part-*.parquet").Order(StringComparer.Ordinal))
            await foreach (var r in PerMaskResultsParquet.ReadAsync(part)) rows.Add(Canonical(r));
        rows.Sort(StringComparer.Ordinal);
        return new JobOutputs(metrics, rows);
    }

    static string Canonical(PerMaskResult r)
    {
        static string F(float f) => BitConverter.SingleToInt32Bits(f).ToString("x8", CultureInfo.InvariantCulture) + "(" + f.ToString("R", CultureInfo.InvariantCulture) + ")";
        return string.Join(" | ", r.ImageId, r.MaskId, r.Method, r.Label ?? "∅", string.Join(',', r.Top10), string.Join(',', r.Top10Scores.Select(F)),
            r.DiceLoss is { } d ? F(d) : "∅", r.Error ?? "∅");
    }

    /// <summary>Equal metrics and equal rows: no mask lost, none counted or written twice, every number identical.</summary>
    public void AssertSameAs(JobOutputs expected, string what)
    {
        Assert.True(Rows.Count > 0, $"{what}: no per-mask rows");
        var duplicates = Rows.GroupBy(KeyOf).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        Assert.True(duplicates.Count == 0, $"{what}: {duplicates.Count} masks written twice, e.g. {duplicates.FirstOrDefault()}");
        var missing = expected.Rows.Except(Rows).ToList();
        var extra = Rows.Except(expected.Rows).ToList();
        Assert.True(missing.Count == 0 && extra.Count == 0,
            $"{what}: {missing.Count} rows of the clean run missing or different, {extra.Count} rows not in it " +
            $"({Rows.Count} vs {expected.Rows.Count} rows).\nmissing e.g. {missing.FirstOrDefault()}\nextra e.g.   {extra.FirstOrDefault()}");
        Assert.Equal(expected.Rows.Count, Rows.Count);
        Assert.Equal(expected.Metrics, Metrics);
    }

    /// <summary>(image, mask, method): what must appear once.</summary>
    static string KeyOf(string row) => string.Join(" | ", row.Split(" | ").Take(3));
}
