namespace MaskInversion.Core.Datasets;

/// <summary>A path a <see cref="PathPolicy"/> refused. The message names the path as it was given and never says
/// whether anything exists there, so refusals cannot be used to probe the file system.</summary>
public sealed class PathNotAllowedException(string path, string message) : ItemDataException(path, message);

/// <summary>
/// Confines file access to a set of allowed roots configured on the silo (#14: a job spec could name /etc/shadow as
/// its classes file, ids with <c>../</c>, absolute COCO file_names, symlinks out of the dataset, any output folder).
/// <para>
/// A path is resolved fully before the check: made absolute (relative paths against a given base), <c>.</c> and
/// <c>..</c> removed, and every symbolic link along it replaced by its target, component by component, as the
/// kernel would follow them. It is allowed when the result is a root or lies under one. The roots themselves are
/// resolved once, when the policy is made. Resolution reads only link targets, never file contents, and a refusal
/// is the same whether or not the path exists.
/// </para>
/// </summary>
public sealed class PathPolicy
{
    const int MaxLinks = 40; // Linux's own limit on links followed in one lookup (ELOOP)

    readonly string[] roots;

    /// <summary>No confinement: every path is allowed (local command-line use and tests).</summary>
    public static PathPolicy Unrestricted { get; } = new();

    /// <summary>The resolved roots; empty for <see cref="Unrestricted"/>.</summary>
    public IReadOnlyList<string> Roots => roots;

    public bool IsUnrestricted { get; }

    PathPolicy()
    {
        roots = [];
        IsUnrestricted = true;
    }

    /// <param name="roots">Folders under which access is allowed. At least one; each must be absolute.</param>
    public PathPolicy(IEnumerable<string> roots)
    {
        var list = new List<string>();
        foreach (var root in roots)
        {
            if (string.IsNullOrWhiteSpace(root) || !Path.IsPathFullyQualified(root))
                throw new ArgumentException($"An allowed root must be an absolute path; got '{root}'.", nameof(roots));
            list.Add(TrimSeparator(RealPath(Path.GetFullPath(root))));
        }
        if (list.Count == 0) throw new ArgumentException("A path policy needs at least one allowed root (or use PathPolicy.Unrestricted).", nameof(roots));
        this.roots = list.Distinct(StringComparer.Ordinal).ToArray();
    }

    /// <summary>The fully resolved form of <paramref name="path"/> if it lies under an allowed root; otherwise throws
    /// <see cref="PathNotAllowedException"/>.</summary>
    /// <param name="relativeTo">Base folder for a relative <paramref name="path"/> (default: the current directory).</param>
    /// <param name="what">What the path is, for the message ("image", "classes file", …).</param>
    public string Resolve(string path, string? relativeTo = null, string what = "path")
    {
        if (string.IsNullOrEmpty(path) || path.Contains('\0'))
            throw new PathNotAllowedException(path ?? "", $"The {what} path '{path}' is empty or malformed.");
        var full = relativeTo is null ? Path.GetFullPath(path) : Path.GetFullPath(path, Path.GetFullPath(relativeTo));
        if (IsUnrestricted) return full;
        var real = RealPath(full);
        if (!IsUnderRoot(real))
            throw new PathNotAllowedException(path, $"The {what} path '{path}' is outside the folders this cluster allows ({string.Join(", ", roots)}).");
        return real;
    }

    /// <summary>True when <paramref name="path"/> resolves under an allowed root (never throws for a refused path).</summary>
    public bool Allows(string path, string? relativeTo = null)
    {
        try { Resolve(path, relativeTo); return true; }
        catch (PathNotAllowedException) { return false; }
    }

    /// <summary>Checks an output folder, which may not exist yet: its resolved form must lie under an allowed root.
    /// Returns the resolved folder; creating it is the caller's business.</summary>
    public string ResolveOutputFolder(string path)
    {
        if (!Path.IsPathFullyQualified(path))
            throw new PathNotAllowedException(path, $"The output folder '{path}' must be an absolute path.");
        return Resolve(path, what: "output folder");
    }

    bool IsUnderRoot(string real) => roots.Any(r =>
        real.Equals(r, StringComparison.Ordinal)
        || (real.StartsWith(r, StringComparison.Ordinal) && (r.EndsWith(Path.DirectorySeparatorChar) || real[r.Length] == Path.DirectorySeparatorChar)));

    static string TrimSeparator(string p) => p.Length > 1 ? Path.TrimEndingDirectorySeparator(p) : p;

    /// <summary>Replaces every symbolic link along an absolute, normalised path by its target (like realpath(3),
    /// except that components that do not exist are kept as they are).</summary>
    internal static string RealPath(string full)
    {
        int links = 0;
        var root = Path.GetPathRoot(full)!;
        var pending = new Stack<string>(full[root.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries).Reverse());
        var current = root;
        while (pending.Count > 0)
        {
            var part = pending.Pop();
            if (part == ".") continue;
            if (part == "..") { current = Path.GetDirectoryName(current) ?? root; continue; }
            var next = Path.Join(current, part);
            string? target = null;
            try { target = new FileInfo(next).LinkTarget; }
            catch (IOException) { }              // e.g. a component that is a file, not a folder: nothing to follow
            catch (UnauthorizedAccessException) { }
            if (target is null) { current = next; continue; }
            if (++links > MaxLinks) throw new PathNotAllowedException(full, $"The path '{full}' has too many symbolic links.");
            // Resolve the target's own components (it may be relative, hold "..", or be another link) before the rest.
            var absolute = Path.IsPathRooted(target) ? target : Path.Join(current, target);
            var targetRoot = Path.GetPathRoot(absolute)!;
            foreach (var p in absolute[targetRoot.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries).Reverse())
                pending.Push(p);
            current = targetRoot;
        }
        return current;
    }
}
