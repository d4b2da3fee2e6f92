using MaskInversion.Core.Datasets;

namespace MaskInversion.Grains;

/// <summary>A job's class vocabulary: the dataset's ids (written in outputs) and names (the prompts), in the order
/// that defines class indices.</summary>
sealed class JobClasses
{
    readonly Dictionary<string, int> byId = new(StringComparer.Ordinal);

    public string[] Ids { get; }
    public string[] Names { get; }

    public JobClasses(string[] ids, string[] names)
    {
        (Ids, Names) = (ids, names);
        for (int i = 0; i < ids.Length; i++) byId.TryAdd(ids[i], i);
    }

    public static JobClasses Of(IReadOnlyList<ClassInfo> classes) =>
        new(classes.Select(c => c.Id).ToArray(), classes.Select(c => c.Name).ToArray());

    /// <summary>The mask's class index by id, else by name; −1 for masks without a class (referring expressions).</summary>
    public int IndexOf(DatasetMask mask) =>
        mask.ClassId is not null && byId.TryGetValue(mask.ClassId, out var c) ? c
        : mask.ClassName is not null ? Array.IndexOf(Names, mask.ClassName) : -1;

    public string IdOf(int index) =>
        index >= 0 && index < Ids.Length ? Ids[index] : index.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
