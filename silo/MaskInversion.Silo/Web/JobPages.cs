using System.Reflection;
using MaskInversion.Core;
using MaskInversion.Grains;

namespace MaskInversion.Silo.Web;

/// <summary>
/// The dashboard's job pages and their JSON: <c>/jobs</c> (every job), <c>/jobs/{id}</c> (one job, live through
/// <see cref="JobEvents"/>), <c>/api/jobs</c>, <c>/api/jobs/{id}</c>, <c>POST /api/jobs/{id}/cancel</c> and the job's
/// overlay PNGs. The pages are plain HTML + JavaScript embedded in this assembly (Web/Pages). Access is WebAccess's:
/// loopback only without a token, the token otherwise (a browser opens <c>/jobs?access_token=…</c> once).
/// </summary>
public static class JobPages
{
    public static IEndpointRouteBuilder MapJobPages(this IEndpointRouteBuilder app, bool orleansDashboard)
    {
        app.MapGet("/jobs", () => Page("jobs.html", orleansDashboard));
        app.MapGet("/jobs/{id}", (string id) => Page("job.html", orleansDashboard));
        app.MapGet("/jobs/assets/style.css", () => Results.Content(Resource("style.css"), "text/css; charset=utf-8"));

        app.MapGet("/api/jobs", async (IGrainFactory grains) =>
            Results.Json(await grains.GetGrain<IJobRegistryGrain>(IJobRegistryGrain.Key).ListAsync(), JobDashboard.Json));

        app.MapGet("/api/jobs/{id}", async (string id, IGrainFactory grains) =>
            await JobDashboard.ReadAsync(grains, id) is { } view ? Results.Json(view, JobDashboard.Json) : NoSuchJob(id));

        // POST only: a link or an image tag cannot cancel a job (and the token cookie is SameSite=Strict).
        app.MapPost("/api/jobs/{id}/cancel", async (string id, IGrainFactory grains) =>
        {
            if (await grains.GetGrain<IJobRegistryGrain>(IJobRegistryGrain.Key).GetAsync(id) is null) return NoSuchJob(id);
            return Results.Json(await grains.GetGrain<IJobCoordinatorGrain>(id).CancelAsync(), JobDashboard.Json);
        });

        // Any mask, on request: a compute silo draws it (POST: it computes and writes files).
        app.MapPost("/api/jobs/{id}/overlays", async (string id, string image, string mask, IGrainFactory grains) =>
        {
            var entry = await grains.GetGrain<IJobRegistryGrain>(IJobRegistryGrain.Key).GetAsync(id);
            if (entry is null) return NoSuchJob(id);
            try
            {
                var files = await grains.GetGrain<IJobCoordinatorGrain>(id).DrawOverlayAsync(image, mask);
                return Results.Json(JobDashboard.Sample(OverlayWriter.SafeName(mask), files), JobDashboard.Json);
            }
            catch (Exception ex) when (ex is ArgumentException or IOException or InvalidDataException or ItemDataException)
            {
                return Results.Problem(statusCode: StatusCodes.Status422UnprocessableEntity, title: $"No overlay for image '{image}', mask '{mask}'", detail: ex.Message);
            }
        });

        app.MapGet("/api/jobs/{id}/overlays/{file}", async (string id, string file, IGrainFactory grains) =>
        {
            var entry = await grains.GetGrain<IJobRegistryGrain>(IJobRegistryGrain.Key).GetAsync(id);
            if (entry is null) return NoSuchJob(id);
            // Only names OverlayWriter makes: no separators, no "..", so nothing outside the overlay folder is served.
            if (OverlayWriter.SafeName(file) != file || file.Contains("..") || !file.EndsWith(".png", StringComparison.Ordinal))
                return Results.BadRequest($"'{file}' is not an overlay file name.");
            var path = Path.Combine(JobDashboard.OverlayFolder(entry.OutputFolder) ?? "", file);
            return File.Exists(path) ? Results.File(path, "image/png") : Results.NotFound($"Job '{id}' has no overlay '{file}' on this silo.");
        });
        return app;
    }

    static IResult NoSuchJob(string id) => Results.NotFound($"No job '{id}'.");

    static IResult Page(string name, bool orleansDashboard)
    {
        var html = Resource(name);
        // The link beside the job pages is only drawn when this silo serves the Orleans dashboard.
        html = html.Replace("{{orleansDashboard}}", orleansDashboard ? "<a href=\"/dashboard/\">Orleans dashboard</a>" : "");
        return Results.Content(html, "text/html; charset=utf-8");
    }

    static readonly Dictionary<string, string> Cache = new(StringComparer.Ordinal);

    static string Resource(string name)
    {
        lock (Cache)
        {
            if (Cache.TryGetValue(name, out var cached)) return cached;
            using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("MaskInversion.Silo.Web.Pages." + name)
                ?? throw new InvalidOperationException($"Page {name} is not embedded in the silo assembly.");
            using var reader = new StreamReader(stream);
            return Cache[name] = reader.ReadToEnd();
        }
    }
}
