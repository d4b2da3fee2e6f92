namespace MaskInversion.Core.Tests.Torch;

/// <summary>Keeps core free of Scalars libtorch could read after the finalizer freed them (#14; core/Torch/Scalars.cs).</summary>
public class ScalarAuditTests
{
    /// <summary>Files allowed to keep unheld Scalars, each with its reason.</summary>
    static readonly Dictionary<string, string> Exempt = new(StringComparer.Ordinal)
    {
    };

    [Fact]
    public void CoreHandsLibtorchOnlyHeldScalars()
    {
        var repo = SharedData.RepoRoot;
        var sources = Directory.GetFiles(Path.Combine(repo, "core"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}") && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}"))
            .Select(f => (Path.GetRelativePath(repo, f).Replace(Path.DirectorySeparatorChar, '/'), File.ReadAllText(f))).ToList();
        Assert.True(sources.Count > 50, $"only {sources.Count} core sources found under {repo}");

        var findings = ScalarAudit.Scan(sources, out var errors);

        // Unbound code would hide findings: core must compile here as it does in the build.
        Assert.True(errors.Count == 0, "core did not compile for the audit:\n" + string.Join("\n", errors.Take(10)));
        var offending = findings.Where(f => !Exempt.ContainsKey(f.File)).ToList();
        Assert.True(offending.Count == 0,
            "Unheld Scalars reach libtorch (use Torch/Scalars constants, Plus/SubtractedFrom, or ToScalar() under using):\n" + string.Join("\n", offending));
        Assert.All(Exempt.Keys, f => Assert.Contains(sources, s => s.Item1 == f)); // an exemption for a file that is gone is stale
    }

    [Fact]
    public void AuditFindsEachKindOfUnheldScalar()
    {
        const string bad = """
            using TorchSharp;
            using static TorchSharp.torch;
            static class Bad
            {
                static Tensor Sum(Tensor a, Tensor b) => a + b;                  // hidden alpha = 1
                static Tensor Eps(Tensor a, double eps) => a.add_(eps);          // implicit double, and hidden alpha
                static Tensor Half(Tensor a) => a * 0.5;                         // the operator converts inside TorchSharp
                static Tensor Ids(long n) => torch.arange(n);                    // implicit long, hidden start and step
            }
            """;
        const string good = """
            using MaskInversion.Core.Torch;
            using TorchSharp;
            using static TorchSharp.torch;
            static class Good
            {
                static Tensor Sum(Tensor a, Tensor b) => a.Plus(b);
                static Tensor Eps(Tensor a, double eps) { using var e = eps.ToScalar(); return a.Plus_(e); }
                static Tensor Half(Tensor a) { using var h = 0.5.ToScalar(); return a * h; }
                static Tensor Ids(long n) { using var end = n.ToScalar(); return torch.arange(Scalars.Zero, end, Scalars.One); }
                static Tensor Difference(Tensor a, Tensor b) => a - b * b;
            }
            """;
        var scalars = File.ReadAllText(Path.Combine(SharedData.RepoRoot, "core", "Torch", "Scalars.cs"));

        var findings = ScalarAudit.Scan([("Bad.cs", bad), ("Good.cs", good), ("Scalars.cs", scalars)], out var errors);

        Assert.Empty(errors);
        Assert.DoesNotContain(findings, f => f.File != "Bad.cs");
        var lines = findings.Select(f => f.Line).ToHashSet();
        Assert.Equal([5, 6, 7, 8], lines.Order());
        Assert.Contains(findings, f => f.Line == 6 && f.Cause.StartsWith("implicit Double", StringComparison.Ordinal) || f.Line == 6 && f.Cause.StartsWith("implicit double", StringComparison.Ordinal));
        Assert.Contains(findings, f => f.Line == 5 && f.Cause.Contains("op_Addition", StringComparison.Ordinal));
    }
}
