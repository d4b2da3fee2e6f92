using MaskInversion.Core.Models;
using MaskInversion.Core.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace MaskInversion.Core.Tests.Text;

public class ZeroShotClassifierTests
{
    static readonly string[] Classes = ["cat", "dog", "bird", "car"];
    static readonly string[] Templates = ["a photo of a {}.", "a bad photo of the {}.", "the toy {}.", "a {} in a video game.", "a sketch of a {}."];

    static (ClipModel Model, ClipTokenizer Tokenizer) Tiny(TinyClipVocabulary vocab, long seed = 7)
    {
        var tokenizer = vocab.Load();
        var model = ClipModel.CreateRandom(ClipConfig.Tiny(vocab: tokenizer.VocabSize, ctx: 16), seed);
        model.eval();
        return (model, tokenizer);
    }

    [Fact]
    public void ClassEmbeddingsAreUnitRowsOfEmbedWidth()
    {
        using var vocab = new TinyClipVocabulary();
        var (model, tokenizer) = Tiny(vocab);
        using var _ = model;
        using var zs = new ZeroShotClassifier(model, tokenizer, Classes, Templates);
        Assert.Equal(new long[] { Classes.Length, model.Config.EmbedDim }, zs.ClassEmbeddings.shape);
        Assert.Equal(ScalarType.Float32, zs.ClassEmbeddings.dtype);
        using var norms = zs.ClassEmbeddings.norm(1);
        Assert.All(norms.data<float>().ToArray(), n => Assert.Equal(1f, n, 1e-5f));
        Assert.False(zs.ClassEmbeddings.requires_grad);
    }

    [Fact]
    public void ResultIsDeterministicAndIndependentOfBatchSize()
    {
        using var vocab = new TinyClipVocabulary();
        var (model, tokenizer) = Tiny(vocab);
        using var _ = model;
        using var whole = ZeroShotClassifier.BuildClassEmbeddings(model, tokenizer, Classes, Templates);
        using var again = ZeroShotClassifier.BuildClassEmbeddings(model, tokenizer, Classes, Templates);
        // 3 does not divide 5 templates, so batches straddle classes.
        using var batched = ZeroShotClassifier.BuildClassEmbeddings(model, tokenizer, Classes, Templates, batchSize: 3);
        Assert.Equal(whole.data<float>().ToArray(), again.data<float>().ToArray());
        Assert.True(whole.allclose(batched, rtol: 1e-5, atol: 1e-6));
    }

    [Fact]
    public void SingleTemplateEqualsNormalisedTextEmbeddingOfThatPrompt()
    {
        using var vocab = new TinyClipVocabulary();
        var (model, tokenizer) = Tiny(vocab);
        using var _ = model;
        using var embeddings = ZeroShotClassifier.BuildClassEmbeddings(model, tokenizer, Classes, PromptTemplates.Single);
        for (int c = 0; c < Classes.Length; c++)
        {
            using var scope = torch.NewDisposeScope();
            using var noGrad = torch.no_grad();
            var tokens = torch.tensor(tokenizer.Tokenize($"a photo of a {Classes[c]}.", 16), dtype: ScalarType.Int64).unsqueeze(0);
            var expected = nn.functional.normalize(model.EncodeText(tokens), p: 2, dim: -1)[0];
            Assert.True(expected.allclose(embeddings[c], rtol: 1e-5, atol: 1e-6), $"class {Classes[c]}");
        }
    }

    [Fact]
    public void MultiTemplateEqualsRenormalisedMeanOfPromptEmbeddings()
    {
        using var vocab = new TinyClipVocabulary();
        var (model, tokenizer) = Tiny(vocab);
        using var _ = model;
        using var embeddings = ZeroShotClassifier.BuildClassEmbeddings(model, tokenizer, Classes, Templates);
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var prompts = Templates.Select(t => PromptTemplates.Fill(t, "dog")).ToArray();
        var unit = nn.functional.normalize(model.EncodeText(torch.tensor(tokenizer.TokenizeBatch(prompts, 16))), p: 2, dim: -1);
        var expected = nn.functional.normalize(unit.mean([0]), p: 2, dim: -1);
        Assert.True(expected.allclose(embeddings[1], rtol: 1e-5, atol: 1e-6));
        // Different classes really do get different directions.
        Assert.False(embeddings[0].allclose(embeddings[1], rtol: 1e-3, atol: 1e-3));
    }

    [Fact]
    public void ScoresAreCosinesAndTopKRanksThem()
    {
        using var vocab = new TinyClipVocabulary();
        var (model, tokenizer) = Tiny(vocab);
        using var _ = model;
        using var zs = new ZeroShotClassifier(model, tokenizer, Classes, Templates);
        using var scope = torch.NewDisposeScope();
        using var generator = new torch.Generator(3);
        // Class 2's own embedding, scaled: cosine 1 with itself whatever the norm.
        var queries = torch.stack([zs.ClassEmbeddings[2] * 3.5, torch.randn(model.Config.EmbedDim, generator: generator)]);
        var scores = zs.Scores(queries);
        Assert.Equal(new long[] { 2, Classes.Length }, scores.shape);
        Assert.Equal(1f, scores[0, 2].item<float>(), 1e-5f);
        Assert.True(scores.abs().le(1 + 1e-5).all().item<bool>());

        var top = zs.TopK(queries, k: 3);
        Assert.Equal(2, top.Length);
        Assert.Equal(2, top[0][0].ClassIndex);
        Assert.Equal(1f, top[0][0].Score, 1e-5f);
        var row1 = scores[1].data<float>().ToArray();
        var expectedOrder = Enumerable.Range(0, Classes.Length).OrderByDescending(i => row1[i]).Take(3).ToArray();
        Assert.Equal(expectedOrder, top[1].Select(p => p.ClassIndex).ToArray());
        Assert.All(top[1], p => Assert.Equal(row1[p.ClassIndex], p.Score, 1e-6f));

        Assert.Equal(Classes.Length, zs.TopK(queries, k: 99)[0].Length);
        Assert.Throws<ArgumentException>(() => zs.Scores(torch.zeros(2, model.Config.EmbedDim + 1)));
    }

    [Fact]
    public void TokenizerLargerThanModelVocabularyIsRejected()
    {
        using var vocab = new TinyClipVocabulary();
        var tokenizer = vocab.Load();
        using var model = ClipModel.CreateRandom(ClipConfig.Tiny(vocab: tokenizer.VocabSize - 1, ctx: 16), 1);
        Assert.Throws<ArgumentException>(() => ZeroShotClassifier.BuildClassEmbeddings(model, tokenizer, Classes, Templates));
    }
}
