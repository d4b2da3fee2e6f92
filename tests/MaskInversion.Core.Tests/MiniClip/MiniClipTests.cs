using MaskInversion.Core.Models;
using MaskInversion.Core.Pipeline;
using MaskInversion.Core.Synthetic;
using MaskInversion.Core.Tests.Weights;
using MaskInversion.Core.Text;
using MaskInversion.Core.Training;
using TorchSharp;
using Bundled = MaskInversion.Core.Training.MiniClip;

namespace MaskInversion.Core.Tests.MiniClip;

/// <summary>The bundled MiniCLIP: its files, its vocabulary, and the paper's claim in miniature.</summary>
public sealed class MiniClipTests
{
    /// <summary>
    /// The bundled model's full eval (`client eval miniclip`, 200 held-out scenes, 603 masks) gives MaskInversion
    /// 68.8 % Acc@1 vs 29.5 % for the global embedding (+39.3) and 98.3 % vs 82.9 % Acc@5; on this deterministic
    /// 24-scene set (fixed seeds and weights) it is 63.2 % vs 27.6 % (+35.5) and 98.7 % vs 84.2 %. The Acc@1 bar is
    /// the project's target, +20 points; an engine regression that stops the maps steering the token leaves
    /// MaskInversion at the global embedding's accuracy and fails it. The class prompts' maps land on their own
    /// object for 92.1 % of these objects (an earlier model trained without the dense term: 65 % in the full eval; chance ≈ 1/3).
    /// </summary>
    const double MinimumAcc1Margin = 0.20;
    const double MinimumAcc5Margin = 0.05;
    const double MinimumPromptMapLocalisation = 0.75;

    [Fact]
    public void BundledFilesExistLoadAndStaySmall()
    {
        var dir = Bundled.Locate();
        Assert.NotNull(dir);
        string[] files = [Bundled.WeightsFile, Bundled.ConfigFile, "vocab.json", "merges.txt"];
        foreach (var f in files) Assert.True(File.Exists(Path.Combine(dir, f)), $"{f} is missing from {dir}");
        Assert.True(files.Sum(f => new FileInfo(Path.Combine(dir, f)).Length) <= 20L << 20, "The bundled model must stay within 20 MB.");

        using var bundle = Bundled.LoadBundled();
        var cfg = bundle.Model.Config;
        Assert.True(cfg.Vision.GridSize >= 12, $"A {cfg.Vision.GridSize}×{cfg.Vision.GridSize} patch grid is too coarse for mask maps.");
        Assert.Equal(bundle.Tokenizer.VocabSize, cfg.Text.VocabSize);
        Assert.Equal(SceneVocabulary.Default.ClassCount, bundle.ClassNames.Count);
    }

    [Fact]
    public void VocabularyRoundTripsEveryClassPrompt()
    {
        using var bundle = Bundled.LoadBundled();
        var tokenizer = bundle.Tokenizer;
        Assert.Equal(tokenizer.VocabSize - 1, tokenizer.EndOfText); // argmax pooling needs EOT highest
        foreach (var name in bundle.ClassNames)
        {
            foreach (var prompt in new[] { PromptTemplates.Fill(PromptTemplates.Single[0], name), SceneCaption.ForClass(name) })
            {
                var ids = tokenizer.Encode(prompt);
                // One token per word and one for the full stop: "a photo of a red circle ." → 7.
                Assert.Equal(prompt.Split(' ').Length + 1, ids.Length);
                Assert.Equal(prompt, tokenizer.Decode(ids).Replace(" .", ".").Trim());
                var row = tokenizer.Tokenize(prompt, bundle.Model.Config.Text.ContextLength);
                Assert.Equal(tokenizer.EndOfText, row.Max());
            }
        }
        // Words outside the vocabulary still tokenize, byte by byte.
        Assert.Equal("zebra!", tokenizer.Decode(tokenizer.Encode("zebra!")).Replace(" ", ""));
    }

    [Fact]
    public void BuilderMakesEveryWordOneTokenEvenWhenMergeChainsOverlap()
    {
        // "red" adds the merge "r e", which would split "green" as g·re·e·n if its chain were written blindly.
        using var tmp = new TempDirectory();
        var (vocab, merges) = VocabularyBuilder.Build(["red", "green", "tree", "eerie"]);
        File.WriteAllText(tmp.File("vocab.json"), System.Text.Json.JsonSerializer.Serialize(vocab));
        File.WriteAllLines(tmp.File("merges.txt"), ["#version: 0.2", .. merges]);
        var tokenizer = ClipTokenizer.Load(tmp.Root);
        foreach (var word in new[] { "red", "green", "tree", "eerie" })
        {
            var id = Assert.Single(tokenizer.Encode(word));
            Assert.Equal(word + "</w>", tokenizer.Token(id));
        }
    }

