using System.Reflection;

namespace MaskInversion.Process.Tests;

/// <summary>The built silo and client the tests run (paths stamped in by the project file).</summary>
static class BuildOutputs
{
    static string Metadata(string key) =>
        typeof(BuildOutputs).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value!;

    public static string SiloDll { get; } = Existing(Metadata("SiloDll"));
    public static string ClientDll { get; } = Existing(Metadata("ClientDll"));
    public static string RepoRoot { get; } = Metadata("RepoRoot");

    static string Existing(string path) => File.Exists(path) ? path
        : throw new FileNotFoundException($"{path} is not built: build the solution (dotnet build MaskInversion.Cluster.sln -c Release).", path);
}
