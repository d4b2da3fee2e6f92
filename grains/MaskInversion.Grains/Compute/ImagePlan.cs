using MaskInversion.Core.Pipeline;

namespace MaskInversion.Grains;

/// <summary>What the executor needs to prepare one image and batch its masks: the job (for the engine and the
/// methods), the image, and how many masks will come.</summary>
/// <param name="ExpectedMasks">Evaluate requests that will come for this image, so their batch runs as soon as all arrived.</param>
/// <param name="OverlayFolder">Where masks asking for overlays get their PNGs.</param>
public sealed record ImagePlan(JobSettings Job, IReadOnlyList<string> ClassNames, string ImageId, string ImagePath, int ExpectedMasks,
    IReadOnlyList<RegionMethod> Methods, string OverlayFolder)
{
    public static ImagePlan For(ImageWork work, int expectedMasks) =>
        new(work.Job, work.ClassNames, work.ImageId, work.ImagePath, expectedMasks, work.Job.ToRegionMethods(), JobOutputs.OverlayFolder(work.Job));
}
