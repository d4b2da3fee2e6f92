using MaskInversion.Core.Imaging;
using MaskInversion.Core.Models;
using MaskInversion.Core.Pipeline;
using MaskInversion.Core.Pipeline.Methods;
using MaskInversion.Core.Tests.Text;

namespace MaskInversion.Core.Tests.Pipeline;

public sealed class RegionMethodsTests
{
    [Fact]
    public void Groups_expand_in_order_without_repeats()
    {
        var methods = RegionMethods.ParseList("clip, baselines,MaskInversion,ablations");
        Assert.Equal(["clip", "crop", "masked_crop", "red_circle", "blur", "maskinversion", "maskinversion_box", "maskinversion_erode", "maskinversion_dilate"],
            methods.Select(m => m.Name));
        Assert.Same(RegionMethod.MaskInversion, methods[5]);
        Assert.True(methods[5].IsInversion);
        Assert.False(methods[0].IsInversion);
        Assert.Equal(RegionMethods.All.Count, RegionMethods.ParseList("all").Count);
    }

    [Fact]
    public void An_unknown_name_is_refused_with_the_known_ones()
    {
        var e = Assert.Throws<ArgumentException>(() => RegionMethods.ParseList("maskinversion,sharpen"));
        Assert.Contains("'sharpen'", e.Message);
        Assert.Contains("red_circle", e.Message);
        Assert.Throws<ArgumentException>(() => RegionMethods.Register(new GlobalEmbeddingMethod("CLIP")));
    }

    /// <summary>The seam: a method registered by name runs through the engine like a built-in. A visual prompt that
    /// leaves the image as it is must give the global embedding (the CLIP baseline) to fp32 round-off.</summary>
    [Fact]
    public void A_registered_method_runs_through_the_engine()
    {
        var whole = new VisualPromptMethod("test_whole_image", (image, _) => image);
        RegionMethods.Register(whole, "test_group");
        Assert.Same(whole, RegionMethods.ParseList("test_group").Single());

        using var vocabulary = new TinyClipVocabulary();
        var config = ClipConfig.Tiny(vocab: vocabulary.Vocab.Count);
        var settings = new EngineSettings { ImageSize = 32, ClassNames = ["cat", "dog", "bird"], Templates = "single", TopK = 3 };
        using var engine = new RegionEngine(ClipModel.CreateRandom(config, seed: 5), vocabulary.Load(), settings);
        var rng = new Random(3);
        var pixels = new byte[40 * 30 * 3];
        rng.NextBytes(pixels);
        using var prepared = engine.Prepare("img", new RgbImage(40, 30, pixels));
        var mask = new BinaryMask(40, 30, Enumerable.Range(0, 40 * 30).Select(i => (byte)(i % 40 < 20 ? 1 : 0)).ToArray());

        var results = engine.Evaluate(prepared, [new MaskInput("m", mask)], RegionMethods.ParseList("clip,test_whole_image"), returnEmbeddings: true);

        Assert.Equal(["clip", "test_whole_image"], results.Select(r => r.Method.Name));
        var (global, prompted) = (results[0], results[1]);
        Assert.Equal(global.TopClasses, prompted.TopClasses);
        for (int i = 0; i < global.Embedding!.Length; i++) Assert.Equal(global.Embedding[i], prompted.Embedding![i], 1e-4);
    }

    [Fact]
    public void Model_families_resolve_by_name_or_by_what_they_load()
    {
        Assert.IsType<OpenClipFamily>(ModelFamilies.Resolve(new EngineSettings { Model = "ViT-B-16" }));
        Assert.IsType<OpenClipFamily>(ModelFamilies.Resolve(new EngineSettings { ModelFamily = "OpenCLIP", Model = "ViT-B-16" }));
        var e = Assert.Throws<ArgumentException>(() => ModelFamilies.Resolve(new EngineSettings { ModelFamily = "siglip", Model = "x" }));
        Assert.Contains("'siglip'", e.Message);
        Assert.Contains("openclip", e.Message);
    }
}
