using System.CommandLine;
using System.Globalization;
using MaskInversion.Grains;
using Spectre.Console;

namespace MaskInversion.Client.Jobs;

/// <summary><c>client submit | status | watch | results | cancel | list</c> against a running cluster. Each exits
/// with <see cref="ExitCodes"/>: a job's end state, a refusal, an unknown id or an unreachable cluster each have their own.</summary>
public static class JobCommands
{
    static readonly Option<string> JobOption = new("--job") { Description = "Job id.", Required = true };

    public static IEnumerable<Command> Create() => [Submit(), Status(), Watch(), Results(), Cancel(), List()];

    static Command Submit()
    {
        var settings = new JobSettingsOptions();
        var job = new Option<string?>("--job") { Description = "Job id (default: a new one)." };
        var watch = new Option<bool>("--watch") { Description = "Watch until the job ends, then print its metrics (exit code by its end state)." };
        var cmd = new Command("submit", "Submit a job to the cluster. The cluster checks the model, weights, tokenizer and dataset first and refuses a job that cannot work (exit code 2).");
        settings.AddTo(cmd);
        cmd.Options.Add(job);
        cmd.Options.Add(watch);
        ClusterConnection.AddOptions(cmd);
        cmd.SetAction(async (r, ct) =>
        {
            var id = r.GetValue(job) ?? $"job-{DateTime.UtcNow:yyyyMMdd-HHmmss}";
            var jobSettings = settings.Bind(r, id);
            await using var connection = await ClusterConnection.ConnectAsync(r, ct);
            var grain = connection.Job(id);
            var submitted = await grain.TrySubmitAsync(jobSettings);
            if (!submitted.Accepted) throw new CommandFailedException(ExitCodes.Usage, submitted.Refusal(id));
            AnsiConsole.WriteLine(JobView.Line(submitted.Progress!));
            AnsiConsole.WriteLine($"Outputs: {jobSettings.OutputFolder}");
            if (!r.GetValue(watch)) return ExitCodes.Ok;
            await JobView.WatchAsync(grain, ct);
            return Ended(await grain.GetResultsAsync());
        });
        return cmd;
    }

    /// <summary>A command on one job: an id no job has is "no such job" (exit 3), not a NotStarted job.</summary>
    static Command WithJob(string name, string description, Func<IJobCoordinatorGrain, CancellationToken, Task<int>> action)
    {
        var cmd = new Command(name, description) { JobOption };
        ClusterConnection.AddOptions(cmd);
        cmd.SetAction(async (r, ct) =>
        {
            var id = r.GetValue(JobOption)!;
            await using var connection = await ClusterConnection.ConnectAsync(r, ct);
            var job = connection.Job(id);
            if ((await job.GetProgressAsync()).State == JobState.NotStarted)
                throw new CommandFailedException(ExitCodes.NoSuchJob, $"no such job '{id}'; 'client list' shows the cluster's jobs.");
            return await action(job, ct);
        });
        return cmd;
    }

    static Command Status() => WithJob("status", "Print a job's progress once (exit code by its state: 0 running or completed, 1 failed, 4 cancelled).",
        async (job, _) =>
        {
            var p = await job.GetProgressAsync();
            AnsiConsole.WriteLine(JobView.Line(p));
            return ExitCodes.Of(p.State);
        });

    static Command Watch() => WithJob("watch", "Live progress (masks/s, ETA) until the job ends, then its metrics (exit code by its end state).", async (job, ct) =>
    {
        await JobView.WatchAsync(job, ct);
        return Ended(await job.GetResultsAsync());
    });

    static Command Results() => WithJob("results", "Print a job's metrics table (partial while it runs; exit code by its state).",
        async (job, _) => Ended(await job.GetResultsAsync()));

    static Command Cancel() => WithJob("cancel", "Stop dispatching a job; images in flight finish.", async (job, _) =>
    {
        AnsiConsole.WriteLine(JobView.Line(await job.CancelAsync()));
        return ExitCodes.Ok;
    });

    static Command List()
    {
        var cmd = new Command("list", "The cluster's jobs, most recently submitted first.");
        ClusterConnection.AddOptions(cmd);
        cmd.SetAction(async (r, ct) =>
        {
            await using var connection = await ClusterConnection.ConnectAsync(r, ct);
            var jobs = await connection.JobList.ListAsync();
            if (jobs.Length == 0)
            {
                AnsiConsole.WriteLine("No jobs.");
                return ExitCodes.Ok;
            }
            // One line per job (greppable, never wrapped by a table): id, state, submitted, dataset, masks, error.
            int width = jobs.Max(j => j.JobId.Length);
            foreach (var j in jobs)
            {
                var total = j.MasksTotal is { } t ? "/" + Count(t) : "";
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{j.JobId.PadRight(width)}  {j.State,-10}  submitted {j.SubmittedAt.UtcDateTime:yyyy-MM-dd HH:mm:ss}Z  {j.DatasetName}  masks {j.MasksDone}{total} done, {j.MasksFailed} failed{(j.Error is null ? "" : " — " + j.Error)}"));
            }
            return ExitCodes.Ok;
        });
        return cmd;
    }

    /// <summary>Prints the results; a failed job's reason goes to stderr as well, where scripts look.</summary>
    static int Ended(JobResults results)
    {
        JobView.Results(results);
        if (results.Progress.State == JobState.Failed) Console.Error.WriteLine($"job '{results.Progress.JobId}' failed: {results.Progress.Error}");
        return ExitCodes.Of(results.Progress.State);
    }

    static string Count(long n) => n.ToString(CultureInfo.InvariantCulture);
}
