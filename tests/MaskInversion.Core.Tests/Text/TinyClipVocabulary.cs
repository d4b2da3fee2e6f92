using System.Text.Json;
using MaskInversion.Core.Text;

namespace MaskInversion.Core.Tests.Text;

/// <summary>Writes a small Hugging Face style CLIP vocabulary (vocab.json + merges.txt) whose merges
/// build each given word left to right, so every listed word encodes to one "word&lt;/w&gt;" token.
/// SOT/EOT come last, as in OpenAI's vocabulary, so EOT is the highest id (argmax pooling).</summary>
public sealed class TinyClipVocabulary : IDisposable
{
    public static readonly string[] DefaultWords =
    [
        "a", "photo", "of", "the", "cat", "dog", "bird", "car", "bad", "toy", "sketch", "in", "video", "game",
    ];

    public string Directory { get; }
    public IReadOnlyDictionary<string, int> Vocab { get; }
    public IReadOnlyList<string> Merges { get; }

    public TinyClipVocabulary(IEnumerable<string>? words = null)
    {
        var vocab = new Dictionary<string, int>();
        void Add(string token) => vocab.TryAdd(token, vocab.Count);
        foreach (var c in "abcdefghijklmnopqrstuvwxyz.") Add(c.ToString());
        foreach (var c in "abcdefghijklmnopqrstuvwxyz.") Add(c + "</w>");

        var merges = new List<string>();
        foreach (var word in words ?? DefaultWords)
        {
            var left = word.Length == 1 ? word + "</w>" : word[..1];
            for (int i = 1; i < word.Length; i++)
            {
                var right = i == word.Length - 1 ? word[i] + "</w>" : word[i].ToString();
                var merge = left + " " + right;
                if (!merges.Contains(merge)) merges.Add(merge);
                left += right;
                Add(left);
            }
        }
        Add(ClipTokenizer.StartOfTextToken);
        Add(ClipTokenizer.EndOfTextToken);

        Directory = Path.Combine(Path.GetTempPath(), "tiny-clip-vocab-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(Directory);
        File.WriteAllText(Path.Combine(Directory, "vocab.json"), JsonSerializer.Serialize(vocab));
        File.WriteAllLines(Path.Combine(Directory, "merges.txt"), ["#version: 0.2", .. merges]);
        Vocab = vocab;
        Merges = merges;
    }

    public ClipTokenizer Load() => ClipTokenizer.Load(Directory);

    public void Dispose()
    {
        try { System.IO.Directory.Delete(Directory, recursive: true); } catch (IOException) { }
    }
}
