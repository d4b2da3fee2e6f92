using System.Collections.Concurrent;
using MaskInversion.Core.Imaging;
using MaskInversion.Core.Synthetic;
using MaskInversion.Core.Text;

namespace MaskInversion.Core.Training;

/// <summary>One training batch: images, one caption each, and which classes each image holds and each caption names.</summary>
public sealed record TrainingBatch(int Step, RgbImage[] Images, string[] Captions, ulong[] ImageClasses, ulong[] CaptionClasses);

/// <summary>
/// An endless, reproducible stream of (scene, caption) pairs: batch b is scenes b·B … b·B+B−1 of
/// <see cref="SceneGenerator"/>(seed), so every image is fresh (no epochs to overfit) and a rerun with the
/// same seed sees the same data. Each image gets either the whole-scene caption ("a photo of a red circle,
/// a blue star and a green ring.") or, CLIP-like weak supervision, one of its objects alone in the class
/// prompt's wording ("a photo of a blue star."). A background thread renders ahead of the trainer.
/// </summary>
public sealed class TrainingBatches : IDisposable
{
    readonly SceneGenerator generator;
    readonly int batchSize;
    readonly double sceneCaptionProbability;
    readonly BlockingCollection<TrainingBatch> queue = new(boundedCapacity: 3);
    readonly CancellationTokenSource stop = new();
    readonly Task producer;

    public TrainingBatches(int seed, SceneOptions options, int batchSize, double sceneCaptionProbability)
    {
        if (options.Vocabulary.ClassCount > 64) throw new ArgumentException("Class sets are 64-bit masks: at most 64 classes.");
        generator = new SceneGenerator(seed, options);
        this.batchSize = batchSize;
        this.sceneCaptionProbability = sceneCaptionProbability;
        producer = Task.Factory.StartNew(Produce, TaskCreationOptions.LongRunning);
    }

    public TrainingBatch Next() => queue.Take(stop.Token);

    void Produce()
    {
        try
        {
            for (int step = 0; !stop.IsCancellationRequested; step++)
                queue.Add(Make(step), stop.Token);
        }
        catch (OperationCanceledException) { }
        finally { queue.CompleteAdding(); }
    }

    public TrainingBatch Make(int step)
    {
        var images = new RgbImage[batchSize];
        var captions = new string[batchSize];
        var imageClasses = new ulong[batchSize];
        var captionClasses = new ulong[batchSize];
        for (int i = 0; i < batchSize; i++)
        {
            long index = (long)step * batchSize + i;
            var scene = generator.Generate(index);
            // Caption choice has its own stream so it does not shift the scene's randomness.
            var rng = new Random((int)(SceneSeed.Key(generator.Seed, index, 0xCA9) & 0x7FFFFFFF));
            images[i] = scene.Image;
            imageClasses[i] = ClassSet(scene.Objects.Select(o => o.ClassIndex));
            (captions[i], captionClasses[i]) = Caption(scene, rng, sceneCaptionProbability);
        }
        return new TrainingBatch(step, images, captions, imageClasses, captionClasses);
    }

    /// <summary>The whole-scene caption with probability p (always for one object), else one random object's prompt,
    /// half the time in <see cref="PromptTemplates.Single"/>'s exact wording ("a photo of a orange star.") so the
    /// evaluation prompt is in-distribution even where the article is wrong.</summary>
    public static (string Text, ulong Classes) Caption(Scene scene, Random rng, double p)
    {
        if (scene.Objects.Count == 1 || rng.NextDouble() < p)
            return ($"a photo of {scene.Caption}.", ClassSet(scene.Objects.Select(o => o.ClassIndex)));
        var o = scene.Objects[rng.Next(scene.Objects.Count)];
        var text = rng.Next(2) == 0 ? SceneCaption.ForClass(o.ClassName) : PromptTemplates.Fill(PromptTemplates.Single[0], o.ClassName);
        return (text, 1UL << o.ClassIndex);
    }

    public static ulong ClassSet(IEnumerable<int> classes) => classes.Aggregate(0UL, (set, c) => set | 1UL << c);

    public void Dispose()
    {
        stop.Cancel();
        try { producer.Wait(); } catch (AggregateException) { }
        stop.Dispose();
        queue.Dispose();
    }
}
