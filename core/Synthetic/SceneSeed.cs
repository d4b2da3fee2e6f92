namespace MaskInversion.Core.Synthetic;

/// <summary>
/// Derives independent, stable per-scene seeds and identifiers from (seed, index), so any scene can be
/// regenerated alone, in any order, on any thread. SplitMix64 is used because it is tiny, well mixed and,
/// unlike <see cref="HashCode"/>, identical across processes.
/// </summary>
public static class SceneSeed
{
    /// <summary>SplitMix64 finaliser: a bijective 64-bit mix.</summary>
    public static ulong Mix(ulong z)
    {
        z += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>A 64-bit key for (seed, index, salt); different salts give unrelated streams.</summary>
    public static ulong Key(int seed, long index, ulong salt) =>
        Mix(Mix(Mix((ulong)(uint)seed ^ (salt * 0xD6E8FEB86659FD93UL)) ^ (ulong)index) + salt);

    /// <summary>Seed for <see cref="Random"/>(int), whose seeded algorithm is fixed across .NET versions.</summary>
    public static int RandomSeed(int seed, long index) => (int)(Key(seed, index, 0x5CE4E) & 0x7FFFFFFF);

    /// <summary>OpenImages-style 16-hex-digit image id.</summary>
    public static string ImageId(int seed, long index) => Key(seed, index, 0x1D).ToString("x16");

    /// <summary>OpenImages-style 8-hex-digit box id, unique within an image.</summary>
    public static string BoxId(string imageId, int objectIndex)
    {
        ulong h = 0xCBF29CE484222325UL; // FNV-1a over the image id, then mixed with the object index
        foreach (char c in imageId) h = (h ^ c) * 0x100000001B3UL;
        return ((uint)(Mix(h ^ (ulong)objectIndex) >> 32)).ToString("x8");
    }
}
