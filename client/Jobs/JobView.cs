using System.Globalization;
using MaskInversion.Grains;
using Spectre.Console;

namespace MaskInversion.Client.Jobs;

/// <summary>How jobs are shown: a one-line status, a live progress bar, the metrics table.</summary>
public static class JobView
{
    public static string Line(JobProgress p)
    {
        var total = p.MasksTotal is { } t ? $"/{t}" : "";
        var eta = p.Eta is { } e ? $", ETA {e:hh\\:mm\\:ss}" : "";
        return string.Create(CultureInfo.InvariantCulture,
            $"{p.JobId}: {p.State} — images {p.ImagesDone} done, {p.ImagesFailed} failed; masks {p.MasksDone}{total} done, {p.MasksFailed} failed; " +
            $"{p.ReadErrors} read errors, {p.Retries} retries, {p.InFlight} in flight; {p.MasksPerSecond:F1} masks/s{eta}{(p.Error is null ? "" : " — " + p.Error)}");
    }

    public static bool Finished(JobProgress p) => p.State is JobState.Completed or JobState.Cancelled or JobState.Failed;

    /// <summary>Polls the coordinator and draws a progress bar (masks) until the job ends.</summary>
    public static async Task<JobProgress> WatchAsync(IJobCoordinatorGrain job, CancellationToken ct)
    {
        JobProgress last = await job.GetProgressAsync();
        await AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .StartAsync(async ctx =>
            {
                var bar = ctx.AddTask("masks", maxValue: 1);
                while (!ct.IsCancellationRequested)
                {
                    last = await job.GetProgressAsync();
                    double settled = last.MasksDone + last.MasksFailed;
                    bar.MaxValue = Math.Max(1, last.MasksTotal ?? settled + 1);
                    bar.Value = settled;
                    bar.Description = string.Create(CultureInfo.InvariantCulture, $"{last.State} {settled:F0} masks, {last.MasksPerSecond:F1}/s");
                    if (Finished(last)) { bar.Value = bar.MaxValue; break; }
                    await Task.Delay(250, ct);
                }
            });
        return last;
    }

    /// <summary>The metrics table: referring figures (Acc@1/5/10, mIoU, oIoU) for referring jobs, class retrieval
    /// otherwise (both when a job has both), with each inversion's mean final Dice loss (lower is better).</summary>
    public static void Results(JobResults results)
    {
        var title = $"[bold]{Markup.Escape(results.Progress.JobId)}[/] ({results.Progress.State})";
        bool referring = results.Methods.Any(m => m.Referring is not null);
        if (referring)
        {
            var table = new Table().Title(title).AddColumns("method", "Acc@1", "Acc@5", "Acc@10", "mIoU", "oIoU", "expressions", "mean Dice loss");
            foreach (var m in results.Methods)
            {
                var f = m.Referring;
                table.AddRow(m.Method, Pct(f?.Acc1), Pct(f?.Acc5), Pct(f?.Acc10), Pct(f?.MIoU), Pct(f?.OIoU),
                    f?.Expressions.ToString(CultureInfo.InvariantCulture) ?? "—", DiceLoss(m));
            }
            AnsiConsole.Write(table);
        }
        if (!referring || results.Methods.Any(m => m.Retrieval is not null))
        {
            var table = new Table().Title(title).AddColumns("method", "Acc@1", "Acc@5", "Acc@10", "mean per-class recall", "masks", "mean Dice loss");
            foreach (var m in results.Methods)
            {
                var r = m.Retrieval;
                table.AddRow(m.Method, Pct(r?.Acc1), Pct(r?.Acc5), Pct(r?.Acc10), Pct(r?.MeanPerClassRecall),
                    r?.Masks.ToString(CultureInfo.InvariantCulture) ?? "—", DiceLoss(m));
            }
            AnsiConsole.Write(table);
        }
        AnsiConsole.WriteLine(Line(results.Progress));
    }

    static string DiceLoss(MethodSummary m) => m.MeanDiceLoss?.ToString("F3", CultureInfo.InvariantCulture) ?? "—";

    static string Pct(double? v) => v is { } x ? (100 * x).ToString("F1", CultureInfo.InvariantCulture) : "—";
}
