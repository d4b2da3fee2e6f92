using System.Net;
using System.Net.Sockets;
using MaskInversion.Core.Datasets;
using MaskInversion.Core.Synthetic;
using MaskInversion.Core.Training;
using MaskInversion.Grains;
using MaskInversion.Silo;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace MaskInversion.Web.Tests;

/// <summary>
/// A silo host exactly as the silo executable builds it (<see cref="SiloHost"/>), in this process, on loopback with a
/// web token; MiniCLIP scenes to run jobs on (one image made undecodable on purpose); and headless Debian chromium
/// driven by Playwright (never a downloaded browser). MaskInversion:ImageDelay slows every image so a small job can be
/// watched and cancelled mid-run.
/// </summary>
public sealed class WebSilo : IAsyncLifetime
{
    public const string Token = "web-tests-token-0123456789abcdef";
    public const string Chromium = "/usr/bin/chromium";
    public static readonly TimeSpan ImageDelay = TimeSpan.FromMilliseconds(400);
    const int ImageSize = 96;

    readonly string folder = Directory.CreateTempSubdirectory("mi-web-tests-").FullName;
    WebApplication? app;
    IPlaywright? playwright;

    public int HttpPort { get; } = FreePort();
    public Uri BaseUri => new($"http://127.0.0.1:{HttpPort}");
    public IGrainFactory Grains => app!.Services.GetRequiredService<IGrainFactory>();
    public IBrowserContext Browser { get; private set; } = null!;
    public string ScreenshotFolder { get; } = Path.Combine(AppContext.BaseDirectory, "TestResults", "screenshots");

    public async Task InitializeAsync()
    {
        int siloPort = FreePort(), gatewayPort = FreePort();
        var cluster = "web-" + Guid.NewGuid().ToString("N")[..8];
        app = SiloHost.Build([
            $"--Urls={BaseUri}", $"--Web:Token={Token}",
            $"--Cluster:ClusterId={cluster}", $"--Cluster:ServiceId={cluster}",
            $"--Cluster:SiloPort={siloPort}", $"--Cluster:PrimarySiloPort={siloPort}", $"--Cluster:GatewayPort={gatewayPort}",
            $"--MaskInversion:ImageDelay={ImageDelay}", "--MaskInversion:TorchThreads=1",
            "--Logging:LogLevel:Default=Warning",
        ]);
        await SiloHost.StartAsync(app);

        if (!File.Exists(Chromium)) throw new InvalidOperationException($"{Chromium} is missing: install Debian's chromium (.ci/run does).");
        playwright = await Playwright.CreateAsync();
        // A persistent context is how Playwright takes a user data dir: a fresh one per run.
        Browser = await playwright.Chromium.LaunchPersistentContextAsync(Path.Combine(folder, "chromium-profile"), new BrowserTypeLaunchPersistentContextOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync"],
            ViewportSize = new ViewportSize { Width = 1400, Height = 1000 },
        });
        Directory.CreateDirectory(ScreenshotFolder);
    }

    /// <summary>MiniCLIP scenes (2–4 objects each) in OpenImages layout; with <paramref name="corrupt"/> the second image's
    /// file holds text, not a JPEG. Returns the dataset root and the corrupt image's id.</summary>
    public (string Root, string? CorruptImage) WriteScenes(string name, int images, bool corrupt)
    {
        var root = Path.Combine(folder, name);
        SceneDataset.WriteOpenImages(root, "validation", images, MiniClip.HeldOutSceneSeed, MiniClip.Scenes(ImageSize, minObjects: 2));
        if (!corrupt) return (root, null);
        var victim = Directory.GetFiles(Path.Combine(root, "validation", "images")).Order(StringComparer.Ordinal).ElementAt(1);
        File.WriteAllText(victim, "this is not a JPEG");
        return (root, Path.GetFileNameWithoutExtension(victim));
    }

    /// <summary>The last image of the scenes and its last mask, as the dataset reader lists them.</summary>
    public (string ImageId, string MaskId) LastMask(string root)
    {
        var image = DatasetReaders.Open(new DatasetReaderOptions { Format = "openimages", Root = root, Split = "validation" })
            .ReadImages().Select(r => r.Image).OfType<DatasetImage>().Last();
        return (image.ImageId, image.Masks[^1].MaskId);
    }

    /// <summary>MaskInversion and the global CLIP baseline with the bundled MiniCLIP, two images in flight.</summary>
    public JobSettings Job(string root, string output, int overlays = 4)
    {
        var bundle = MiniClip.Locate() ?? throw new InvalidOperationException("The bundled MiniCLIP is missing from the build output.");
        return new JobSettings
        {
            Format = "openimages", DatasetRoot = root, Split = "validation", DatasetName = Path.GetFileName(root),
            Model = Path.Combine(bundle, MiniClip.ConfigFile), Weights = Path.Combine(bundle, MiniClip.WeightsFile), Tokenizer = bundle,
            ImageSize = ImageSize, Templates = "single", Methods = ["maskinversion", "clip"], Iterations = 10,
            OutputFolder = Path.Combine(folder, output), OverlaySamples = overlays, MaxInFlight = 2,
        };
    }

    public async Task<string> ScreenshotAsync(IPage page, string name)
    {
        var path = Path.Combine(ScreenshotFolder, name + ".png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
        return path;
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null) await Browser.DisposeAsync();
        playwright?.Dispose();
        if (app is not null)
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
        try { Directory.Delete(folder, recursive: true); } catch (IOException) { }
    }

    static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
