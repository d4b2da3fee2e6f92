using MaskInversion.Core.Models;
using MaskInversion.Core.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace MaskInversion.Core.Tests.Weights;

public class CheckpointLoaderTests
{
    static Dictionary<string, Tensor> Parameters(ClipModel model) =>
        model.named_parameters().ToDictionary(p => p.name, p => (Tensor)p.parameter);

    static void AssertSameParameters(ClipModel expected, ClipModel actual)
    {
        var a = Parameters(expected);
        var b = Parameters(actual);
        Assert.Equal(a.Keys.Order(), b.Keys.Order());
        foreach (var (name, t) in a) Assert.True(TensorAssert.Identical(t, b[name]), name);
    }

    static Tensor Embed(ClipModel model)
    {
        using var _ = torch.no_grad();
        torch.random.manual_seed(5);
        using var pixels = torch.randn(2, 3, 32, 32);
        return model.EncodeImage(pixels);
    }

    [Fact]
    public void OpenClipLayoutLoadsIntoAFreshModel()
    {
        using var dir = new TempDirectory();
        using var scope = torch.NewDisposeScope();
        using var source = ClipModel.CreateRandom(ClipConfig.Tiny(), seed: 1);
        using var target = ClipModel.CreateRandom(ClipConfig.Tiny(), seed: 2);
        Assert.False(TensorAssert.Identical(Embed(source), Embed(target)));
        var path = dir.File("tiny.safetensors");
        CheckpointExporter.SaveOpenClip(source, path);

        var report = CheckpointLoader.Load(target, path);
        Assert.True(report.IsComplete);
        Assert.Equal(CheckpointLayout.OpenClip, report.Layout);
        Assert.Equal(source.parameters().Count(), report.LoadedCount);
        AssertSameParameters(source, target);
        Assert.True(TensorAssert.Identical(Embed(source), Embed(target)));
    }

    [Fact]
    public void LoadingClearsResampledPositions()
    {
        using var dir = new TempDirectory();
        using var scope = torch.NewDisposeScope();
        using var source = ClipModel.CreateRandom(ClipConfig.Tiny(), seed: 1);
        using var target = ClipModel.CreateRandom(ClipConfig.Tiny(), seed: 2);
        var path = dir.File("tiny.safetensors");
        CheckpointExporter.SaveOpenClip(source, path);
        using (torch.no_grad()) target.visual.PositionalEmbedding(8); // cache built from the old weights
        CheckpointLoader.Load(target, path);
        using var _ = torch.no_grad();
        Assert.True(TensorAssert.Identical(source.visual.PositionalEmbedding(8), target.visual.PositionalEmbedding(8)));
    }

    [Theory]
    [InlineData(ScalarType.Float16)]
    [InlineData(ScalarType.BFloat16)]
    public void HalfPrecisionCheckpointsConvertToTheParameterType(ScalarType dtype)
    {
        using var dir = new TempDirectory();
        using var scope = torch.NewDisposeScope();
        using var source = ClipModel.CreateRandom(ClipConfig.Tiny(), seed: 1);
        var path = dir.File("half.safetensors");
        CheckpointExporter.SaveOpenClip(source, path, dtype);
        using var target = CheckpointLoader.LoadModel(ClipConfig.Tiny(), path);
        foreach (var (name, t) in Parameters(source))
        {
            var loaded = Parameters(target)[name];
            Assert.Equal(ScalarType.Float32, loaded.dtype);
            Assert.True(TensorAssert.Identical(t.to(dtype).to(ScalarType.Float32), loaded), name);
        }
    }

