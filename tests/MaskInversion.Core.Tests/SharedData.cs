namespace MaskInversion.Core.Tests;

/// <summary>Locates the read-only <c>../shared</c> folder beside the checkout (tests read it in place).</summary>
public static class SharedData
{
    static readonly Lazy<string> root = new(FindRoot);

    public static string Root => root.Value;
    public static string RepoRoot => FindRepo();
    public static string Path(params string[] parts) => System.IO.Path.Combine([Root, "data", .. parts]);
    public static string Examples(string file) => Path("maskinversion-examples", file);
    public static string OpenClip(string file) => Path("openclip", file);

    static string FindRepo()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(System.IO.Path.Combine(dir.FullName, "MaskInversion.Cluster.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new DirectoryNotFoundException("Cannot find MaskInversion.Cluster.sln above " + AppContext.BaseDirectory);
    }

    static string FindRoot()
    {
        var env = Environment.GetEnvironmentVariable("MASKINVERSION_SHARED");
        if (!string.IsNullOrEmpty(env)) return env;
        var shared = System.IO.Path.GetFullPath(System.IO.Path.Combine(FindRepo(), "..", "shared"));
        if (!Directory.Exists(shared))
            throw new DirectoryNotFoundException($"The shared test data folder was not found at {shared}; set MASKINVERSION_SHARED.");
        return shared;
    }
}