    [Fact]
    public void MaskInversionBeatsTheGlobalEmbeddingOnHeldOutScenes()
    {
        var report = MiniClipEvaluation.Run(new MiniClipEvalOptions
        {
            Scenes = 24,
            Methods = [RegionMethod.MaskInversion, RegionMethod.Clip],
        });
        Assert.True(report.Masks >= 48, $"Only {report.Masks} masks: scenes should hold 2–4 objects.");
        double acc5Margin = report.Methods.First(m => m.Method == RegionMethod.MaskInversion).Metrics.Acc5
            - report.Methods.First(m => m.Method == RegionMethod.Clip).Metrics.Acc5;
        Assert.True(report.Margin >= MinimumAcc1Margin,
            $"MaskInversion Acc@1 {report.Acc1(RegionMethod.MaskInversion):P1} is less than 20 points above the global embedding's {report.Acc1(RegionMethod.Clip):P1}.");
        Assert.True(acc5Margin >= MinimumAcc5Margin, $"MaskInversion's Acc@5 lead over the global embedding is only {acc5Margin:P1}.");
        Assert.True(report.PromptMapLocalisation >= MinimumPromptMapLocalisation,
            $"Class prompts' LeGrad maps land on their own object for only {report.PromptMapLocalisation:P1} of the objects.");
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1.0)] // with the dense alignment term
    public void TrainerIsReproducibleDoesNotLeakTensorsAndWritesALoadableModel(double denseLossWeight)
    {
        using var a = new TempDirectory();
        using var b = new TempDirectory();
        TrainingOptions Options(string dir) => new()
        {
            OutputDirectory = dir, Steps = 5, DecayStart = 3, BatchSize = 6, WarmupSteps = 2, Seed = 3, DenseLossWeight = denseLossWeight,
            MonitorEvery = 5, MonitorScenes = 6, CheckpointEvery = 0,
            Shape = new MiniClipShape { ImageSize = 32, PatchSize = 8, VisionWidth = 32, VisionLayers = 1, VisionHeadWidth = 16, TextWidth = 32, TextLayers = 1, EmbedDim = 16 },
        };
        var first = MiniClipTrainer.Train(Options(a.Root));
        var second = MiniClipTrainer.Train(Options(b.Root));

        Assert.Equal(5, first.Steps);
        Assert.True(double.IsFinite(first.FinalLoss));
        Assert.Equal(first.FinalLoss, second.FinalLoss); // same seed: same init, scenes, captions and losses
        // Each step disposes everything it made: the live tensor count is flat once the optimizer state exists.
        Assert.Equal(first.LiveTensorsAfterStep[1], first.LiveTensorsAfterStep[^1]);
        foreach (var f in new[] { "loss-curve.csv", "loss-curve.png", "training.json" }) Assert.True(File.Exists(a.File(f)), f);

        using var loaded = Bundled.LoadBundled(a.Root);
        Assert.Equal(32, loaded.ImageSize);
    }

    [Fact]
    public void DenseAlignmentLossRewardsPatchesThatMatchTheImagesClasses()
    {
        // Identity out-projection, ln_post scale and proj: a patch's feature is its centred, normalised value.
        var shape = new MiniClipShape { ImageSize = 32, PatchSize = 8, VisionWidth = 16, VisionLayers = 1, VisionHeadWidth = 8, TextWidth = 16, TextLayers = 1, EmbedDim = 16 };
        using var model = new ClipModel(Bundled.Config(40, shape));
        var visual = model.visual;
        using var scope = torch.NewDisposeScope();
        using (torch.no_grad())
        {
            visual.LastBlock.attn.out_proj.weight!.copy_(torch.eye(16));
            visual.ln_post.weight!.fill_(1);
            visual.proj.copy_(torch.eye(16));
        }
        torch.random.manual_seed(5);
        var values = torch.randn(2, 2, 17, 8).requires_grad_(true); // (B, h, 1 + 16 patches, d_h)
        var features = MiniClipTrainer.PatchValueFeatures(visual, values);
        var patchValues = values.detach().transpose(1, 2).reshape(2, 17, 16).narrow(1, 1, 16);
        var expected = torch.nn.functional.normalize(patchValues - patchValues.mean([-1], keepdim: true), p: 2, dim: -1);
        Assert.True(torch.allclose(features.detach(), expected, rtol: 1e-5, atol: 1e-6));

        // Class 0 is patch 3 of image 0, class 1 patch 5 of image 1; classes 2 and 3 are random directions.
        var text = torch.cat([features[0, 3].detach().unsqueeze(0), features[1, 5].detach().unsqueeze(0),
            torch.nn.functional.normalize(torch.randn(2, 16), p: 2, dim: -1)], 0);
        var right = MiniClipTrainer.Present([1UL << 0, 1UL << 1], 4);
        var swapped = MiniClipTrainer.Present([1UL << 1, 1UL << 0], 4);
        var good = MiniClipTrainer.DenseAlignmentLoss(visual, values, text, right);
        var bad = MiniClipTrainer.DenseAlignmentLoss(visual, values, text, swapped);
        Assert.True(good.item<float>() < 0.5 * bad.item<float>(), $"aligned {good.item<float>()} vs swapped {bad.item<float>()}");
        good.backward();
        Assert.True(values.grad!.abs().sum().item<float>() > 0, "The loss must reach the values.");
        Assert.True(visual.proj.grad!.abs().sum().item<float>() > 0, "The loss must reach the projection.");
    }

    [Fact]
    public void ScheduleWarmsUpHoldsThenDecaysToZero()
    {
        Assert.Equal(0.5, MiniClipTrainer.LearningRate(0, 2, 1.0, 10, 20), 6);
        Assert.Equal(1.0, MiniClipTrainer.LearningRate(5, 2, 1.0, 10, 20), 6);
        Assert.Equal(1.0, MiniClipTrainer.LearningRate(500, 2, 1.0, null, int.MaxValue), 6);
        Assert.Equal(0.5, MiniClipTrainer.LearningRate(15, 2, 1.0, 10, 20), 6);
        Assert.Equal(0.0, MiniClipTrainer.LearningRate(20, 2, 1.0, 10, 20), 6);
    }
}
