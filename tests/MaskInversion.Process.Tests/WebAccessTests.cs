using System.Net;
using System.Net.Http.Headers;
using System.Text.RegularExpressions;
using MaskInversion.Silo;
using Microsoft.Extensions.Configuration;

namespace MaskInversion.Process.Tests;

/// <summary>The silo's HTTP endpoints (dashboard with its log stream, job pages and their API, /metrics, status page): loopback only unless a token is
/// configured, and then nothing without the token.</summary>
[Collection(StandaloneCollection.Name)]
public sealed class WebAccessTests
{
    const string Token = "0123456789abcdef0123456789abcdef";

    [Theory]
    [InlineData("http://localhost:8080", true)]
    [InlineData("http://127.0.0.1:8080", true)]
    [InlineData("http://[::1]:8080", true)]
    [InlineData("https://localhost", true)]
    [InlineData("http://0.0.0.0:8080", false)]
    [InlineData("http://*:8080", false)]
    [InlineData("http://+:8080", false)]
    [InlineData("http://[::]:8080", false)]
    [InlineData("http://silo-0.example:8080", false)]
    [InlineData("http://10.0.0.5:8080", false)]
    public void Only_localhost_and_loopback_addresses_stay_on_the_machine(string url, bool loopback) =>
        Assert.Equal(loopback, WebAccess.IsLoopback(url));

    [Fact]
    public void Http_ports_without_urls_bind_every_interface()
    {
        // ASPNETCORE_HTTP_PORTS=8080 is the default of .NET's container images.
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["http_ports"] = "8080" }).Build();
        var urls = WebAccess.ConfiguredUrls(config);
        Assert.Equal(["http://*:8080"], urls);
        var refusal = Assert.Throws<InvalidOperationException>(() => WebAccess.Validate(urls, new WebSettings()));
        Assert.Contains("Web:Token is not set", refusal.Message);
        WebAccess.Validate(urls, new WebSettings { Token = Token });
        Assert.Throws<InvalidOperationException>(() => WebAccess.Validate(urls, new WebSettings { Token = "short" }));
    }

    [Theory]
    [InlineData("--Urls=http://0.0.0.0:{port}", "Web:Token is not set")]
    [InlineData("--Urls=http://0.0.0.0:{port} --Web:Token=short", "use at least 16")]
    [InlineData("--Cluster:RedisConection=127.0.0.1:6379", "RedisConection")]
    // A production (Redis) silo confines jobs to folders it must be given (#14).
    [InlineData("--Cluster:RedisConnection=127.0.0.1:1", "Paths:DatasetRoots must name the folders jobs may read")]
    [InlineData("--Cluster:RedisConnection=127.0.0.1:1 --Paths:DatasetRoots:0=/data", "Paths:OutputRoots must name the folders jobs may write")]
    [InlineData("--Paths:DatasetRoot=/data", "DatasetRoot")]
    public async Task Silo_refuses_to_start(string arguments, string message)
    {
        var folder = Directory.CreateTempSubdirectory("mi-web-").FullName;
        try
        {
            var args = arguments.Replace("{port}", Ports.Free().ToString()).Split(' ');
            using var silo = ManagedProcess.Start("silo", "dotnet", [BuildOutputs.SiloDll, .. args], Path.Combine(folder, "silo.log"));
            Assert.True(await silo.WaitForExitAsync(TimeSpan.FromSeconds(60)), "the silo kept running");
            Assert.Equal(2, silo.ExitCode);
            Assert.Contains(message, silo.Output);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task Beyond_loopback_every_endpoint_needs_the_token()
    {
        var folder = Directory.CreateTempSubdirectory("mi-web-").FullName;
        int port = Ports.Free(), siloPort = Ports.Free();
        using var silo = ManagedProcess.Start("silo", "dotnet",
            [BuildOutputs.SiloDll, $"--Urls=http://0.0.0.0:{port}", $"--Web:Token={Token}", $"--Cluster:SiloPort={siloPort}",
             $"--Cluster:PrimarySiloPort={siloPort}", $"--Cluster:GatewayPort={Ports.Free()}", "--MaskInversion:Compute=false"],
            Path.Combine(folder, "silo.log"));
        try
        {
            await silo.WaitForLineAsync(new Regex("Application started"), TimeSpan.FromSeconds(90));
            Assert.Contains("0.0.0.0", ListeningSockets.Addresses(port));
            using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
            foreach (var path in new[] { "/", "/dashboard", "/dashboard/Trace", "/jobs", "/jobs/x", "/api/jobs", "/api/jobs/x/events", "/metrics" })
            {
                using var anonymous = await http.GetAsync(path, HttpCompletionOption.ResponseHeadersRead);
                Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
                using var wrong = new HttpRequestMessage(HttpMethod.Get, path) { Headers = { Authorization = new AuthenticationHeaderValue("Bearer", Token[..^1] + "X") } };
                Assert.Equal(HttpStatusCode.Unauthorized, (await http.SendAsync(wrong, HttpCompletionOption.ResponseHeadersRead)).StatusCode);
            }
            foreach (var path in new[] { "/", "/dashboard/", "/jobs", "/api/jobs", "/metrics" })
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, path) { Headers = { Authorization = new AuthenticationHeaderValue("Bearer", Token) } };
                using var response = await http.SendAsync(request);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }
            // A browser: ?access_token= once sets the cookie and redirects to the bare path; the cookie then suffices.
            using var login = await http.GetAsync($"/dashboard/?access_token={Token}");
            Assert.Equal(HttpStatusCode.Redirect, login.StatusCode);
            Assert.Equal("/dashboard/", login.Headers.Location?.OriginalString);
            var cookie = Assert.Single(login.Headers.GetValues("Set-Cookie"));
            Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
            using var withCookie = new HttpRequestMessage(HttpMethod.Get, "/dashboard/") { Headers = { { "Cookie", cookie.Split(';')[0] } } };
            Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(withCookie)).StatusCode);
        }
        finally
        {
            silo.Dispose();
            Directory.Delete(folder, recursive: true);
        }
    }
}
