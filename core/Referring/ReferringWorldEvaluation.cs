using System.Globalization;
using MaskInversion.Core.Inversion;
using MaskInversion.Core.Metrics;
using MaskInversion.Core.Pipeline;
using MaskInversion.Core.Synthetic;
using MaskInversion.Core.Training;

namespace MaskInversion.Core.Referring;

public sealed record ReferringWorldOptions
{
    public int Scenes { get; init; } = 200;
    public int MinObjects { get; init; } = 3;
    public int MaxObjects { get; init; } = 4;
    /// <summary>Scene seed; the default is one no training run or class-retrieval evaluation uses.</summary>
    public int Seed { get; init; } = MiniClip.HeldOutSceneSeed + 11;
    public int Iterations { get; init; } = 10;
    public double LearningRate { get; init; } = 0.1;
    /// <summary>The paper's α for referring expressions.</summary>
    public double Alpha { get; init; } = 5;
    public IReadOnlyList<RegionMethod> Methods { get; init; } = [RegionMethod.MaskInversion, .. RegionMethods.Baselines];
}

/// <summary>Referring-expression retrieval in the synthetic referring world (<see cref="ReferringWorld"/>) on the bundled
/// MiniCLIP (or a folder with the same files): Acc@1/5/10, mIoU and oIoU per method.</summary>
public static class ReferringWorldEvaluation
{
    public static IReadOnlyDictionary<RegionMethod, ReferringMetrics> Run(ReferringWorldOptions o, string? modelDirectory = null, IProgress<int>? progress = null)
    {
        if (o.Scenes < 1) throw new ArgumentOutOfRangeException(nameof(o), "At least one scene is needed.");
        var bundle = MiniClip.LoadBundled(modelDirectory);
        var settings = new EngineSettings
        {
            ImageSize = bundle.ImageSize,
            Inversion = new InversionOptions { Iterations = o.Iterations, LearningRate = o.LearningRate, Alpha = o.Alpha },
        };
        using var engine = new RegionEngine(bundle.Model, bundle.Tokenizer, settings); // owns the model from here
        var evaluator = new ReferringEvaluator(engine);
        var generator = new SceneGenerator(o.Seed, ReferringWorld.Options(MiniClip.Scenes(bundle.ImageSize), o.MinObjects, o.MaxObjects));
        var accumulators = new Dictionary<RegionMethod, ReferringAccumulator>();
        for (int s = 0; s < o.Scenes; s++)
        {
            var scene = generator.Generate(s);
            var id = SceneSeed.ImageId(o.Seed, s);
            using var prepared = engine.Prepare(id, scene.Image);
            var candidates = scene.Objects.Select((obj, k) => new MaskInput(k.ToString(CultureInfo.InvariantCulture), obj.Mask)).ToList();
            var queries = ReferringWorld.Expressions(scene).Select(e => new ReferringQuery(e.ExpressionId, e.Text, candidates[e.ObjectIndex].MaskId)).ToList();
            ReferringEvaluator.Accumulate(accumulators, id, evaluator.Evaluate(prepared, candidates, queries, o.Methods));
            progress?.Report(s + 1);
        }
        return o.Methods.ToDictionary(m => m, m => accumulators[m].Compute());
    }
}
