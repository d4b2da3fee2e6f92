using MaskInversion.Core.Baselines;
using MaskInversion.Core.Imaging;
using MaskInversion.Core.Pipeline.Methods;
using static TorchSharp.torch;

namespace MaskInversion.Core.Pipeline;

/// <summary>What a method gives the masks of one image: embeddings (M, d) and, for inversions, the final soft Dice
/// (M) and explainability maps (M, s, s). Owned by the caller's dispose scope.</summary>
public sealed record RegionEmbeddings(Tensor Embeddings, Tensor? DiceLoss = null, Tensor? Maps = null);

/// <summary>
/// How a region (mask) is turned into an embedding: MaskInversion, its mask-quality ablations, or one of the
/// paper's baselines (DESIGN.md §3). A method is known by its name in <see cref="RegionMethods"/>, the registry
/// jobs and the CLI resolve names against; the engine runs whatever methods it is given.
/// </summary>
public abstract class RegionMethod(string name)
{
    /// <summary>The snake_case name used on the command line and in outputs.</summary>
    public string Name { get; } = name;

    /// <summary>Optimises a token per mask (reports the Dice loss and maps).</summary>
    public virtual bool IsInversion => false;

    /// <summary>Embeds every mask of the image in one batch, on the engine's device. Runs on the engine's thread
    /// inside the caller's dispose scope.</summary>
    public abstract RegionEmbeddings Embed(RegionEngine engine, PreparedImage image, IReadOnlyList<MaskInput> masks);

    public override string ToString() => Name;

    public static RegionMethod MaskInversion { get; } = new MaskInversionMethod("maskinversion", MaskAblation.None);
    /// <summary>The global image embedding (same for every mask of an image).</summary>
    public static RegionMethod Clip { get; } = new GlobalEmbeddingMethod("clip");
    public static RegionMethod Crop { get; } = new VisualPromptMethod("crop", (image, mask) => VisualPrompts.Crop(image, mask));
    public static RegionMethod MaskedCrop { get; } = new VisualPromptMethod("masked_crop", (image, mask) => VisualPrompts.MaskedCrop(image, mask));
    public static RegionMethod RedCircle { get; } = new VisualPromptMethod("red_circle", (image, mask) => VisualPrompts.RedCircle(image, mask));
    public static RegionMethod Blur { get; } = new VisualPromptMethod("blur", (image, mask) => VisualPrompts.BlurOutside(image, mask));
    public static RegionMethod MaskInversionBox { get; } = new MaskInversionMethod("maskinversion_box", MaskAblation.Box);
    public static RegionMethod MaskInversionErode { get; } = new MaskInversionMethod("maskinversion_erode", MaskAblation.Erode);
    public static RegionMethod MaskInversionDilate { get; } = new MaskInversionMethod("maskinversion_dilate", MaskAblation.Dilate);
}
