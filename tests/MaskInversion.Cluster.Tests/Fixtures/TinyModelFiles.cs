using System.Text.Json;
using MaskInversion.Core.Models;
using MaskInversion.Core.Text;

namespace MaskInversion.Cluster.Tests;

/// <summary>
/// A small random CLIP that runs anywhere in seconds: an OpenCLIP config JSON plus a vocab.json/merges.txt built
/// from the words of the prompts, so no downloaded BPE file is needed. Until trained weights exist, this is the
/// demo's and the tests' model; swapping in real ones means passing --model/--weights/--tokenizer instead.
/// </summary>
public sealed record TinyModelFiles(string ConfigPath, string TokenizerFolder, int VocabSize)
{
    /// <summary>Writes the files under <paramref name="folder"/> (idempotent: same inputs, same files).</summary>
    public static TinyModelFiles Write(string folder, IEnumerable<string> classNames, int imageSize = 32, int patch = 8, int width = 32, int layers = 2, int embed = 16)
    {
        Directory.CreateDirectory(folder);
        var words = "a photo of the".Split(' ')
            .Concat(classNames.SelectMany(n => ClipTokenizer.Clean(n).ToLowerInvariant().Split(' ', StringSplitOptions.RemoveEmptyEntries)))
            .Select(w => new string(w.Where(char.IsAsciiLetterLower).ToArray())).Where(w => w.Length > 0).Distinct().ToList();

        var vocabulary = new WordVocabulary(words);
        var tokenizer = Path.Combine(folder, "tokenizer");
        vocabulary.Write(tokenizer);
        var vocab = vocabulary.Vocab;

        var config = ClipConfig.Tiny(imageSize, patch, width, layers, headWidth: 8, embed: embed, vocab: vocab.Count, ctx: 16) with { Name = "tiny-clip" };
        var configPath = Path.Combine(folder, "tiny-clip.json");
        File.WriteAllText(configPath, config.ToOpenClipJson());
        return new TinyModelFiles(configPath, tokenizer, vocab.Count);
    }
}
