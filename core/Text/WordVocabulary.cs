using System.Text.Json;

namespace MaskInversion.Core.Text;

/// <summary>A minimal vocab.json + merges.txt in which each given lowercase word is one token: single characters,
/// their word-final forms, one merge per prefix, then SOT and EOT last (EOT the highest id, as argmax pooling
/// needs). For test and demo models whose text tower only has to tell a few class names apart.</summary>
public sealed class WordVocabulary
{
    public IReadOnlyDictionary<string, int> Vocab { get; }
    public IReadOnlyList<string> Merges { get; }

    public WordVocabulary(IEnumerable<string> words)
    {
        var vocab = new Dictionary<string, int>();
        void Add(string token) => vocab.TryAdd(token, vocab.Count);
        foreach (var c in "abcdefghijklmnopqrstuvwxyz.") Add(c.ToString());
        foreach (var c in "abcdefghijklmnopqrstuvwxyz.") Add(c + "</w>");
        var merges = new List<string>();
        foreach (var word in words)
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
        (Vocab, Merges) = (vocab, merges);
    }

    /// <summary>Writes vocab.json and merges.txt into <paramref name="folder"/> (created if needed).</summary>
    public void Write(string folder)
    {
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "vocab.json"), JsonSerializer.Serialize(Vocab));
        File.WriteAllLines(Path.Combine(folder, "merges.txt"), ["#version: 0.2", .. Merges]);
    }
}
