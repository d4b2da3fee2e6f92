using System.Globalization;
using MaskInversion.Core.Imaging;
using MaskInversion.Core.Metrics;
using MaskInversion.Core.Pipeline;
using MaskInversion.Core.Referring;
using MaskInversion.Core.Synthetic;
using Bundle = MaskInversion.Core.Training.MiniClip;

namespace MaskInversion.Core.Tests.Referring;

public class ReferringEvaluatorTests
{
    static (RegionEngine Engine, ReferringEvaluator Evaluator) Load()
    {
        var bundle = Bundle.LoadBundled();
        var engine = new RegionEngine(bundle.Model, bundle.Tokenizer, new EngineSettings { ImageSize = bundle.ImageSize });
        return (engine, new ReferringEvaluator(engine));
    }

    static Scene OneScene(int index) =>
        new SceneGenerator(Bundle.HeldOutSceneSeed + 13, ReferringWorld.Options(Bundle.Scenes(96), 4, 4)).Generate(index);

    [Fact]
    public void TiesAreBrokenByIdsNotByCandidateOrder()
    {
        var (engine, evaluator) = Load();
        using var _ = engine;
        var scene = OneScene(0);
        using var prepared = engine.Prepare("img", scene.Image);
        var candidates = scene.Objects.Select((o, k) => new MaskInput($"m{k}", o.Mask)).ToList();
        var queries = ReferringWorld.Expressions(scene).Select(e => new ReferringQuery(e.ExpressionId, e.Text, $"m{e.ObjectIndex}")).ToList();
        RegionMethod[] methods = [RegionMethod.Clip, RegionMethod.MaskedCrop];
        var forward = evaluator.Evaluate(prepared, candidates, queries, methods);
        var reversed = evaluator.Evaluate(prepared, candidates.AsEnumerable().Reverse().ToList(), queries, methods);
        // The global embedding scores all four candidates alike: which one "wins" must not depend on their order.
        Assert.Equal(forward[RegionMethod.Clip], reversed[RegionMethod.Clip]);
        Assert.Equal(forward[RegionMethod.MaskedCrop], reversed[RegionMethod.MaskedCrop]);
        Assert.All(forward[RegionMethod.Clip], o => Assert.InRange(o.Rank, 0, 3));
        // Objects do not overlap: the top mask is either the true one (IoU 1) or another (IoU 0).
        Assert.All(forward[RegionMethod.MaskedCrop], o => Assert.Equal(o.Rank == 0 ? o.Union : 0, o.Intersection));
    }

    [Fact]
    public void OutcomesFeedTheAccumulatorAndBadInputIsNamed()
    {
        var (engine, evaluator) = Load();
        using var _ = engine;
        var scene = OneScene(1);
        using var prepared = engine.Prepare("img", scene.Image);
        var candidates = scene.Objects.Select((o, k) => new MaskInput(k.ToString(CultureInfo.InvariantCulture), o.Mask)).ToList();
        // A true mask at twice the resolution of the candidates: the predicted mask is resized to it for IoU.
        var big = MaskLoader.Resize(scene.Objects[0].Mask, 192, 192);
        var withBig = candidates.Select((c, k) => k == 0 ? c with { Mask = big } : c).ToList();
        var queries = new[] { new ReferringQuery("e0", SceneCaption.ForClass(scene.Objects[0].ClassName), "0") };
        var outcomes = evaluator.Evaluate(prepared, withBig, queries, [RegionMethod.MaskedCrop]);
        var o = Assert.Single(outcomes[RegionMethod.MaskedCrop]);
        Assert.True(o.Union >= big.Area, "IoU is counted at the true mask's resolution");

        var accumulators = new Dictionary<RegionMethod, ReferringAccumulator>();
        ReferringEvaluator.Accumulate(accumulators, "img", outcomes);
        ReferringEvaluator.Accumulate(accumulators, "img", outcomes); // idempotent per (image, expression)
        Assert.Equal(1, accumulators[RegionMethod.MaskedCrop].ExpressionCount);

        Assert.Contains("refers to mask 'x'", Assert.Throws<ArgumentException>(() =>
            evaluator.Evaluate(prepared, candidates, [new ReferringQuery("e", "a photo of a red star.", "x")], [RegionMethod.Clip])).Message);
        Assert.Contains("appears twice", Assert.Throws<ArgumentException>(() =>
            evaluator.Evaluate(prepared, [candidates[0], candidates[0]], queries, [RegionMethod.Clip])).Message);
    }
}
