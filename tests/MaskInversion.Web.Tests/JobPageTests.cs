using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.RegularExpressions;
using MaskInversion.Grains;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace MaskInversion.Web.Tests;

/// <summary>The job page in headless chromium: it updates while the job runs, lists the failed item with its error,
/// cancels the job, and shows a finished job's metrics and overlays. Screenshots land in TestResults/screenshots.</summary>
public sealed class JobPageTests(WebSilo silo, ITestOutputHelper output) : IClassFixture<WebSilo>
{
    static readonly TimeSpan Patience = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task Running_job_page_updates_shows_the_failed_item_and_cancels()
    {
        var (root, corrupt) = silo.WriteScenes("running", images: 60, corrupt: true);
        const string job = "web-running";
        await silo.Grains.GetGrain<IJobCoordinatorGrain>(job).SubmitAsync(silo.Job(root, "out-running"));

        var page = await silo.Browser.NewPageAsync();
        // The browser's way in: ?access_token= once, then the cookie carries the token (also for the event stream).
        await page.GotoAsync(new Uri(silo.BaseUri, $"/jobs/{job}?access_token={WebSilo.Token}").ToString());
        Assert.EndsWith($"/jobs/{job}", page.Url);

        long first = await WaitForNumberAsync(page, "#masks-done", n => n > 0);
        Assert.Equal("Running", await page.TextContentAsync("#state"));
        // Live: the same page, no reload, shows more masks as the job goes on.
        long later = await WaitForNumberAsync(page, "#masks-done", n => n > first);
        Assert.True(later > first);

        // The undecodable image: its row names the image and carries the decoder's error.
        var row = page.Locator("#failures tbody tr", new PageLocatorOptions { HasText = corrupt });
        await row.First.WaitForAsync(new LocatorWaitForOptions { Timeout = (float)Patience.TotalMilliseconds });
        var error = await row.First.Locator("td.error").TextContentAsync();
        Assert.False(string.IsNullOrWhiteSpace(error));
        Assert.True(await WaitForNumberAsync(page, "#masks-failed", n => n > 0) > 0);
        // The silo computing it, with its executor's queue and cache.
        var siloRow = await page.Locator("#silos tbody tr").First.TextContentAsync();
        Assert.Contains("127.0.0.1", siloRow);
        Assert.Matches(new Regex(@"[KMG]iB"), siloRow!);
        Assert.NotEqual("–", await page.TextContentAsync("#masks-per-second"));

        output.WriteLine($"screenshot (mid-run): {await silo.ScreenshotAsync(page, "job-running")}");

        page.Dialog += async (_, dialog) => await dialog.AcceptAsync();
        await page.ClickAsync("#cancel");
        await WaitForTextAsync(page, "#state", "Cancelled");
        var progress = await silo.Grains.GetGrain<IJobCoordinatorGrain>(job).GetProgressAsync();
        Assert.Equal(JobState.Cancelled, progress.State);
        Assert.True(progress.ImagesDone + progress.ImagesFailed < 60, "the job finished before the cancel reached it");
        Assert.True(await page.IsDisabledAsync("#cancel"));
        output.WriteLine($"screenshot (cancelled): {await silo.ScreenshotAsync(page, "job-cancelled")}");
    }

