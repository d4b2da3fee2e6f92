using System.IO.Compression;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;

namespace MaskInversion.Core.Text;

/// <summary>OpenAI CLIP's byte-level BPE tokenizer (<c>simple_tokenizer.py</c>). Cleaning, the CLIP
/// pre-tokenisation regex and the bytes→unicode mapping are done here; the merge loop itself is
/// Microsoft.ML.Tokenizers' <see cref="BpeTokenizer"/> with the <c>&lt;/w&gt;</c> end-of-word suffix,
/// fed one pre-tokenised, byte-encoded word at a time so its own splitting never applies.
/// With a reduced vocabulary lacking some byte characters, those characters are skipped (the package's
/// BPE without an unknown token); OpenAI's vocabulary holds all 256 bytes, so nothing is lost there.
/// Instances are immutable after construction.</summary>
public sealed partial class ClipTokenizer
{
    public const string StartOfTextToken = "<|startoftext|>";
    public const string EndOfTextToken = "<|endoftext|>";
    const string EndOfWord = "</w>";

    /// <summary>Number of merges OpenAI's simple_tokenizer.py reads from the gz file (49152 − 256 − 2).</summary>
    const int OpenAiMergeCount = 49152 - 256 - 2;

    static readonly char[] ByteToChar = BuildByteToChar();
    static readonly Dictionary<char, byte> CharToByte = ByteToChar.Select((c, b) => (c, b)).ToDictionary(p => p.c, p => (byte)p.b);

    readonly BpeTokenizer bpe;
    readonly string[] idToToken;
    readonly Dictionary<string, int> specials;

    public int VocabSize => idToToken.Length;
    public int StartOfText { get; }
    public int EndOfText { get; }

    ClipTokenizer(IReadOnlyDictionary<string, int> vocab, IReadOnlyList<string> merges, string source)
    {
        if (!vocab.TryGetValue(StartOfTextToken, out var sot) || !vocab.TryGetValue(EndOfTextToken, out var eot))
            throw new InvalidDataException($"{source}: the vocabulary lacks {StartOfTextToken} or {EndOfTextToken}.");
        StartOfText = sot;
        EndOfText = eot;
        specials = new() { [StartOfTextToken] = sot, [EndOfTextToken] = eot };

        var size = vocab.Values.Max() + 1;
        if (size != vocab.Count)
            throw new InvalidDataException($"{source}: vocabulary ids must be dense 0..{vocab.Count - 1}, found max id {size - 1}.");
        idToToken = new string[size];
        foreach (var (token, id) in vocab)
        {
            if (id < 0) throw new InvalidDataException($"{source}: negative id {id} for '{token}'.");
            if (idToToken[id] is { } other) throw new InvalidDataException($"{source}: id {id} is given to both '{other}' and '{token}'.");
            idToToken[id] = token;
        }

        // The package's default pre-tokenizer would split byte-encoded words again ("'s", "Ã¨"); each
        // call already gets one CLIP word, so hand it over whole.
        bpe = BpeTokenizer.Create(new BpeOptions(vocab)
        {
            Merges = merges,
            EndOfWordSuffix = EndOfWord,
            PreTokenizer = new RegexPreTokenizer(WholeWord(), null),
        });
    }

    /// <summary>Loads OpenAI's <c>bpe_simple_vocab_16e6.txt.gz</c> and builds the vocabulary exactly as
    /// simple_tokenizer.py does (SOT = 49406, EOT = 49407).</summary>
    public static ClipTokenizer FromBpeVocabGz(string path)
    {
        RequireFile(path, "BPE vocabulary");
        string[] lines;
        using (var gz = new GZipStream(File.OpenRead(path), CompressionMode.Decompress))
        using (var reader = new StreamReader(gz, Encoding.UTF8))
            lines = reader.ReadToEnd().Split('\n');
        if (lines.Length < OpenAiMergeCount + 1)
            throw new InvalidDataException($"{path}: expected at least {OpenAiMergeCount + 1} lines, found {lines.Length}.");
        var merges = lines.Skip(1).Take(OpenAiMergeCount).ToArray();

        // Order matters: the ids are the list positions in simple_tokenizer.py.
        var tokens = new List<string>(2 * 256 + merges.Length + 2);
        tokens.AddRange(BytesToUnicodeOrder().Select(c => c.ToString()));
        tokens.AddRange(BytesToUnicodeOrder().Select(c => c + EndOfWord));
        tokens.AddRange(merges.Select(m => m.Replace(" ", "")));
        tokens.Add(StartOfTextToken);
        tokens.Add(EndOfTextToken);
        var vocab = new Dictionary<string, int>(tokens.Count);
        for (int i = 0; i < tokens.Count; i++)
            if (!vocab.TryAdd(tokens[i], i))
                throw new InvalidDataException($"{path}: token '{tokens[i]}' occurs twice.");
        return new ClipTokenizer(vocab, merges, path);
    }

