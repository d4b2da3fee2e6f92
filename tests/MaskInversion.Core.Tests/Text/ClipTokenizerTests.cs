using MaskInversion.Core.Text;

namespace MaskInversion.Core.Tests.Text;

public class ClipTokenizerTests
{
    static readonly Lazy<ClipTokenizer> openAi = new(() => ClipTokenizer.FromBpeVocabGz(SharedData.OpenClip("bpe_simple_vocab_16e6.txt.gz")));
    static ClipTokenizer OpenAi => openAi.Value;

    static long[] Row(params long[] ids)
    {
        var row = new long[77];
        ids.CopyTo(row, 0);
        return row;
    }

    [Fact]
    public void OpenAiVocabularyHasClipSizeAndSpecialIds()
    {
        Assert.Equal(49408, OpenAi.VocabSize);
        Assert.Equal(49406, OpenAi.StartOfText);
        Assert.Equal(49407, OpenAi.EndOfText);
        Assert.Equal("!", OpenAi.Token(0));
        Assert.Equal("a</w>", OpenAi.Token(320));
    }

    [Theory]
    [InlineData("a photo of a cat", new long[] { 49406, 320, 1125, 539, 320, 2368, 49407 })]
    [InlineData("Hello World!", new long[] { 49406, 3306, 1002, 256, 49407 })]
    [InlineData("a diagram", new long[] { 49406, 320, 22697, 49407 })]
    [InlineData("a dog", new long[] { 49406, 320, 1929, 49407 })]
    public void MatchesOpenAiClipIds(string text, long[] expected) =>
        Assert.Equal(Row(expected), OpenAi.Tokenize(text));

    // Expected ids from a line-by-line Python transcription of simple_tokenizer.py (minus ftfy) run on
    // the same gz file: contractions, digits split one by one, punctuation runs, multi-byte UTF-8.
    [Theory]
    [InlineData("it's a dog's life, isn't it?", new[] { 585, 568, 320, 1929, 568, 970, 267, 2923, 713, 585, 286 })]
    [InlineData("3D rendering of 1984 cars...", new[] { 274, 323, 21339, 539, 272, 280, 279, 275, 3346, 678 })]
    [InlineData("crème brûlée 🐱 東京", new[] { 1075, 12138, 614, 711, 127, 119, 75, 13489, 22979, 48338, 21078, 361 })]
    [InlineData("a tattoo of the supercalifragilisticexpialidocious.", new[] { 320, 6325, 539, 518, 1642, 2857, 13093, 2076, 5868, 26850, 835, 639, 38466, 269 })]
    [InlineData("the {} in a video game.", new[] { 518, 39025, 530, 320, 1455, 1063, 269 })]
    [InlineData("Don't STOP—believin'", new[] { 847, 713, 1691, 2005, 4972, 530, 262 })]
    public void MatchesReferenceBpeOnHarderText(string text, int[] expected) =>
        Assert.Equal(expected, OpenAi.Encode(text));

    [Fact]
    public void CleaningUnescapesHtmlTwiceCollapsesWhitespaceAndLowercases()
    {
        Assert.Equal("a & b", ClipTokenizer.Clean("  A &amp;amp;\t\n  B "));
        Assert.Equal(OpenAi.Tokenize("a photo of a cat"), OpenAi.Tokenize("  A   PHOTO\tof\n a Cat "));
        Assert.Equal(OpenAi.Encode("cats & dogs"), OpenAi.Encode("cats &amp;amp; dogs"));
        Assert.NotEqual(OpenAi.Encode("cats & dogs"), OpenAi.Encode("cats and dogs"));
    }

    [Fact]
    public void EmptyTextIsStartEndAndPadding() =>
        Assert.Equal(Row(49406, 49407), OpenAi.Tokenize("   "));

    [Fact]
    public void LongTextIsTruncatedKeepingEndOfTextLast()
    {
        var text = string.Join(" ", Enumerable.Repeat("cat", 100));
        var row = OpenAi.Tokenize(text);
        Assert.Equal(77, row.Length);
        Assert.Equal(49406, row[0]);
        Assert.All(row[1..76], id => Assert.Equal(2368, id));
        Assert.Equal(49407, row[76]);

        // Exactly 75 words fit without cutting; 76 replace the last word by EOT.
        var fits = OpenAi.Tokenize(string.Join(" ", Enumerable.Repeat("cat", 75)));
        Assert.Equal(2368, fits[75]);
        Assert.Equal(49407, fits[76]);
    }

    [Fact]
    public void ShortContextPadsWithZeros()
    {
        var row = OpenAi.Tokenize("a dog", contextLength: 8);
        Assert.Equal(new long[] { 49406, 320, 1929, 49407, 0, 0, 0, 0 }, row);
    }

    [Fact]
    public void BatchStacksRows()
    {
        var batch = OpenAi.TokenizeBatch(["a dog", "a photo of a cat"], 10);
        Assert.Equal(2, batch.GetLength(0));
        Assert.Equal(10, batch.GetLength(1));
        Assert.Equal(1929, batch[0, 2]);
        Assert.Equal(0, batch[0, 4]);
        Assert.Equal(2368, batch[1, 5]);
        Assert.Equal(49407, batch[1, 6]);
    }

    [Fact]
    public void SpecialTokensInTextMapToTheirIds() =>
        Assert.Equal(new[] { 49406, 320, 1929, 49407 }, OpenAi.Encode("<|startoftext|>a dog<|endoftext|>"));

    [Fact]
    public void DecodeRoundTripsCleanedTextIncludingMultiByteCharacters()
    {
        foreach (var text in new[] { "a photo of a cat", "crème brûlée", "東京 🐱" })
            Assert.Equal(text + " ", OpenAi.Decode(OpenAi.Encode(text)));
        // Every piece ends a word, so CLIP's decode spaces punctuation and digits apart.
        Assert.Equal("hello world ! ", OpenAi.Decode(OpenAi.Encode("Hello World!")));
        Assert.Equal("1 9 8 4 ", OpenAi.Decode(OpenAi.Encode("1984")));
        Assert.Equal("<|startoftext|>a dog <|endoftext|>", OpenAi.Decode([49406, 320, 1929, 49407]));
    }

    [Fact]
    public void DescribeListsIdsAndPieces()
    {
        var lines = OpenAi.Describe("a cat").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(5, lines.Length);
        Assert.Contains("49406", lines[1]);
        Assert.Contains("<|startoftext|>", lines[1]);
        Assert.Contains("2368", lines[3]);
        Assert.Contains("cat", lines[3]);
        Assert.Contains("49407", lines[4]);
    }

    [Fact]
    public void LoadDispatchesOnPathAndReportsMissingFiles()
    {
        var gz = ClipTokenizer.Load(SharedData.OpenClip("bpe_simple_vocab_16e6.txt.gz"));
        Assert.Equal(OpenAi.Tokenize("a photo of a cat"), gz.Tokenize("a photo of a cat"));

        var missing = Path.Combine(Path.GetTempPath(), "no-such-tokenizer-" + Guid.NewGuid().ToString("N"));
        Assert.Throws<FileNotFoundException>(() => ClipTokenizer.Load(missing));
        Assert.Throws<FileNotFoundException>(() => ClipTokenizer.Load(missing + ".txt.gz"));
        Directory.CreateDirectory(missing);
        try
        {
            var error = Assert.Throws<FileNotFoundException>(() => ClipTokenizer.Load(missing));
            Assert.Contains("vocab.json", error.Message);
        }
        finally { Directory.Delete(missing, recursive: true); }
    }
}