    [Fact]
    public async Task Finished_job_page_shows_metrics_and_readable_overlays()
    {
        var (root, _) = silo.WriteScenes("finished", images: 8, corrupt: false);
        const string job = "web-finished";
        await silo.Grains.GetGrain<IJobCoordinatorGrain>(job).SubmitAsync(silo.Job(root, "out-finished", overlays: 4));

        var page = await silo.Browser.NewPageAsync();
        await page.GotoAsync(new Uri(silo.BaseUri, $"/jobs/{job}?access_token={WebSilo.Token}").ToString());
        await WaitForNumberAsync(page, "#masks-done", n => n > 0);
        output.WriteLine($"screenshot (mid-run): {await silo.ScreenshotAsync(page, "job-finished-mid-run")}");
        await WaitForTextAsync(page, "#state", "Completed");

        var methods = await page.Locator("#methods tbody tr").AllTextContentsAsync();
        Assert.Equal(2, methods.Count);
        Assert.Contains(methods, m => m.StartsWith("maskinversion", StringComparison.Ordinal) && m.Contains('%'));
        var results = await silo.Grains.GetGrain<IJobCoordinatorGrain>(job).GetResultsAsync();
        var acc1 = results.Methods.Single(m => m.Method == "maskinversion").Retrieval!.Acc1;
        Assert.Contains((100 * acc1).ToString("F1", CultureInfo.InvariantCulture) + "%", methods.First(m => m.StartsWith("maskinversion", StringComparison.Ordinal)));
        Assert.Equal(results.Progress.MasksDone.ToString(CultureInfo.InvariantCulture), await page.TextContentAsync("#masks-done"));

        // Four samples: image, mask, the LET₀ map and MaskInversion's final map each (the CLIP baseline draws none),
        // loaded, drawn at least 256 px wide and stored at least 256 px wide (the scenes are 96 px).
        var samples = page.Locator("#gallery .sample");
        await samples.Nth(3).WaitForAsync(new LocatorWaitForOptions { Timeout = (float)Patience.TotalMilliseconds });
        Assert.Equal(4, await samples.CountAsync());
        for (int i = 0; i < 4; i++)
            Assert.Equal(["image", "mask", "initial map (LET₀)", "maskinversion final map"], await samples.Nth(i).Locator("figcaption").AllTextContentsAsync());
        var gallery = page.Locator("#gallery img");
        await page.WaitForFunctionAsync("[...document.querySelectorAll('#gallery img')].every(i => i.complete)");
        var sizes = await page.EvaluateAsync<int[][]>("[...document.querySelectorAll('#gallery img')].map(i => [i.naturalWidth, Math.round(i.getBoundingClientRect().width)])");
        Assert.All(sizes, s => { Assert.True(s[0] >= 256, $"an overlay is {s[0]} px wide"); Assert.True(s[1] >= 256, $"an overlay is drawn {s[1]} px wide"); });

        // Any mask on request: the last image's last mask (beyond the job's four samples), drawn through the form.
        var (imageId, maskId) = silo.LastMask(root);
        await page.FillAsync("#draw-image", imageId);
        await page.FillAsync("#draw-mask", maskId);
        await page.ClickAsync("#draw button");
        var requested = page.Locator("#requested .sample");
        await requested.WaitForAsync(new LocatorWaitForOptions { Timeout = (float)Patience.TotalMilliseconds });
        Assert.Contains(maskId, await requested.TextContentAsync());
        Assert.Equal(["image", "mask", "initial map (LET₀)", "maskinversion final map"], await requested.Locator("figcaption").AllTextContentsAsync());
        await page.WaitForFunctionAsync("[...document.querySelectorAll('#requested img')].every(i => i.complete && i.naturalWidth >= 256)");
        // A mask the image does not have: the error names it.
        await page.FillAsync("#draw-mask", "no-such-mask");
        await page.ClickAsync("#draw button");
        await page.WaitForFunctionAsync("document.querySelector('#draw-result').textContent.includes('no-such-mask')");
        output.WriteLine($"screenshot (finished): {await silo.ScreenshotAsync(page, "job-finished")}");

        var jobs = await silo.Browser.NewPageAsync();
        await jobs.GotoAsync(new Uri(silo.BaseUri, "/jobs").ToString());
        await jobs.Locator($"#jobs a[href='/jobs/{job}']").WaitForAsync();
        Assert.Contains("Completed", await jobs.Locator("#jobs tbody tr", new PageLocatorOptions { HasText = job }).TextContentAsync());
    }

