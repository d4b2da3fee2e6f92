using System.Runtime.CompilerServices;
using System.Text.Json;
using MaskInversion.Grains;

namespace MaskInversion.Silo.Web;

/// <summary>
/// <c>GET /api/jobs/{id}/events</c>: the job page's live updates as server-sent events, one <see cref="JobPageView"/>
/// (JSON) every <see cref="Period"/> until the job is over (one last event then) or the browser goes. SSE rather than
/// SignalR: one direction is all the page needs, EventSource reconnects by itself, and it passes WebAccess's cookie.
/// </summary>
public static class JobEvents
{
    public static readonly TimeSpan Period = TimeSpan.FromSeconds(1);

    public static IEndpointRouteBuilder MapJobEvents(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/jobs/{id}/events", async (string id, IGrainFactory grains, CancellationToken aborted) =>
        {
            var first = await JobDashboard.ReadAsync(grains, id);
            if (first is null) return Results.NotFound($"No job '{id}'.");
            return TypedResults.ServerSentEvents(StreamAsync(grains, id, first, aborted), eventType: "job");
        });
        return app;
    }

    static async IAsyncEnumerable<string> StreamAsync(IGrainFactory grains, string id, JobPageView first, [EnumeratorCancellation] CancellationToken aborted)
    {
        var view = first;
        while (true)
        {
            yield return JsonSerializer.Serialize(view, JobDashboard.Json);
            if (JobDashboard.IsOver(view.Monitor.Progress.State)) yield break;
            try
            {
                await Task.Delay(Period, aborted);
            }
            catch (OperationCanceledException)
            {
                yield break;
            }
            view = await JobDashboard.ReadAsync(grains, id) ?? view;
        }
    }
}
