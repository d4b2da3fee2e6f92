using MaskInversion.Core.Imaging;
using MaskInversion.Core.Inversion;
using MaskInversion.Core.Models;
using MaskInversion.Core.Text;
using MaskInversion.Core.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace MaskInversion.Core.Pipeline;

/// <summary>The engine a compute node runs: a frozen vision-language model (any <see cref="IModelFamily"/>), its
/// class prompts and the region methods. Turns (image, masks, methods) into per-mask predictions. Not thread-safe
/// and synchronous: one owner thread calls it (TorchSharp scopes and grad mode are per thread).</summary>
public sealed class RegionEngine : IDisposable
{
    public EngineSettings Settings { get; }
    public IRegionModel Model { get; }
    public Preprocessor Preprocessor => Model.Preprocessor;
    public MaskInverter Inverter => Model.Inverter;
    public ZeroShotClassifier? Classifier => Model.Classifier;
    public int ClassCount => Settings.ClassNames.Count;
    public Device Device => Model.Device;

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
    public RegionEngine(IRegionModel model, EngineSettings settings)
    {
        try
        {
            settings.Inversion.Validate();
        }
        catch
        {
            model.Dispose();
            throw;
        }
        Settings = settings;
        Model = model;
    }

    /// <summary>Takes ownership of an OpenCLIP <paramref name="model"/>.</summary>
    public RegionEngine(ClipModel model, ClipTokenizer? tokenizer, EngineSettings settings)
        : this(new OpenClipRegionModel(model, tokenizer, settings), settings) { }

    /// <summary>Loads the model through its family (<see cref="ModelFamilies.Resolve"/>).</summary>
    public static RegionEngine Load(EngineSettings settings)
    {
        settings.Inversion.Validate();
        return new RegionEngine(ModelFamilies.Resolve(settings).Load(settings), settings);
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

    /// <summary>Runs every method on every mask; each method embeds all masks of the image in one batch.</summary>
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
            var embedded = method.Embed(this, image, masks);
            results.AddRange(ToResults(masks, method, embedded, returnEmbeddings));
        }
        return results;
    }

    IEnumerable<MaskResult> ToResults(IReadOnlyList<MaskInput> masks, RegionMethod method, RegionEmbeddings e, bool returnEmbeddings)
    {
        var top = Classifier?.TopK(e.Embeddings, Settings.TopK);
        var diceValues = e.DiceLoss?.to(ScalarType.Float32).data<float>().ToArray();
        var embeddingRows = returnEmbeddings ? Rows(e.Embeddings) : null;
        var mapRows = e.Maps is null ? null : Rows(e.Maps.flatten(1));
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

    /// <summary>The LeGrad map of LET₀, the image's own embedding where every inversion starts (zero steps), so the same
    /// for every mask of the image: the "before" beside an inversion's final map. <paramref name="size"/>² values in [0, 1].</summary>
    public float[] InitialMap(PreparedImage image, int size)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        using var scope = torch.NewDisposeScope();
        // With zero steps the target only feeds the reported Dice, never the map.
        var target = torch.ones(1, size, size);
        using var output = Inverter.Invert(image.Features, target, Settings.Inversion with { Iterations = 0, ReturnMaps = true });
        var map = torch.nn.functional.interpolate(output.Maps!.unsqueeze(1), size: [size, size], mode: InterpolationMode.Bilinear, align_corners: false);
        return map.detach().to(ScalarType.Float32).cpu().contiguous().data<float>().ToArray();
    }

    public void Dispose() => Model.Dispose();
}
