using System.Text.Json;
using MaskInversion.Core.Synthetic;
using MaskInversion.Core.Text;

namespace MaskInversion.Core.Training;

/// <summary>
/// Writes MiniCLIP's own small byte-level BPE vocabulary (Hugging Face layout: vocab.json + merges.txt).
/// All 256 byte characters, alone and with the end-of-word suffix, come first, so any text still
/// tokenizes (character by character); then one merge chain per caption word, so every word the captions
/// and prompts use is a single token; SOT and EOT come last, so EOT is the highest id (argmax pooling).
/// </summary>
public static class VocabularyBuilder
{
    const string EndOfWord = "</w>";

    /// <summary>Caption words besides colour and shape names: articles, the prompt template, joiners, punctuation.</summary>
    public static IReadOnlyList<string> CommonWords { get; } =
        ["a", "an", "photo", "of", "the", "and", "with", "in", "on", "picture", "scene", "image", "object", "shape", ",", "."];

    /// <summary>The words of a vocabulary's captions: common words, colour names and shape names, de-duplicated in order.</summary>
    public static IReadOnlyList<string> Words(SceneVocabulary vocabulary) =>
        CommonWords.Concat(vocabulary.Colours.Select(c => c.Name)).Concat(vocabulary.Shapes.Select(SceneVocabulary.ShapeName))
            .Distinct(StringComparer.Ordinal).ToArray();

    /// <summary>token → id and the merges in priority order.</summary>
    public static (Dictionary<string, int> Vocab, List<string> Merges) Build(IEnumerable<string> words)
    {
        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        void Add(string token) => vocab.TryAdd(token, vocab.Count);
        var alphabet = ClipTokenizer.BytesToUnicodeOrder().ToArray();
        foreach (var c in alphabet) Add(c.ToString());
        foreach (var c in alphabet) Add(c + EndOfWord);

        var merges = new List<string>();
        foreach (var word in words)
        {
            if (word.Length == 0 || word.Any(c => c > '~' || char.IsWhiteSpace(c)))
                throw new ArgumentException($"Vocabulary word '{word}' must be non-empty printable ASCII without spaces.", nameof(words));
            // Segment the word with the merges so far, then merge its pieces left to right. New merges rank
            // below all earlier ones, so they can never change how an earlier word is encoded.
            // Re-segmenting after each merge keeps repeated pairs ("a b a b") right; the piece count falls every round.
            for (var pieces = Segment(word, merges); pieces.Count > 1; pieces = Segment(word, merges))
            {
                merges.Add(pieces[0] + " " + pieces[1]);
                Add(pieces[0] + pieces[1]);
            }
        }
        Add(ClipTokenizer.StartOfTextToken);
        Add(ClipTokenizer.EndOfTextToken);
        return (vocab, merges);
    }

    /// <summary>CLIP's BPE on one word: start from characters (the last with &lt;/w&gt;) and repeatedly apply the
    /// best-ranked merge present, every occurrence left to right.</summary>
    static List<string> Segment(string word, List<string> merges)
    {
        var rank = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < merges.Count; i++) rank.TryAdd(merges[i], i);
        var pieces = word.Select(c => c.ToString()).ToList();
        pieces[^1] += EndOfWord;
        while (pieces.Count > 1)
        {
            int best = -1, bestRank = int.MaxValue;
            for (int i = 0; i + 1 < pieces.Count; i++)
                if (rank.TryGetValue(pieces[i] + " " + pieces[i + 1], out var r) && r < bestRank) (best, bestRank) = (i, r);
            if (best < 0) break;
            var (a, b) = (pieces[best], pieces[best + 1]);
            var next = new List<string>(pieces.Count);
            for (int i = 0; i < pieces.Count; i++)
                if (i + 1 < pieces.Count && pieces[i] == a && pieces[i + 1] == b) { next.Add(a + b); i++; }
                else next.Add(pieces[i]);
            pieces = next;
        }
        return pieces;
    }

    /// <summary>Writes vocab.json and merges.txt into <paramref name="directory"/> and checks that every word
    /// became exactly one token (merge chains of different words could otherwise interfere).</summary>
    public static ClipTokenizer Write(string directory, SceneVocabulary? vocabulary = null)
    {
        var words = Words(vocabulary ?? SceneVocabulary.Default);
        var (vocab, merges) = Build(words);
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, "vocab.json"), JsonSerializer.Serialize(vocab));
        File.WriteAllLines(Path.Combine(directory, "merges.txt"), ["#version: 0.2", .. merges]);
        var tokenizer = ClipTokenizer.Load(directory);
        foreach (var word in words)
            if (tokenizer.Encode(word) is not [var id] || tokenizer.Token(id) != word + EndOfWord)
                throw new InvalidOperationException($"Vocabulary word '{word}' does not encode to a single token.");
        return tokenizer;
    }
}