    /// <summary>Hugging Face layout: <c>vocab.json</c> (token → id) and <c>merges.txt</c> (optional
    /// <c>#version</c> header, then one "left right" pair per line in merge priority order).</summary>
    public static ClipTokenizer FromVocabAndMerges(string vocabJsonPath, string mergesTxtPath)
    {
        RequireFile(vocabJsonPath, "vocab.json");
        RequireFile(mergesTxtPath, "merges.txt");
        var vocab = JsonSerializer.Deserialize<Dictionary<string, int>>(File.ReadAllText(vocabJsonPath))
            ?? throw new InvalidDataException($"{vocabJsonPath}: not a JSON object of token ids.");
        var merges = File.ReadAllLines(mergesTxtPath)
            .Where((line, i) => line.Length > 0 && !(i == 0 && line.StartsWith("#version", StringComparison.Ordinal)))
            .ToArray();
        foreach (var merge in merges)
            if (merge.Split(' ').Length != 2)
                throw new InvalidDataException($"{mergesTxtPath}: malformed merge line '{merge}'.");
        return new ClipTokenizer(vocab, merges, vocabJsonPath);
    }

    /// <summary>Picks the loader from the path: a <c>.gz</c> file is OpenAI's BPE file; a directory or a
    /// <c>vocab.json</c> means the Hugging Face pair with <c>merges.txt</c> beside it.</summary>
    public static ClipTokenizer Load(string path)
    {
        if (Directory.Exists(path))
            return FromVocabAndMerges(Path.Combine(path, "vocab.json"), Path.Combine(path, "merges.txt"));
        if (path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase))
            return FromBpeVocabGz(path);
        if (path.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
            return FromVocabAndMerges(path, Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, "merges.txt"));
        if (!File.Exists(path))
            throw new FileNotFoundException($"Tokenizer not found: '{path}' is neither a file nor a directory.", path);
        throw new ArgumentException($"Cannot tell the tokenizer format of '{path}': pass a bpe_*.txt.gz file, a vocab.json, or a directory holding vocab.json and merges.txt.", nameof(path));
    }

    /// <summary>BPE ids of the cleaned text, without SOT/EOT.</summary>
    public int[] Encode(string text)
    {
        var ids = new List<int>();
        foreach (Match piece in ClipWords().Matches(Clean(text)))
        {
            if (specials.TryGetValue(piece.Value, out var special)) { ids.Add(special); continue; }
            var bytes = Encoding.UTF8.GetBytes(piece.Value);
            var word = new string(Array.ConvertAll(bytes, b => ByteToChar[b]));
            ids.AddRange(bpe.EncodeToIds(word));
        }
        return [.. ids];
    }

    /// <summary>SOT + ids + EOT, zero padded to <paramref name="contextLength"/>; too long a text is cut
    /// and its last slot overwritten with EOT (OpenCLIP), so pooling at the EOT still works.</summary>
    public long[] Tokenize(string text, int contextLength = 77)
    {
        if (contextLength < 2) throw new ArgumentOutOfRangeException(nameof(contextLength), "The context must hold at least SOT and EOT.");
        var ids = Encode(text);
        var row = new long[contextLength];
        row[0] = StartOfText;
        var n = Math.Min(ids.Length, contextLength - 2);
        for (int i = 0; i < n; i++) row[i + 1] = ids[i];
        row[Math.Min(ids.Length + 1, contextLength - 1)] = EndOfText;
        return row;
    }

    /// <summary>(B, contextLength) token rows, ready for <c>torch.tensor</c>.</summary>
    public long[,] TokenizeBatch(IReadOnlyList<string> texts, int contextLength = 77)
    {
        var batch = new long[texts.Count, contextLength];
        for (int b = 0; b < texts.Count; b++)
        {
            var row = Tokenize(texts[b], contextLength);
            for (int i = 0; i < contextLength; i++) batch[b, i] = row[i];
        }
        return batch;
    }

    /// <summary>Text of the ids as simple_tokenizer.py decodes it: bytes back to UTF-8 (invalid
    /// sequences become U+FFFD) and each <c>&lt;/w&gt;</c> a space. Special and padding ids are kept.</summary>
    public string Decode(IEnumerable<int> ids)
    {
        var bytes = new List<byte>();
        foreach (var id in ids)
            foreach (var c in Token(id))
                bytes.Add(CharToByte.TryGetValue(c, out var b) ? b : (byte)'?');
        return Encoding.UTF8.GetString([.. bytes]).Replace(EndOfWord, " ");
    }

    /// <summary>The vocabulary entry of one id (byte-level characters, with <c>&lt;/w&gt;</c>).</summary>
    public string Token(int id) =>
        id >= 0 && id < idToToken.Length ? idToToken[id] : throw new ArgumentOutOfRangeException(nameof(id), $"Token id {id} is outside the vocabulary of {idToToken.Length}.");

    /// <summary>One line per token of <see cref="Tokenize"/> up to the EOT: position, id and the readable
    /// piece, for the CLI's <c>tokenize</c> command.</summary>
    public string Describe(string text, int contextLength = 77)
    {
        var row = Tokenize(text, contextLength);
        var end = Array.IndexOf(row, (long)EndOfText);
        var sb = new StringBuilder();
        sb.AppendLine($"text: \"{text}\" → {end + 1} tokens (context {contextLength})");
        for (int i = 0; i <= end; i++)
        {
            var id = (int)row[i];
            var piece = id == StartOfText || id == EndOfText ? Token(id) : Decode([id]);
            sb.AppendLine($"{i,4} {id,6}  {piece.Replace(" ", "·")}");
        }
        return sb.ToString();
    }

    /// <summary>CLIP's cleaning without ftfy: HTML-unescape twice, collapse whitespace, trim, lowercase.</summary>
    public static string Clean(string text)
    {
        var unescaped = WebUtility.HtmlDecode(WebUtility.HtmlDecode(text)) ?? "";
        return Whitespace().Replace(unescaped, " ").Trim().ToLowerInvariant();
    }

    /// <summary>GPT-2's bytes_to_unicode: printable Latin-1 bytes map to themselves, the rest to 256+n,
    /// so every byte has a visible, non-whitespace character.</summary>
    static char[] BuildByteToChar()
    {
        var map = new char[256];
        var order = BytesToUnicodeOrderBytes();
        int n = 0;
        foreach (var b in order)
            map[b] = IsPrintable(b) ? (char)b : (char)(256 + n++);
        return map;
    }

    static bool IsPrintable(int b) => b is >= '!' and <= '~' or >= '¡' and <= '¬' or >= '®' and <= 'ÿ';

    /// <summary>Byte order of the Python dict: printable bytes first, then the rest ascending.</summary>
    static IEnumerable<int> BytesToUnicodeOrderBytes() =>
        Enumerable.Range(0, 256).Where(IsPrintable).Concat(Enumerable.Range(0, 256).Where(b => !IsPrintable(b)));

    /// <summary>The 256 byte-level characters in vocabulary order (internal: vocabulary builders need the same alphabet).</summary>
    internal static IEnumerable<char> BytesToUnicodeOrder() => BytesToUnicodeOrderBytes().Select(b => ByteToChar[b]);

    static void RequireFile(string path, string what)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"Tokenizer {what} not found: {path}", path);
    }

    [GeneratedRegex(@"<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex ClipWords();

    [GeneratedRegex(@"[\s\S]+")]
    private static partial Regex WholeWord();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();
}
