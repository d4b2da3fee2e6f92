using MaskInversion.Core.Synthetic;
using MaskInversion.Core.Training;

namespace MaskInversion.Process.Tests;

/// <summary>Held-out MiniCLIP scenes (2–4 objects, written by the core's generator in OpenImages layout) in a temp
/// folder, and the `client submit` options that run MaskInversion and the global CLIP baseline on them with the
/// bundled MiniCLIP.</summary>
sealed class Scenes : IDisposable
{
    const int ImageSize = 96;
    readonly string folder = Path.Combine(Path.GetTempPath(), "mi-process-tests", "data-" + Guid.NewGuid().ToString("N")[..8]);
    readonly string bundle;
    readonly string root;

    /// <summary>The dataset folder (OpenImages layout).</summary>
    public string Root => root;
    public int Images { get; }
    public int Masks { get; }

    public Scenes(int images)
    {
        bundle = MiniClip.Locate() ?? throw new InvalidOperationException("The bundled MiniCLIP is missing from the build output.");
        root = Path.Combine(folder, "scenes");
        var summary = SceneDataset.WriteOpenImages(root, "validation", images, MiniClip.HeldOutSceneSeed, MiniClip.Scenes(ImageSize, minObjects: 2));
        Images = summary.Images;
        Masks = summary.Objects;
    }

    /// <summary>Everything but --job and the cluster connection. Eight images in flight by default: over two compute
    /// silos each holds several (one computing, others queued), so a killed or cut-off silo takes work with it.</summary>
    public IEnumerable<string> SubmitArguments(string outputs, int inFlight = 8) =>
    [
        "--dataset", root, "--format", "openimages", "--split", "validation",
        "--model", Path.Combine(bundle, MiniClip.ConfigFile), "--weights", Path.Combine(bundle, MiniClip.WeightsFile), "--tokenizer", bundle,
        "--templates", "single", "--image-size", ImageSize.ToString(), "--methods", "maskinversion,clip", "--iterations", "10",
        "--overlays", "0", "--in-flight", inFlight.ToString(), "--output", outputs,
    ];

    public void Dispose()
    {
        try { Directory.Delete(folder, recursive: true); } catch (IOException) { }
    }
}