    [Fact]
    public void HuggingFaceLayoutLoadsTheSameTensors()
    {
        using var dir = new TempDirectory();
        using var scope = torch.NewDisposeScope();
        using var source = ClipModel.CreateRandom(ClipConfig.Tiny(), seed: 1);
        var hfPath = dir.File("hf.safetensors");
        CheckpointExporter.SaveHuggingFace(source, hfPath);

        using (var file = SafeTensorsFile.Open(hfPath))
        {
            // Spot-check the HF names and orientations the exporter must produce.
            Assert.Equal(new long[] { 16, 32 }, file.Tensors["visual_projection.weight"].Shape);
            Assert.Equal(new long[] { 32, 32 }, file.Tensors["vision_model.encoder.layers.1.self_attn.k_proj.weight"].Shape);
            Assert.Contains("vision_model.pre_layrnorm.weight", file.Tensors.Keys);
            Assert.Contains("text_model.encoder.layers.0.mlp.fc2.bias", file.Tensors.Keys);
            Assert.Equal("I64", file.Tensors["text_model.embeddings.position_ids"].DType);
            using var k = file.Read("vision_model.encoder.layers.1.self_attn.k_proj.weight");
            Assert.True(TensorAssert.Identical(source.visual.transformer.resblocks[1].attn.in_proj_weight.detach().narrow(0, 32, 32), k));
        }

        using var target = ClipModel.CreateRandom(ClipConfig.Tiny(), seed: 2);
        var report = CheckpointLoader.Load(target, hfPath);
        Assert.True(report.IsComplete, report.Describe());
        Assert.Equal(CheckpointLayout.HuggingFace, report.Layout);
        Assert.Equal(["text_model.embeddings.position_ids", "vision_model.embeddings.position_ids"], report.IgnoredKeys);
        AssertSameParameters(source, target);
        Assert.True(TensorAssert.Identical(Embed(source), Embed(target)));
    }

    [Theory]
    [InlineData("module.")]
    [InlineData("state_dict.module.")]
    public void WrapperPrefixesAreStripped(string prefix)
    {
        using var dir = new TempDirectory();
        using var scope = torch.NewDisposeScope();
        using var source = ClipModel.CreateRandom(ClipConfig.Tiny(), seed: 1);
        var path = dir.File("wrapped.safetensors");
        SafeTensorsWriter.Save(path, source.named_parameters().Select(p => (prefix + p.name, (Tensor)p.parameter)));
        using var target = ClipModel.CreateRandom(ClipConfig.Tiny(), seed: 2);
        var report = CheckpointLoader.Load(target, path);
        Assert.Equal(prefix, report.StrippedPrefix);
        AssertSameParameters(source, target);
    }

    [Fact]
    public void AllKeyProblemsAreListedInOneException()
    {
        using var dir = new TempDirectory();
        using var scope = torch.NewDisposeScope();
        using var source = ClipModel.CreateRandom(ClipConfig.Tiny(), seed: 1);
        var state = Parameters(source);
        state.Remove("visual.ln_post.bias");
        state["visual.extra_head.weight"] = torch.zeros(3);
        state["visual.proj"] = torch.zeros(32, 17);
        var path = dir.File("broken.safetensors");
        SafeTensorsWriter.Save(path, state.Select(kv => (kv.Key, kv.Value)));

        using var target = ClipModel.CreateRandom(ClipConfig.Tiny(), seed: 2);
        var before = Parameters(target).ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        var e = Assert.Throws<CheckpointException>(() => CheckpointLoader.Load(target, path));
        Assert.Contains("visual.ln_post.bias", e.Message);
        Assert.Contains("visual.extra_head.weight", e.Message);
        Assert.Contains("visual.proj: expected [32, 16], checkpoint has [32, 17]", e.Message);
        Assert.Contains("checkpoint has embedding dimension 17, config has 16", e.Message);
        Assert.NotNull(e.Report);
        Assert.Equal(["visual.ln_post.bias"], e.Report!.MissingKeys);
        Assert.Equal(["visual.extra_head.weight"], e.Report.UnexpectedKeys);
        Assert.Single(e.Report.ShapeMismatches);
        // Strict failure leaves the model as it was.
        foreach (var (name, t) in Parameters(target)) Assert.True(TensorAssert.Identical(before[name], t), name);

        var lenient = CheckpointLoader.Load(target, path, strict: false);
        Assert.False(lenient.IsComplete);
        Assert.Equal(e.Report.MissingKeys, lenient.MissingKeys);
        Assert.Equal(source.parameters().Count() - 2, lenient.LoadedCount);
        Assert.True(TensorAssert.Identical(source.visual.ln_pre.weight!, target.visual.ln_pre.weight!));
        Assert.True(TensorAssert.Identical(before["visual.proj"], target.visual.proj));
    }

