using MaskInversion.Core.Text;

namespace MaskInversion.Core.Tests.Text;

public class PromptTemplatesTests
{
    [Fact]
    public void ImageNetSetHasOpenAisEightyDistinctTemplatesInOrder()
    {
        var t = PromptTemplates.ImageNet80;
        Assert.Equal(80, t.Count);
        Assert.Equal(80, t.Distinct().Count());
        Assert.Equal("a bad photo of a {}.", t[0]);
        Assert.Equal("a photo of many {}.", t[1]);
        Assert.Equal("a {} in a video game.", t[35]);
        Assert.Equal("a photo of a {}.", t[39]);
        Assert.Equal("a tattoo of the {}.", t[79]);
    }

    [Fact]
    public void EveryTemplateHasExactlyOnePlaceholder() =>
        Assert.All(PromptTemplates.ImageNet80.Concat(PromptTemplates.Single),
            template => Assert.Equal(2, template.Split("{}").Length));

    [Fact]
    public void GetResolvesNamesAndRejectsUnknownOnes()
    {
        Assert.Same(PromptTemplates.ImageNet80, PromptTemplates.Get("ImageNet80"));
        Assert.Equal(["a photo of a {}."], PromptTemplates.Get("single"));
        Assert.Throws<ArgumentException>(() => PromptTemplates.Get("imagenet81"));
    }

    [Fact]
    public void FillReplacesThePlaceholder()
    {
        Assert.Equal("a photo of a golden retriever.", PromptTemplates.Fill("a photo of a {}.", "golden retriever"));
        Assert.Throws<ArgumentException>(() => PromptTemplates.Fill("a photo.", "cat"));
    }
}
