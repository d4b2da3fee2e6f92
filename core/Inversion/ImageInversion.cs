using MaskInversion.Core.Imaging;
using MaskInversion.Core.Models;
using MaskInversion.Core.Runtime;
using MaskInversion.Core.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace MaskInversion.Core.Inversion;

/// <summary>A label and its cosine score against a region's (or the image's) embedding.</summary>
public sealed record LabelScore(string Label, float Score);

/// <summary>One mask inverted: its localized token, the soft Dice loss of the token's map at each step (of the token
/// before that step's update) and after the last, the final LeGrad map (S×S, in [0, 1]) and its best labels.</summary>
public sealed record InvertedRegion(int MaskIndex, float[] Embedding, float[] DiceLossPerStep, float FinalDiceLoss,
    float[] Map, int MapSize, IReadOnlyList<LabelScore> Labels);

/// <summary>A prompt's LeGrad map on an image (S×S, in [0, 1]) and the prompt's cosine with the image embedding.</summary>
public sealed record TextMap(string Text, float ImageSimilarity, float[] Map, int MapSize);

/// <summary>
/// One image and its masks (or prompts), without a dataset or a cluster: what <c>client invert</c> and
/// <c>client legrad</c> run. Forwards the image once, inverts all masks in one batch (each at its own resolution),
/// and labels each token against class prompts (averaged over templates) or free texts (verbatim).
/// Synchronous and single-threaded like every tensor owner here.
/// </summary>
public sealed class ImageInversion : IDisposable
{
    /// <summary>Largest relative difference between a mask's and its image's aspect ratio: a mask stored at another
    /// resolution (the reference's dress/flower masks) is fine, a mask of another picture is not.</summary>
    public const double AspectTolerance = 0.02;

    public ClipModel Model { get; }
    public ClipTokenizer Tokenizer { get; }
    public Preprocessor Preprocessor { get; }
    public MaskInverter Inverter { get; }

    /// <summary>Takes ownership of <paramref name="model"/> (moved to <paramref name="device"/>, eval mode).</summary>
    public ImageInversion(ClipModel model, ClipTokenizer tokenizer, Preprocessor preprocessor, Device? device = null)
    {
        if (tokenizer.VocabSize > model.Config.Text.VocabSize)
            throw new ArgumentException($"The tokenizer's vocabulary ({tokenizer.VocabSize} tokens) does not fit the model's ({model.Config.Text.VocabSize}): give the tokenizer this model was trained with.");
        (Model, Tokenizer, Preprocessor) = (model, tokenizer, preprocessor);
        model.to(device ?? torch.CPU);
        model.eval();
        Inverter = new MaskInverter(model.visual);
    }

    /// <summary>Throws naming the mask when its aspect ratio is not the image's.</summary>
    public static void CheckMaskFits(RgbImage image, BinaryMask mask, string maskName)
    {
        double imageAspect = (double)image.Width / image.Height, maskAspect = (double)mask.Width / mask.Height;
        if (Math.Abs(maskAspect / imageAspect - 1) > AspectTolerance)
            throw new ArgumentException(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"Mask '{maskName}' is {mask.Width}×{mask.Height} but the image is {image.Width}×{image.Height}: their aspect ratios differ ({maskAspect:F3} vs {imageAspect:F3}), so the mask is not of this image."));
    }

    /// <summary>Inverts <paramref name="masks"/> (any resolution of the image's aspect) and labels each token with its
    /// <paramref name="topK"/> best labels among <paramref name="labels"/>, each filled into <paramref name="templates"/>
    /// ("{}" alone = the label verbatim).</summary>
    public IReadOnlyList<InvertedRegion> Invert(RgbImage image, IReadOnlyList<BinaryMask> masks, IReadOnlyList<string> labels,
        IReadOnlyList<string> templates, InversionOptions options, int topK)
    {
        if (masks.Count == 0) throw new ArgumentException("Give at least one mask.", nameof(masks));
        if (labels.Count == 0) throw new ArgumentException("Give at least one label (class names or texts).", nameof(labels));
        ArgumentOutOfRangeException.ThrowIfLessThan(topK, 1);
        using var scope = torch.NewDisposeScope();
        var device = Model.text_projection.device;
        using var features = Inverter.Prepare(Preprocessor.ToPixels(image).to(device));
        var targets = masks.Select(m => MaskLoader.ToTensor(m)).ToList();
        using var output = Inverter.Invert(features, targets, options with { ReturnMaps = true });

        using var classifier = new ZeroShotClassifier(Model, Tokenizer, labels, templates);
        var top = classifier.TopK(output.Embeddings, topK);
        var embeddings = TensorRows.Of(output.Embeddings);
        var dice = TensorRows.Of(output.DicePerStep);
        var final = output.FinalDice.to(ScalarType.Float32).cpu().data<float>().ToArray();
        var maps = TensorRows.Of(output.Maps!.flatten(1));
        int size = (int)output.Maps!.shape[1];
        return Enumerable.Range(0, masks.Count).Select(i => new InvertedRegion(i, embeddings[i], dice[i], final[i], maps[i], size,
            top[i].Select(t => new LabelScore(labels[t.ClassIndex], t.Score)).ToArray())).ToArray();
    }

    /// <summary>LeGrad maps of prompts (verbatim) on the image: the map of s = ⟨t̂, ẑ⟩ for each prompt's text
    /// embedding t, the same map MaskInversion fits to a mask.</summary>
    public IReadOnlyList<TextMap> TextMaps(RgbImage image, IReadOnlyList<string> texts)
    {
        if (texts.Count == 0) throw new ArgumentException("Give at least one text.", nameof(texts));
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var device = Model.text_projection.device;
        using var features = Inverter.Prepare(Preprocessor.ToPixels(image).to(device));
        var units = ZeroShotClassifier.BuildClassEmbeddings(Model, Tokenizer, texts, [PromptTemplates.Placeholder]);
        var maps = Inverter.Maps(features, units.to(features.Embedding.dtype), InversionPath.Implicit, createGraph: false);
        var imageUnit = torch.nn.functional.normalize(features.Embedding.to(ScalarType.Float32).unsqueeze(0), p: 2, dim: 1);
        var similarity = torch.matmul(units, imageUnit.t()).squeeze(1).cpu().data<float>().ToArray();
        var rows = TensorRows.Of(maps.flatten(1));
        int size = (int)maps.shape[1];
        return texts.Select((t, i) => new TextMap(t, similarity[i], rows[i], size)).ToArray();
    }

    public void Dispose()
    {
        Inverter.Dispose();
        Model.Dispose();
    }
}
