using MaskInversion.Core.Imaging;
using TorchSharp;
using static TorchSharp.torch;

namespace MaskInversion.Core.Pipeline.Methods;

/// <summary>MaskInversion (DESIGN.md §1) on the mask as given or on one of its quality ablations (box, eroded,
/// dilated). All masks of the image are inverted in one batch against the image's cached decomposition.</summary>
public sealed class MaskInversionMethod(string name, MaskAblation ablation) : RegionMethod(name)
{
    public MaskAblation Ablation { get; } = ablation;
    public override bool IsInversion => true;

    public override RegionEmbeddings Embed(RegionEngine engine, PreparedImage image, IReadOnlyList<MaskInput> masks)
    {
        var settings = engine.Settings;
        // Each mask at its own resolution: the loss resizes the map to the mask (the reference's Dice).
        var targets = masks.Select(m => MaskLoader.ToTensor(MaskAblations.Apply(m.Mask, Ablation))).ToList();
        var options = settings.Inversion with { ReturnMaps = settings.ReturnedMapSize > 0 };
        using var output = engine.Inverter.Invert(image.Features, targets, options);
        Tensor? maps = null;
        if (output.Maps is not null)
            maps = torch.nn.functional.interpolate(output.Maps.unsqueeze(1), size: [settings.ReturnedMapSize, settings.ReturnedMapSize],
                mode: InterpolationMode.Bilinear, align_corners: false).squeeze(1);
        return new RegionEmbeddings(output.Embeddings.clone(), output.FinalDice.clone(), maps);
    }
}