    [Fact]
    public void HuggingFaceProblemsUseHuggingFaceNames()
    {
        using var dir = new TempDirectory();
        using var scope = torch.NewDisposeScope();
        using var source = ClipModel.CreateRandom(ClipConfig.Tiny(), seed: 1);
        var tensors = CheckpointExporter.HuggingFaceTensors(source).Where(t => t.name != "text_model.encoder.layers.1.self_attn.v_proj.bias").ToList();
        var path = dir.File("hf.safetensors");
        SafeTensorsWriter.Save(path, tensors);
        using var target = ClipModel.CreateRandom(ClipConfig.Tiny(), seed: 2);
        var e = Assert.Throws<CheckpointException>(() => CheckpointLoader.Load(target, path));
        Assert.Equal(["text_model.encoder.layers.1.self_attn.v_proj.bias"], e.Report!.MissingKeys);
        Assert.Empty(e.Report.UnexpectedKeys); // q and k of the same in_proj are not "unexpected"
    }

    [Fact]
    public void ArchitectureMismatchIsExplained()
    {
        using var dir = new TempDirectory();
        using var scope = torch.NewDisposeScope();
        using var source = ClipModel.CreateRandom(ClipConfig.Tiny(layers: 3), seed: 1);
        var path = dir.File("deep.safetensors");
        CheckpointExporter.SaveOpenClip(source, path);
        var e = Assert.Throws<CheckpointException>(() => CheckpointLoader.LoadModel(ClipConfig.Tiny(), path));
        Assert.Contains("checkpoint has 3 vision layers, config has 2", e.Message);
        Assert.Contains("checkpoint has 3 text layers, config has 2", e.Message);
        Assert.Contains("visual.transformer.resblocks.2.attn.in_proj_weight", e.Report!.UnexpectedKeys);

        var wide = dir.File("image64.safetensors");
        using var big = ClipModel.CreateRandom(ClipConfig.Tiny(imageSize: 64), seed: 1);
        CheckpointExporter.SaveOpenClip(big, wide);
        var e2 = Assert.Throws<CheckpointException>(() => CheckpointLoader.LoadModel(ClipConfig.Tiny(), wide));
        Assert.Contains("8×8 patch grid, config has 4×4", e2.Message);
    }

    [Fact]
    public void UnknownLayoutIsRejected()
    {
        using var dir = new TempDirectory();
        using var scope = torch.NewDisposeScope();
        var path = dir.File("other.safetensors");
        SafeTensorsWriter.Save(path, [("encoder.weight", torch.zeros(2))]);
        using var target = ClipModel.CreateRandom(ClipConfig.Tiny(), seed: 2);
        var e = Assert.Throws<CheckpointException>(() => CheckpointLoader.Load(target, path));
        Assert.Contains("neither an OpenCLIP checkpoint", e.Message);
    }