    [Fact]
    public async Task Prometheus_endpoint_counts_masks_and_failures()
    {
        var (root, _) = silo.WriteScenes("metrics", images: 3, corrupt: true);
        const string job = "web-metrics";
        var coordinator = silo.Grains.GetGrain<IJobCoordinatorGrain>(job);
        await coordinator.SubmitAsync(silo.Job(root, "out-metrics", overlays: 0));
        var deadline = DateTime.UtcNow + Patience;
        JobProgress progress;
        while ((progress = await coordinator.GetProgressAsync()).State == JobState.Running && DateTime.UtcNow < deadline) await Task.Delay(200);
        Assert.Equal(JobState.Completed, progress.State);
        Assert.True(progress.MasksFailed > 0);

        using var http = new HttpClient { BaseAddress = silo.BaseUri };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", WebSilo.Token);
        var text = await http.GetStringAsync("/metrics");
        output.WriteLine(text);
        // Other tests' jobs share this silo: at least this job's figures.
        Assert.True(Sample(text, "maskinversion_masks_processed_total") >= progress.MasksDone);
        Assert.True(Sample(text, "maskinversion_masks_failed_total") >= progress.MasksFailed);
        Assert.True(Sample(text, "maskinversion_executor_masks_evaluated_total") >= progress.MasksDone);
        Assert.True(Sample(text, "maskinversion_executor_cache_budget_bytes") > 0);
        foreach (var name in new[] { "maskinversion_image_retries_total", "maskinversion_executor_queue_depth", "maskinversion_executor_cache_bytes", "maskinversion_executor_masks_per_second" })
            Assert.True(Sample(text, name) >= 0);
    }

    [Fact]
    public async Task Every_dashboard_endpoint_needs_the_token()
    {
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = silo.BaseUri };
        foreach (var (method, path) in new[] { ("GET", "/jobs"), ("GET", "/jobs/x"), ("GET", "/jobs/assets/style.css"), ("GET", "/api/jobs"), ("GET", "/api/jobs/x"),
                     ("GET", "/api/jobs/x/events"), ("GET", "/api/jobs/x/overlays/a.png"), ("POST", "/api/jobs/x/cancel"), ("GET", "/metrics") })
        {
            using var anonymous = await http.SendAsync(new HttpRequestMessage(new HttpMethod(method), path), HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
            using var wrong = new HttpRequestMessage(new HttpMethod(method), path) { Headers = { Authorization = new AuthenticationHeaderValue("Bearer", WebSilo.Token[..^1] + "X") } };
            Assert.Equal(HttpStatusCode.Unauthorized, (await http.SendAsync(wrong, HttpCompletionOption.ResponseHeadersRead)).StatusCode);
        }
        foreach (var (path, expected) in new[] { ("/jobs", HttpStatusCode.OK), ("/api/jobs", HttpStatusCode.OK), ("/metrics", HttpStatusCode.OK), ("/api/jobs/no-such-job", HttpStatusCode.NotFound),
                     ("/api/jobs/no-such-job/events", HttpStatusCode.NotFound) })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, path) { Headers = { Authorization = new AuthenticationHeaderValue("Bearer", WebSilo.Token) } };
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal(expected, response.StatusCode);
        }
        // Beyond loopback without a token the host refuses to be built at all.
        var refusal = Assert.Throws<InvalidOperationException>(() => MaskInversion.Silo.SiloHost.Build(["--Urls=http://0.0.0.0:1"]));
        Assert.Contains("Web:Token is not set", refusal.Message);
    }

    static double Sample(string exposition, string name)
    {
        var m = Regex.Match(exposition, $@"^{name} (\S+)$", RegexOptions.Multiline);
        Assert.True(m.Success, $"{name} missing from /metrics");
        return double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
    }

    static async Task<long> WaitForNumberAsync(IPage page, string selector, Func<long, bool> done)
    {
        var deadline = DateTime.UtcNow + Patience;
        string? text = null;
        while (DateTime.UtcNow < deadline)
        {
            text = await page.TextContentAsync(selector);
            if (long.TryParse(text, CultureInfo.InvariantCulture, out var n) && done(n)) return n;
            await Task.Delay(100);
        }
        throw new TimeoutException($"{selector} still reads '{text}' after {Patience}.");
    }

    static async Task WaitForTextAsync(IPage page, string selector, string expected)
    {
        var deadline = DateTime.UtcNow + Patience;
        string? text = null;
        while (DateTime.UtcNow < deadline)
        {
            if ((text = await page.TextContentAsync(selector)) == expected) return;
            await Task.Delay(100);
        }
        throw new TimeoutException($"{selector} still reads '{text}' after {Patience}, not '{expected}'.");
    }
}
