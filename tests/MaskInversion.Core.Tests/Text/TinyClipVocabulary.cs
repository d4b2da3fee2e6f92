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
        var vocabulary = new WordVocabulary(words ?? DefaultWords);
        Directory = Path.Combine(Path.GetTempPath(), "tiny-clip-vocab-" + Guid.NewGuid().ToString("N"));
        vocabulary.Write(Directory);
        var (vocab, merges) = (vocabulary.Vocab, vocabulary.Merges);
        Vocab = vocab;
        Merges = merges;
    }

    public ClipTokenizer Load() => ClipTokenizer.Load(Directory);

    public void Dispose()
    {
        try { System.IO.Directory.Delete(Directory, recursive: true); } catch (IOException) { }
    }
}
