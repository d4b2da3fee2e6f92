using System.IO.Compression;
using MaskInversion.Core.Models;
using MaskInversion.Core.Weights;
using TorchSharp;

namespace MaskInversion.Core.Tests.Weights;

/// <summary>#13/#14: weights that cannot give right numbers are refused with the reason, never loaded into a job that
/// then "completes" with zeros or NaN.</summary>
public class CheckpointHardeningTests
{
    static string Export(TempDirectory dir, string name, Action<ClipModel>? damage = null, bool huggingFace = false)
    {
        using var model = ClipModel.CreateRandom(ClipConfig.Tiny(), seed: 1);
        using (torch.no_grad()) damage?.Invoke(model);
        var path = dir.File(name);
        if (huggingFace) CheckpointExporter.SaveHuggingFace(model, path); else CheckpointExporter.SaveOpenClip(model, path);
        return path;
    }

    [Fact]
    public void NaNInATensorIsALoadErrorNamingIt()
    {
        using var dir = new TempDirectory();
        var path = Export(dir, "nan.safetensors", m => m.visual.proj[1, 2] = float.NaN);
        var e = Assert.Throws<CheckpointException>(() => CheckpointLoader.LoadModel(ClipConfig.Tiny(), path));
        Assert.Contains("'visual.proj'", e.Message);
        Assert.Contains("1 NaN or infinite", e.Message);
    }

    [Fact]
    public void InfinityInOneOfSeveralConcatenatedTensorsNamesThatOne()
    {
        using var dir = new TempDirectory();
        // In Hugging Face layout in_proj is q, k, v: damage a row of v.
        var path = Export(dir, "inf.safetensors", m => m.visual.transformer.resblocks[1].attn.in_proj_weight[70, 0] = float.PositiveInfinity, huggingFace: true);
        var e = Assert.Throws<CheckpointException>(() => CheckpointLoader.LoadModel(ClipConfig.Tiny(), path));
        Assert.Contains("vision_model.encoder.layers.1.self_attn.v_proj.weight", e.Message);
    }

    [Theory]
    [InlineData("model.bin")]
    [InlineData("model.pt")]
    [InlineData("model.pth")]
    [InlineData("model.ckpt")]
    public void PickleExtensionsAreRefusedWhateverTheyHold(string name)
    {
        using var dir = new TempDirectory();
        var path = Export(dir, name);
        Assert.Contains("never unpickles", Assert.Throws<CheckpointException>(() => CheckpointLoader.InferConfig(path)).Message);
    }

    [Fact]
    public void PickleContentIsRefusedUnderAnyName()
    {
        using var dir = new TempDirectory();
        // torch.save's zip archive (also TorchScript) and a legacy protocol-2 pickle, both named .safetensors.
        var zip = dir.File("zip.safetensors");
        using (var archive = ZipFile.Open(zip, ZipArchiveMode.Create))
        using (var entry = archive.CreateEntry("archive/data.pkl").Open()) entry.Write([0x80, 0x02, (byte)'}', (byte)'q', 0, (byte)'.']);
        var legacy = dir.File("legacy.safetensors");
        File.WriteAllBytes(legacy, [0x80, 0x02, 0x8A, 0x0A, 0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19, 0x2E]);
        Assert.Contains("pickle", Assert.Throws<CheckpointException>(() => CheckpointLoader.InferConfig(zip)).Message);
        Assert.Contains("pickle", Assert.Throws<CheckpointException>(() => CheckpointLoader.InferConfig(legacy)).Message);
    }

    [Fact]
    public void JunkIsRefusedAsNotSafetensors()
    {
        using var dir = new TempDirectory();
        var junk = dir.File("junk.safetensors");
        File.WriteAllText(junk, "this is not a checkpoint at all, just some text that is long enough");
        var e = Assert.Throws<InvalidDataException>(() => CheckpointLoader.InferConfig(junk));
        Assert.Contains("is not a valid safetensors file", e.Message);
    }

    [Fact]
    public void InspectJudgesAFileFromItsHeaderAlone()
    {
        using var dir = new TempDirectory();
        var path = Export(dir, "tiny.safetensors");
        Assert.True(CheckpointLoader.Inspect(ClipConfig.Tiny(), path).IsComplete);
        Assert.True(CheckpointLoader.Inspect(ClipConfig.Tiny(), Export(dir, "hf.safetensors", huggingFace: true)).IsComplete);

        var deeper = CheckpointLoader.Inspect(ClipConfig.Tiny(layers: 3), path);
        Assert.False(deeper.IsComplete);
        Assert.Contains(deeper.ArchitectureMismatches, m => m.Contains("2 vision layers, config has 3"));
        Assert.Contains(deeper.MissingKeys, k => k.StartsWith("visual.transformer.resblocks.2.", StringComparison.Ordinal));

        var wider = CheckpointLoader.Inspect(ClipConfig.Tiny(width: 64), path);
        Assert.Contains(wider.ArchitectureMismatches, m => m.Contains("vision width 32, config has 64"));
    }
}
