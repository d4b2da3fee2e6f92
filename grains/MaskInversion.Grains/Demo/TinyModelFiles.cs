using System.Text.Json;
using MaskInversion.Core.Models;
using MaskInversion.Core.Text;

namespace MaskInversion.Grains.Demo;

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

        // Single characters, then their word-final forms, then one merge per prefix, so each word is one token.
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
        // SOT/EOT last, as in OpenAI's vocabulary: EOT is the highest id, which argmax pooling relies on.
        Add(ClipTokenizer.StartOfTextToken);
        Add(ClipTokenizer.EndOfTextToken);

        var tokenizer = Path.Combine(folder, "tokenizer");
        Directory.CreateDirectory(tokenizer);
        File.WriteAllText(Path.Combine(tokenizer, "vocab.json"), JsonSerializer.Serialize(vocab));
        File.WriteAllLines(Path.Combine(tokenizer, "merges.txt"), ["#version: 0.2", .. merges]);

        var config = ClipConfig.Tiny(imageSize, patch, width, layers, headWidth: 8, embed: embed, vocab: vocab.Count, ctx: 16) with { Name = "tiny-clip" };
        var configPath = Path.Combine(folder, "tiny-clip.json");
        File.WriteAllText(configPath, config.ToOpenClipJson());
        return new TinyModelFiles(configPath, tokenizer, vocab.Count);
    }
}
