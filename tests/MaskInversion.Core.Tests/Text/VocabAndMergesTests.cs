using MaskInversion.Core.Text;

namespace MaskInversion.Core.Tests.Text;

public class VocabAndMergesTests
{
    [Fact]
    public void ListedWordsEncodeToSingleTokensWithSpecialIdsFromTheVocabulary()
    {
        using var tiny = new TinyClipVocabulary();
        var tok = tiny.Load();
        Assert.Equal(tiny.Vocab.Count, tok.VocabSize);
        Assert.Equal(tiny.Vocab["<|startoftext|>"], tok.StartOfText);
        Assert.Equal(tiny.Vocab["<|endoftext|>"], tok.EndOfText);
        Assert.Equal(tok.VocabSize - 1, tok.EndOfText);

        int Id(string token) => tiny.Vocab[token];
        Assert.Equal(
            new[] { Id("a</w>"), Id("photo</w>"), Id("of</w>"), Id("a</w>"), Id("cat</w>"), Id(".</w>") },
            tok.Encode("A photo of a CAT."));
        Assert.Equal("a photo of a cat . ", tok.Decode(tok.Encode("a photo of a cat.")));
    }

    [Fact]
    public void UnlistedWordsFallBackToMergedPrefixesAndCharacters()
    {
        using var tiny = new TinyClipVocabulary();
        var tok = tiny.Load();
        // "cab": "c a" merges (from "cat"), nothing joins "ca" with "b</w>".
        Assert.Equal(new[] { tiny.Vocab["ca"], tiny.Vocab["b</w>"] }, tok.Encode("cab"));
        // "dot": "d o" merges (from "dog"), then "t</w>" stays alone.
        Assert.Equal(new[] { tiny.Vocab["do"], tiny.Vocab["t</w>"] }, tok.Encode("dot"));
    }

    [Fact]
    public void TokenizeUsesTheVocabularysSpecialIds()
    {
        using var tiny = new TinyClipVocabulary();
        var tok = tiny.Load();
        var row = tok.Tokenize("a dog", contextLength: 6);
        Assert.Equal(new long[] { tok.StartOfText, tiny.Vocab["a</w>"], tiny.Vocab["dog</w>"], tok.EndOfText, 0, 0 }, row);
    }

    [Fact]
    public void LoadAcceptsTheDirectoryOrTheVocabJsonAndChecksMergesBeside()
    {
        using var tiny = new TinyClipVocabulary();
        var viaJson = ClipTokenizer.Load(Path.Combine(tiny.Directory, "vocab.json"));
        Assert.Equal(tiny.Load().Encode("the bird"), viaJson.Encode("the bird"));

        File.Delete(Path.Combine(tiny.Directory, "merges.txt"));
        var error = Assert.Throws<FileNotFoundException>(() => ClipTokenizer.Load(tiny.Directory));
        Assert.Contains("merges.txt", error.Message);
    }

    [Fact]
    public void CharactersOutsideAReducedVocabularyAreSkipped()
    {
        using var tiny = new TinyClipVocabulary();
        var tok = tiny.Load();
        // No "!", digits or "ö" bytes in the tiny vocabulary (OpenAI's has all 256 bytes, so never skips).
        Assert.Equal(new[] { tiny.Vocab["cat</w>"], tiny.Vocab["d"], tiny.Vocab["g</w>"] }, tok.Encode("cat! dög 42"));
    }

    [Fact]
    public void VocabularyWithoutSpecialTokensIsRejected()
    {
        var dir = Path.Combine(Path.GetTempPath(), "no-specials-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            File.WriteAllText(Path.Combine(dir, "vocab.json"), """{"a": 0, "a</w>": 1}""");
            File.WriteAllText(Path.Combine(dir, "merges.txt"), "#version: 0.2\n");
            var error = Assert.Throws<InvalidDataException>(() => ClipTokenizer.Load(dir));
            Assert.Contains("<|startoftext|>", error.Message);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}
