using MaskInversion.Core.Pipeline;

namespace MaskInversion.Grains;

/// <summary>
/// What a job must pass before the coordinator accepts it (#13: a wrong model name, a missing, pickle or junk weights
/// file, a checkpoint of another architecture or a wrong dataset root gave a job that "completed" with a table of
/// zeros). The settings are normalised, then core's <see cref="EngineSettingsValidator"/> judges the dataset (format,
/// root, files, class list) and the engine — after the silo's path confinement (<see cref="JobPaths"/>) — (model, weights header, tokenizer, templates, inversion). Every problem is
/// reported, each naming the setting and the cause. Blocking file reads: call it off the grain scheduler.
/// </summary>
public static class JobAdmission
{
    /// <summary>The normalised settings, or null with the problems that refuse the job.</summary>
    public static (JobSettings? Job, string[] Problems) Check(JobSettings settings, JobPaths paths)
    {
        JobSettings job;
        try
        {
            job = settings.Normalise();
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or FormatException)
        {
            return (null, ["Settings: " + ex.Message]);
        }
        // Confinement first: nothing at a path outside the silo's roots is opened, not even to judge it (#14).
        try
        {
            paths.CheckJob(job);
        }
        catch (ArgumentException ex)
        {
            return (null, [ex.Message]);
        }
        // The class names are the dataset's (judged with the dataset) or, in a referring job, none.
        var problems = EngineSettingsValidator.ValidateDataset(job.Format, job.DatasetRoot, job.Split, job.ClassesFile, job.ToReaderOptions(paths.Datasets))
            .Concat(EngineSettingsValidator.Validate(job.ToEngineSettings([]), classesFromDataset: true))
            .ToArray();
        return problems.Length == 0 ? (job, []) : (null, problems);
    }
}
