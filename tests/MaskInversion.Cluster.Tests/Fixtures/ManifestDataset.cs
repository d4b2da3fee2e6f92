using System.Text;
using System.Text.Json;
using MaskInversion.Core.Datasets;

namespace MaskInversion.Cluster.Tests;

/// <summary>A JSON-lines manifest built from a synthetic OpenImages dataset's images and masks, so tests can add lines
/// (bad items) to good ones and compare with a manifest of the good lines alone.</summary>
public sealed class ManifestDataset
{
    readonly List<byte[]> lines = [];

    public string ClassesFile { get; }
    public string Folder { get; }

    /// <summary>The good items: one line per image of <paramref name="openImages"/>, absolute paths, class names as labels.</summary>
    public ManifestDataset(string folder, SyntheticDataset.Info openImages)
    {
        Folder = folder;
        Directory.CreateDirectory(folder);
        ClassesFile = Path.Combine(folder, "classes.txt");
        File.WriteAllLines(ClassesFile, SyntheticDataset.Classes.Select(c => c.Name));
        var reader = DatasetReaders.Open("openimages", openImages.Root, openImages.Split);
        foreach (var r in reader.ReadImages())
            if (r.Image is { } image)
                Images.Add(new Item(image.ImageId, image.ImagePath, image.Masks.Select(m => new MaskItem(m.MaskId, m.Source.PngPath!, m.ClassName!)).ToList()));
    }

    public sealed record MaskItem(string Id, string Path, string Label);
    public sealed record Item(string Id, string Image, List<MaskItem> Masks);

    /// <summary>The good items; tests may add masks to them.</summary>
    public List<Item> Images { get; } = [];

    public static string Line(Item item) => JsonSerializer.Serialize(new
    {
        image = item.Image, id = item.Id,
        masks = item.Masks.Select(m => new { mask = m.Path, id = m.Id, label = m.Label }),
    });

    /// <summary>Adds a raw line (bytes as given: it may be malformed JSON or not UTF-8).</summary>
    public void AddRaw(byte[] line) => lines.Add(line);
    public void Add(Item item) => lines.Add(Encoding.UTF8.GetBytes(Line(item)));

    /// <summary>Writes the good items followed by the added lines.</summary>
    public string Write(string name, bool withAdded = true)
    {
        var path = Path.Combine(Folder, name);
        using var file = File.Create(path);
        foreach (var item in Images) file.Write(Encoding.UTF8.GetBytes(Line(item) + "\n"));
        if (withAdded)
            foreach (var line in lines) { file.Write(line); file.WriteByte((byte)'\n'); }
        return path;
    }
}
