namespace MaskInversion.Core.Datasets;

/// <summary>Class names of the Pascal label maps, in label order (label 1 first), written as prompts read them
/// ("dining table", not "diningtable").</summary>
public static class PascalClasses
{
    /// <summary>Pascal VOC's 20 object classes (labels 1–20).</summary>
    public static IReadOnlyList<string> Voc { get; } =
    [
        "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair", "cow",
        "dining table", "dog", "horse", "motorbike", "person", "potted plant", "sheep", "sofa", "train", "tv monitor",
    ];

    /// <summary>Pascal Context's 59 most frequent classes (labels 1–59), mmsegmentation's order.</summary>
    public static IReadOnlyList<string> Context59 { get; } =
    [
        "aeroplane", "bag", "bed", "bedclothes", "bench", "bicycle", "bird", "boat", "book", "bottle",
        "building", "bus", "cabinet", "car", "cat", "ceiling", "chair", "cloth", "computer", "cow",
        "cup", "curtain", "dog", "door", "fence", "floor", "flower", "food", "grass", "ground",
        "horse", "keyboard", "light", "motorbike", "mountain", "mouse", "person", "plate", "platform", "potted plant",
        "road", "rock", "sheep", "shelves", "sidewalk", "sign", "sky", "snow", "sofa", "table",
        "track", "train", "tree", "truck", "tv monitor", "wall", "water", "window", "wood",
    ];
}
