using MaskInversion.Core.Datasets;
using MaskInversion.Core.Imaging;
using Microsoft.Extensions.Options;

namespace MaskInversion.Grains;

/// <summary>Where jobs may read datasets and write outputs (config section "Paths"). A job spec comes from any
/// client that reaches a gateway, so every dataset, classes, image, mask and output path it names is confined to
/// these folders on the silo (#14: a spec naming /etc/shadow as its classes file got its lines back).</summary>
public sealed class PathOptions
{
    public const string Section = "Paths";

    /// <summary>Folders under which dataset roots, annotation and classes files, images and masks may lie (after
    /// symbolic links are followed). Empty: the development default, the silo's current directory and the temp
    /// folder; a silo in production mode (Redis clustering) refuses to start without it.</summary>
    public string[] DatasetRoots { get; set; } = [];

    /// <summary>Folders under which a job's output folder may lie. Empty: the development default, as for
    /// <see cref="DatasetRoots"/>.</summary>
    public string[] OutputRoots { get; set; } = [];

    /// <summary>The development default roots: the current directory and the temp folder. A current directory that is
    /// the file system's root (a container's WORKDIR /) would allow everything, so it is left out then.</summary>
    public static string[] DevelopmentRoots()
    {
        var cwd = Directory.GetCurrentDirectory();
        return Path.GetPathRoot(cwd) == cwd ? [Path.GetTempPath()] : [cwd, Path.GetTempPath()];
    }

    /// <summary>Why a production silo cannot start with these options (null when it can): its roots must be configured.</summary>
    public string? ProductionProblem() =>
        DatasetRoots.Length == 0 ? $"{Section}:DatasetRoots must name the folders jobs may read (Paths__DatasetRoots__0=/data) when the cluster runs on Redis."
        : OutputRoots.Length == 0 ? $"{Section}:OutputRoots must name the folders jobs may write (Paths__OutputRoots__0=/jobs) when the cluster runs on Redis."
        : null;
}

/// <summary>The silo's resolved <see cref="PathOptions"/>: the policies every place a job path is opened goes through
/// (DI singleton). Refusals never say whether anything exists at the refused path.</summary>
public sealed class JobPaths
{
    public JobPaths(IOptions<PathOptions> options)
    {
        var o = options.Value;
        Datasets = new PathPolicy(o.DatasetRoots.Length > 0 ? o.DatasetRoots : PathOptions.DevelopmentRoots());
        Outputs = new PathPolicy(o.OutputRoots.Length > 0 ? o.OutputRoots : PathOptions.DevelopmentRoots());
        Images = new ImageLoadOptions { Paths = Datasets };
    }

    /// <summary>Where datasets may be read.</summary>
    public PathPolicy Datasets { get; }

    /// <summary>Where job folders may be written.</summary>
    public PathPolicy Outputs { get; }

    /// <summary>Image and mask decoding on this silo: default limits, dataset roots.</summary>
    public ImageLoadOptions Images { get; }

    /// <summary>Refuses a job whose dataset root, classes file or output folder lies outside the allowed folders, before
    /// anything there is opened. An <see cref="ArgumentException"/> naming the setting, which every client can read.</summary>
    public void CheckJob(JobSettings job)
    {
        Check("DatasetRoot", () => Datasets.Resolve(job.DatasetRoot, what: "dataset root"));
        if (job.ClassesFile is not null) Check("ClassesFile", () => Datasets.Resolve(job.ClassesFile, what: "classes file"));
        CheckOutput(job);
    }

    /// <summary>Refuses a job whose output folder lies outside <see cref="Outputs"/> (compute silos check it again before
    /// writing overlays: a plain Orleans client can send image work directly).</summary>
    public void CheckOutput(JobSettings job) => Check("OutputFolder", () => Outputs.ResolveOutputFolder(job.OutputFolder));

    static void Check(string setting, Func<string> resolve)
    {
        try { resolve(); }
        catch (PathNotAllowedException e) { throw new ArgumentException($"{setting}: {e.Message}"); }
    }
}