    [Theory]
    [InlineData("model.bin", new byte[] { 0x80, 0x02, 0x7d, 0x71, 0x00 })]
    [InlineData("model.pt", new byte[] { (byte)'P', (byte)'K', 3, 4, 0, 0, 0, 0, 0, 0 })]
    [InlineData("disguised.safetensors", new byte[] { 0x80, 0x02, 0x7d, 0x71, 0x00, 0x28, 0x58, 0x05, 0x00, 0x00 })]
    [InlineData("zip.safetensors", new byte[] { (byte)'P', (byte)'K', 3, 4, 20, 0, 0, 0, 8, 0 })]
    public void PickleCheckpointsAreRefused(string name, byte[] content)
    {
        using var dir = new TempDirectory();
        var path = dir.File(name);
        File.WriteAllBytes(path, content);
        using var target = ClipModel.CreateRandom(ClipConfig.Tiny(), seed: 2);
        var e = Assert.Throws<CheckpointException>(() => CheckpointLoader.Load(target, path));
        Assert.Contains($"'{path}' is a PyTorch pickle checkpoint; MaskInversion.Cluster never unpickles files", e.Message);
        Assert.Contains("safetensors", e.Message);
        Assert.Throws<CheckpointException>(() => CheckpointLoader.LoadModel(ClipConfig.Tiny(), path));
        Assert.Throws<CheckpointException>(() => CheckpointLoader.InferConfig(path));
    }

    [Fact]
    public void SafeTensorsWhoseLengthStartsWithThePickleByteIsNotRefused()
    {
        using var dir = new TempDirectory();
        // Header of 0x280 bytes: the file's first two bytes are 0x80 0x02, like pickle protocol 2.
        var header = "{\"__metadata__\":{\"k\":\"v\"}}";
        var path = dir.WriteRaw("odd.safetensors", header.PadRight(0x280), []);
        Assert.Equal(0x80, File.ReadAllBytes(path)[0]);
        using var target = ClipModel.CreateRandom(ClipConfig.Tiny(), seed: 2);
        var e = Assert.Throws<CheckpointException>(() => CheckpointLoader.Load(target, path));
        Assert.Contains("neither an OpenCLIP checkpoint", e.Message);
    }

    [Fact]
    public void InferConfigRecoversTinyFromEitherLayout()
    {
        using var dir = new TempDirectory();
        using var scope = torch.NewDisposeScope();
        var config = ClipConfig.Tiny() with { QuickGelu = true };
        using var model = ClipModel.CreateRandom(config, seed: 1);
        var open = dir.File("open.safetensors");
        var hf = dir.File("hf.safetensors");
        CheckpointExporter.SaveOpenClip(model, open);
        CheckpointExporter.SaveHuggingFace(model, hf);
        Assert.Equal(config, CheckpointLoader.InferConfig(open));
        Assert.Equal(config, CheckpointLoader.InferConfig(hf));
    }

    [Fact]
    public void InferConfigWithoutMetadataUsesShapesAndOpenClipHeadWidths()
    {
        using var dir = new TempDirectory();
        using var scope = torch.NewDisposeScope();
        // 64-wide towers so OpenCLIP's 64-wide-head convention is exact; no metadata in the file.
        var config = ClipConfig.Tiny(imageSize: 48, patch: 16, width: 64, layers: 3, headWidth: 64, embed: 24, vocab: 50, ctx: 12) with { Name = "plain" };
        using var model = ClipModel.CreateRandom(config, seed: 1);
        var open = dir.File("plain.safetensors");
        SafeTensorsWriter.Save(open, model.named_parameters().Select(p => (p.name, (Tensor)p.parameter)));
        Assert.Equal(config, CheckpointLoader.InferConfig(open));

        var hf = dir.File("plain-hf.safetensors");
        SafeTensorsWriter.Save(hf, CheckpointExporter.HuggingFaceTensors(model));
        Assert.Equal(config with { Name = "plain-hf" }, CheckpointLoader.InferConfig(hf));

        // Tiny's 32-wide towers do not follow the convention: without metadata the heads are unknowable.
        using var tiny = ClipModel.CreateRandom(ClipConfig.Tiny(), seed: 1);
        var bare = dir.File("bare.safetensors");
        SafeTensorsWriter.Save(bare, tiny.named_parameters().Select(p => (p.name, (Tensor)p.parameter)));
        Assert.Contains("head count", Assert.Throws<CheckpointException>(() => CheckpointLoader.InferConfig(bare)).Message);
    }
}
