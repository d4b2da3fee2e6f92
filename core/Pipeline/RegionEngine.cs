using MaskInversion.Core.Baselines;
using MaskInversion.Core.Imaging;
using MaskInversion.Core.Inversion;
using MaskInversion.Core.Models;
using MaskInversion.Core.Text;
using MaskInversion.Core.Torch;
using MaskInversion.Core.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace MaskInversion.Core.Pipeline;

/// <summary>One query mask of an image.</summary>
public sealed record MaskInput(string MaskId, BinaryMask Mask);

/// <summary>One (mask, method) outcome: the region embedding's top-k classes, Dice for inversions.</summary>
public sealed record MaskResult(string MaskId, RegionMethod Method, int[] TopClasses, float[] TopScores, float? Dice,
    float[]? Embedding, float[]? Map, int MapSize);

/// <summary>An image decoded, preprocessed and forwarded once; holds the decomposition cache for its masks.</summary>
public sealed class PreparedImage : IDisposable
{
    public required string ImageId { get; init; }
    public required RgbImage Image { get; init; }
    public required ImageFeatures Features { get; init; }
    /// <summary>Approximate tensor memory held (for a silo's cache budget); grows if the explicit map is built.</summary>
    public long ApproximateBytes => Features.ApproximateBytes;
    public void Dispose() => Features.Dispose();
}

/// <summary>The engine a compute node runs: a frozen CLIP, its preprocessing, class text embeddings and the
/// MaskInverter. Turns (image, masks, methods) into per-mask predictions. Not thread-safe and synchronous:
/// one owner thread calls it (TorchSharp scopes and grad mode are per thread).</summary>
public sealed class RegionEngine : IDisposable
{
    public EngineSettings Settings { get; }
    public ClipModel Model { get; }
    public Preprocessor Preprocessor { get; }
    public MaskInverter Inverter { get; }
    public ZeroShotClassifier? Classifier { get; }
    public int ClassCount => Settings.ClassNames.Count;
    public Device Device { get; }

    /// <summary>Resolves "auto" | "cpu" | "cuda[:N]"; CUDA only when this libtorch build has it.</summary>
    public static Device ResolveDevice(string name)
    {
        if (name.Equals("auto", StringComparison.OrdinalIgnoreCase))
            return torch.cuda.is_available() ? torch.CUDA : torch.CPU;
        if (name.StartsWith("cuda", StringComparison.OrdinalIgnoreCase) && !torch.cuda.is_available())
            throw new ArgumentException($"Device '{name}' was asked for but this build's libtorch has no CUDA (build with -p:TorchBackend=cuda on a machine with a GPU).");
        return torch.device(name);
    }

    /// <summary>Takes ownership of <paramref name="model"/>.</summary>
    public RegionEngine(ClipModel model, ClipTokenizer? tokenizer, EngineSettings settings)
    {
        Settings = settings;
        settings.Inversion.Validate();
        Device = ResolveDevice(settings.Device);
        Model = model;
        model.to(Device);
        model.eval();
        Preprocessor = new Preprocessor(settings.ImageSize);
        Inverter = new MaskInverter(model.visual);
        if (settings.ClassNames.Count > 0)
        {
            if (tokenizer is null) throw new ArgumentException("Class names were given but no tokenizer: set EngineSettings.Tokenizer.");
            Classifier = new ZeroShotClassifier(model, tokenizer, settings.ClassNames, PromptTemplates.Get(settings.Templates));
        }
    }

