using System.CommandLine;
using System.Globalization;
using MaskInversion.Core.Training;
using Spectre.Console;

namespace MaskInversion.Client.Commands;

/// <summary><c>client train miniclip</c> and <c>client eval miniclip</c>: the project's own small CLIP.</summary>
public static class MiniClipCommands
{
    public static Command Train()
    {
        var train = new Command("train", "Train models.");
        var minutes = new Option<double>("--minutes") { Description = "Wall-clock budget; the step count is fixed from the speed measured over the first steps.", DefaultValueFactory = _ => 40 };
        var steps = new Option<int?>("--steps") { Description = "Exact step count (overrides --minutes; reproduces a run)." };
        var seed = new Option<int>("--seed") { Description = "Seed of the weight init and of the scene stream.", DefaultValueFactory = _ => 0 };
        var output = new Option<string>("--out") { Description = "Output folder for weights, config, vocabulary and loss curve.", DefaultValueFactory = _ => "miniclip-run" };
        var batch = new Option<int>("--batch") { Description = "Images (and captions) per step.", DefaultValueFactory = _ => 128 };
        var lr = new Option<double>("--lr") { Description = "Peak learning rate.", DefaultValueFactory = _ => 1e-3 };
        var width = new Option<int>("--width") { Description = "Image tower width.", DefaultValueFactory = _ => new MiniClipShape().VisionWidth };
        var layers = new Option<int>("--layers") { Description = "Image tower depth.", DefaultValueFactory = _ => new MiniClipShape().VisionLayers };
        var imageSize = new Option<int>("--image-size") { Description = "Input side in pixels (patch 8).", DefaultValueFactory = _ => new MiniClipShape().ImageSize };
        var sceneCaptions = new Option<double>("--scene-captions") { Description = "Probability of the whole-scene caption instead of one object's prompt.", DefaultValueFactory = _ => 0.5 };
        var threads = new Option<int>("--threads") { Description = "Torch threads (0 = library default).", DefaultValueFactory = _ => 0 };
        var cmd = new Command("miniclip", "Train MiniCLIP contrastively on generated scenes.")
        {
            minutes, steps, seed, output, batch, lr, width, layers, imageSize, sceneCaptions, threads,
        };
        cmd.SetAction(r =>
        {
            var result = MiniClipTrainer.Train(new TrainingOptions
            {
                OutputDirectory = r.GetValue(output)!,
                Minutes = r.GetValue(minutes),
                Steps = r.GetValue(steps),
                Seed = r.GetValue(seed),
                BatchSize = r.GetValue(batch),
                LearningRate = r.GetValue(lr),
                SceneCaptionProbability = r.GetValue(sceneCaptions),
                Threads = r.GetValue(threads),
                Shape = new MiniClipShape { VisionWidth = r.GetValue(width), VisionLayers = r.GetValue(layers), ImageSize = r.GetValue(imageSize) },
                Progress = Console.Error,
            });
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"trained {result.Steps} steps in {result.Minutes:F1} min: final loss {result.FinalLoss:F3}, held-out zero-shot acc@1 {100 * result.HeldOutAccuracy:F1} % → {result.Directory}"));
            return 0;
        });
        train.Subcommands.Add(cmd);
        return train;
    }
}
