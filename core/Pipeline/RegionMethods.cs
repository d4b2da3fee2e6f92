namespace MaskInversion.Core.Pipeline;

/// <summary>
/// The method registry: every method a job or the CLI may name, and the groups a name list may use
/// ('baselines', 'ablations', 'all'). The built-ins are registered here; a new method (another visual prompt,
/// another inversion variant) is one <see cref="RegionMethod"/> subclass plus one <see cref="Register"/> call at
/// process start, before any job resolves names.
/// </summary>
public static class RegionMethods
{
    public const string BaselinesGroup = "baselines";
    public const string AblationsGroup = "ablations";
    public const string AllGroup = "all";

    static readonly object Gate = new();
    static readonly List<RegionMethod> Registered = [];
    static readonly Dictionary<string, List<RegionMethod>> GroupMembers = new(StringComparer.OrdinalIgnoreCase);

    static RegionMethods()
    {
        Register(RegionMethod.MaskInversion);
        foreach (var m in new[] { RegionMethod.Clip, RegionMethod.Crop, RegionMethod.MaskedCrop, RegionMethod.RedCircle, RegionMethod.Blur })
            Register(m, BaselinesGroup);
        foreach (var m in new[] { RegionMethod.MaskInversionBox, RegionMethod.MaskInversionErode, RegionMethod.MaskInversionDilate })
            Register(m, AblationsGroup);
    }

    /// <summary>Adds a method under its name, optionally to a group. Names are unique (case-insensitive).</summary>
    public static void Register(RegionMethod method, string? group = null)
    {
        lock (Gate)
        {
            if (method.Name.Equals(AllGroup, StringComparison.OrdinalIgnoreCase) || GroupMembers.ContainsKey(method.Name))
                throw new ArgumentException($"Method name '{method.Name}' is a group name.", nameof(method));
            if (Registered.Any(m => m.Name.Equals(method.Name, StringComparison.OrdinalIgnoreCase)))
                throw new ArgumentException($"A method named '{method.Name}' is already registered.", nameof(method));
            Registered.Add(method);
            if (group is null) return;
            if (!GroupMembers.TryGetValue(group, out var members)) GroupMembers[group] = members = [];
            members.Add(method);
        }
    }

    public static IReadOnlyList<RegionMethod> All { get { lock (Gate) return Registered.ToArray(); } }
    public static IReadOnlyList<RegionMethod> Baselines => Group(BaselinesGroup);
    public static IReadOnlyList<RegionMethod> Ablations => Group(AblationsGroup);

    public static IReadOnlyList<RegionMethod> Group(string name)
    {
        if (name.Equals(AllGroup, StringComparison.OrdinalIgnoreCase)) return All;
        lock (Gate) return GroupMembers.TryGetValue(name, out var m) ? m.ToArray() : [];
    }

    public static RegionMethod Parse(string name)
    {
        lock (Gate)
        {
            var found = Registered.FirstOrDefault(m => m.Name.Equals(name.Trim(), StringComparison.OrdinalIgnoreCase));
            return found ?? throw new ArgumentException(
                $"Unknown method '{name.Trim()}'. Known: {string.Join(", ", Registered.Select(m => m.Name))}, or the groups {string.Join(", ", GroupMembers.Keys.Append(AllGroup))}.");
        }
    }

    /// <summary>Parses a comma-separated list of names and groups, in order, without repeats.</summary>
    public static IReadOnlyList<RegionMethod> ParseList(string text) =>
        ParseList(text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    public static IReadOnlyList<RegionMethod> ParseList(IEnumerable<string> names)
    {
        var result = new List<RegionMethod>();
        foreach (var part in names.SelectMany(n => n.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)))
        {
            bool isGroup;
            lock (Gate) isGroup = part.Equals(AllGroup, StringComparison.OrdinalIgnoreCase) || GroupMembers.ContainsKey(part);
            foreach (var m in isGroup ? Group(part) : [Parse(part)])
                if (!result.Contains(m)) result.Add(m);
        }
        if (result.Count == 0) throw new ArgumentException("No methods given.");
        return result;
    }
}