    /// <summary>Loads the model (named config, config JSON, or inferred from the weights), weights and tokenizer.</summary>
    public static RegionEngine Load(EngineSettings s)
    {
        var model = LoadModel(s);
        try
        {
            var tokenizer = s.Tokenizer is null ? null : ClipTokenizer.Load(s.Tokenizer);
            return new RegionEngine(model, tokenizer, s);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    public static ClipModel LoadModel(EngineSettings s)
    {
        ClipConfig config;
        if (s.Model is null)
            config = s.Weights is null
                ? throw new ArgumentException("Give a model name or config (--model), weights (--weights), or both.")
                : CheckpointLoader.InferConfig(s.Weights);
        else
            config = File.Exists(s.Model) ? ClipConfig.FromFile(s.Model) : ClipConfig.Named(s.Model);
        config = config.WithPretrainedTag(s.PretrainedTag);
        return s.Weights is null ? ClipModel.CreateRandom(config, s.RandomSeed) : CheckpointLoader.LoadModel(config, s.Weights);
    }

    /// <param name="options">Decoding limits and the allowed roots (a silo passes its own); defaults otherwise.</param>
    public PreparedImage Prepare(string imageId, string imagePath, ImageLoadOptions? options = null) => Prepare(imageId, ImageLoader.Load(imagePath, options));

    public PreparedImage Prepare(string imageId, RgbImage image)
    {
        PreparedImage prepared;
        using (var scope = torch.NewDisposeScope())
        {
            var pixels = Preprocessor.ToPixels(image).to(Device);
            prepared = new PreparedImage { ImageId = imageId, Image = image, Features = Inverter.Prepare(pixels) };
        }
        // Preprocessing a large image frees float copies of it (4 bytes per channel): give those pages back.
        if ((long)image.Width * image.Height >= LargeImagePixels) NativeHeap.Trim();
        return prepared;
    }

    /// <summary>Images from this many pixels on are followed by <see cref="NativeHeap.Trim"/> (4 MP: 48 MB of float pixels).</summary>
    public const long LargeImagePixels = 4_000_000;

    /// <summary>Runs every method on every mask. Inversion variants batch all masks of the image.</summary>
    public IReadOnlyList<MaskResult> Evaluate(PreparedImage image, IReadOnlyList<MaskInput> masks, IReadOnlyList<RegionMethod> methods, bool returnEmbeddings = false)
    {
        var results = new List<MaskResult>(masks.Count * methods.Count);
        if (masks.Count == 0) return results;
        // An empty mask would be scored and counted; the caller is to refuse it per mask (MaskLoader.FitToImage).
        foreach (var m in masks)
            if (m.Mask.Area == 0) throw new ItemDataException(m.MaskId, $"Mask {m.MaskId} is empty: it selects no pixel.");
        foreach (var method in methods)
        {
            using var scope = torch.NewDisposeScope();
            Tensor embeddings;
            Tensor? dice = null, maps = null;
            if (method.IsInversion())
            {
                var ablation = method switch
                {
                    RegionMethod.MaskInversionBox => MaskAblation.Box,
                    RegionMethod.MaskInversionErode => MaskAblation.Erode,
                    RegionMethod.MaskInversionDilate => MaskAblation.Dilate,
                    _ => MaskAblation.None,
                };
                var target = torch.stack(masks.Select(m => MaskLoader.ToTensor(MaskAblations.Apply(m.Mask, ablation), Preprocessor.ImageSize)).ToList()).to(Device);
                var options = Settings.Inversion with { ReturnMaps = Settings.ReturnedMapSize > 0 };
                using var output = Inverter.Invert(image.Features, target, options);
                embeddings = output.Embeddings.clone();
                dice = output.FinalDice.clone();
                if (output.Maps is not null)
                    maps = torch.nn.functional.interpolate(output.Maps.unsqueeze(1), size: [Settings.ReturnedMapSize, Settings.ReturnedMapSize],
                        mode: InterpolationMode.Bilinear, align_corners: false).squeeze(1);
            }
            else if (method == RegionMethod.Clip)
                embeddings = image.Features.Embedding.unsqueeze(0).expand(masks.Count, -1);
            else
                embeddings = EmbedVisualPrompts(image.Image, masks, method);

            results.AddRange(ToResults(masks, method, embeddings, dice, maps, returnEmbeddings));
        }
        return results;
    }

    Tensor EmbedVisualPrompts(RgbImage image, IReadOnlyList<MaskInput> masks, RegionMethod method, int batch = 16)
    {
        var parts = new List<Tensor>();
        using var noGrad = torch.no_grad();
        for (int start = 0; start < masks.Count; start += batch)
        {
            var prompted = masks.Skip(start).Take(batch).Select(m => method switch
            {
                RegionMethod.Crop => VisualPrompts.Crop(image, m.Mask),
                RegionMethod.MaskedCrop => VisualPrompts.MaskedCrop(image, m.Mask),
                RegionMethod.RedCircle => VisualPrompts.RedCircle(image, m.Mask),
                RegionMethod.Blur => VisualPrompts.BlurOutside(image, m.Mask),
                _ => throw new ArgumentOutOfRangeException(nameof(method), method, null),
            }).ToList();
            using var pixels = Preprocessor.ToPixelsBatch(prompted).to(Device);
            parts.Add(Model.EncodeImage(pixels));
        }
        return torch.cat(parts, 0);
    }

    IEnumerable<MaskResult> ToResults(IReadOnlyList<MaskInput> masks, RegionMethod method, Tensor embeddings, Tensor? dice, Tensor? maps, bool returnEmbeddings)
    {
        var top = Classifier?.TopK(embeddings, Settings.TopK);
        var diceValues = dice?.to(ScalarType.Float32).data<float>().ToArray();
        var embeddingRows = returnEmbeddings ? Rows(embeddings) : null;
        var mapRows = maps is null ? null : Rows(maps.flatten(1));
        for (int i = 0; i < masks.Count; i++)
            yield return new MaskResult(masks[i].MaskId, method,
                top?[i].Select(t => t.ClassIndex).ToArray() ?? [],
                top?[i].Select(t => t.Score).ToArray() ?? [],
                diceValues?[i], embeddingRows?[i], mapRows?[i], mapRows is null ? 0 : Settings.ReturnedMapSize);
    }

    static float[][] Rows(Tensor t)
    {
        var flat = t.detach().to(ScalarType.Float32).cpu().contiguous();
        int cols = (int)flat.shape[1];
        var all = flat.data<float>().ToArray();
        return Enumerable.Range(0, (int)flat.shape[0]).Select(r => all.AsSpan(r * cols, cols).ToArray()).ToArray();
    }

    public void Dispose()
    {
        Classifier?.Dispose();
        Inverter.Dispose();
        Model.Dispose();
    }
}
