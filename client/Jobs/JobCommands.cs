using System.CommandLine;
using MaskInversion.Grains;
using Spectre.Console;

namespace MaskInversion.Client.Jobs;

/// <summary><c>client submit | status | watch | results | cancel</c> against a running cluster.</summary>
public static class JobCommands
{
    static readonly Option<string> JobOption = new("--job") { Description = "Job id.", Required = true };

    public static IEnumerable<Command> Create() => [Submit(), Status(), Watch(), Results(), Cancel()];

    static Command Submit()
    {
        var settings = new JobSettingsOptions();
        var job = new Option<string?>("--job") { Description = "Job id (default: a new one)." };
        var watch = new Option<bool>("--watch") { Description = "Watch until the job ends, then print its metrics." };
        var cmd = new Command("submit", "Submit a job to the cluster.");
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
            AnsiConsole.WriteLine(JobView.Line(await grain.SubmitAsync(jobSettings)));
            AnsiConsole.WriteLine($"Outputs: {jobSettings.OutputFolder}");
            if (r.GetValue(watch))
            {
                await JobView.WatchAsync(grain, ct);
                JobView.Results(await grain.GetResultsAsync());
            }
            return 0;
        });
        return cmd;
    }

    static Command WithJob(string name, string description, Func<IJobCoordinatorGrain, CancellationToken, Task> action)
    {
        var cmd = new Command(name, description) { JobOption };
        ClusterConnection.AddOptions(cmd);
        cmd.SetAction(async (r, ct) =>
        {
            await using var connection = await ClusterConnection.ConnectAsync(r, ct);
            await action(connection.Job(r.GetValue(JobOption)!), ct);
            return 0;
        });
        return cmd;
    }

    static Command Status() => WithJob("status", "Print a job's progress once.",
        async (job, _) => AnsiConsole.WriteLine(JobView.Line(await job.GetProgressAsync())));

    static Command Watch() => WithJob("watch", "Live progress (masks/s, ETA) until the job ends, then its metrics.", async (job, ct) =>
    {
        await JobView.WatchAsync(job, ct);
        JobView.Results(await job.GetResultsAsync());
    });

    static Command Results() => WithJob("results", "Print a job's metrics table (partial while it runs).",
        async (job, _) => JobView.Results(await job.GetResultsAsync()));

    static Command Cancel() => WithJob("cancel", "Stop dispatching a job; images in flight finish.",
        async (job, _) => AnsiConsole.WriteLine(JobView.Line(await job.CancelAsync())));
}
