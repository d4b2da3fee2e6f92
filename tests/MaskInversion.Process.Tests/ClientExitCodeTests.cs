using System.Diagnostics;
using Xunit.Abstractions;

namespace MaskInversion.Process.Tests;

/// <summary>#13 through the real CLI: every mistake is one clear line and its own exit code (0 done, 1 job failed,
/// 2 bad input or refused, 3 no such job, 4 cancelled, 5 no cluster), never a stack trace or a success.</summary>
[Collection(StandaloneCollection.Name)]
public sealed class ClientExitCodeTests(ITestOutputHelper output)
{
    static void OneLineNoTrace(string text)
    {
        Assert.DoesNotContain("Unhandled exception", text);
        Assert.DoesNotContain("   at ", text);
        Assert.DoesNotContain("fail:", text);
    }

    [Fact]
    public async Task Without_a_cluster_each_mistake_is_one_line_with_its_exit_code()
    {
        var folder = Path.Combine(Path.GetTempPath(), "mi-process-tests", "cli-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(folder);
        var cli = new ClientCli(folder, []);
        int port = Ports.Free();

        // No silo: a bounded wait, then one line naming where it looked and how to start one.
        var clock = Stopwatch.StartNew();
        var (code, text) = await cli.RunForExitCodeAsync(["status", "--job", "x", "--gateway", port.ToString(), "--connect-timeout", "3"]);
        output.WriteLine($"status, no silo ({clock.Elapsed.TotalSeconds:F1} s): {code}\n{text}");
        Assert.Equal(5, code);
        Assert.Contains($"error: no gateway at 127.0.0.1:{port} (cluster id 'maskinversion') answered within 3 s", text);
        Assert.Contains("start a silo with: dotnet run --project silo/MaskInversion.Silo -c Release", text);
        OneLineNoTrace(text);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"status took {clock.Elapsed} without a silo");
        Assert.Equal(5, (await cli.RunForExitCodeAsync(["list", "--gateway", port.ToString(), "--connect-timeout", "1"])).ExitCode);

        (code, text) = await cli.RunForExitCodeAsync(["submit", "--gateway", port.ToString()]);
        Assert.Equal((2, "error: --dataset is required."), (code, text.Trim()));
        (code, text) = await cli.RunForExitCodeAsync(["status"]);
        Assert.Equal(2, code);
        Assert.Contains("error: Option '--job' is required.", text);
        OneLineNoTrace(text);
        (code, text) = await cli.RunForExitCodeAsync(["tokenize", "a cat", "--tokenizer", Path.Combine(folder, "vocab.txt")]);
        Assert.Equal(2, code);
        Assert.Matches("^error: Tokenizer not found: '.*vocab.txt' is neither a file nor a directory.$", text.Trim());
        (code, text) = await cli.RunForExitCodeAsync(["bench", "cluster", "--model", "ViT-Q-99", "--images", "2", "--data", Path.Combine(folder, "bench")]);
        output.WriteLine($"bench, unknown model: {code}\n{text}");
        Assert.Equal(2, code);
        Assert.Contains("Model: Unknown model 'ViT-Q-99'", text);
        OneLineNoTrace(text);

        (code, text) = await cli.RunForExitCodeAsync(["--help"]);
        Assert.Equal(0, code);
        Assert.Contains("Exit codes: 0 done", text);
        try { Directory.Delete(folder, recursive: true); } catch (IOException) { }
    }

    [Fact]
    public async Task Against_a_silo_unknown_ids_refusals_and_failed_jobs_have_their_own_exit_codes()
    {
        using var scenes = new Scenes(3);
        using var broken = new Scenes(2);
        foreach (var image in Directory.GetFiles(broken.Root, "*.jpg", SearchOption.AllDirectories))
            File.WriteAllBytes(image, "this is not a JPEG"u8.ToArray());
        using var cluster = ProcessCluster.Development("exit-codes", out int primarySilo, out int primaryGateway);
        try
        {
            await cluster.StartAsync(cluster.Spec("primary", SiloRole.Both) with { SiloPort = primarySilo, GatewayPort = primaryGateway, PrimarySiloPort = primarySilo });
            var cli = cluster.Client;

            var (code, text) = await cli.RunForExitCodeAsync(["status", "--job", "never-submitted"]);
            Assert.Equal((3, "error: no such job 'never-submitted'; 'client list' shows the cluster's jobs."), (code, text.Trim()));
            Assert.Equal(3, (await cli.RunForExitCodeAsync(["results", "--job", "never-submitted"])).ExitCode);

            var unknownModel = scenes.SubmitArguments(cluster.Outputs).ToArray();
            unknownModel[Array.IndexOf(unknownModel, "--model") + 1] = "ViT-Q-99";
            (code, text) = await cli.RunForExitCodeAsync(["submit", "--job", "refused", .. unknownModel]);
            output.WriteLine($"refused submit: {code}\n{text}");
            Assert.Equal(2, code);
            Assert.StartsWith("error: Job 'refused' refused:", text.Trim());
            Assert.Contains("Model: Unknown model 'ViT-Q-99'", text);
            OneLineNoTrace(text);
            Assert.Equal(3, (await cli.RunForExitCodeAsync(["status", "--job", "refused"])).ExitCode);   // not created

            (code, text) = await cli.RunForExitCodeAsync(["submit", "--job", "good", "--watch", .. scenes.SubmitArguments(cluster.Outputs)]);
            Assert.Equal(0, code);
            Assert.Equal("Completed", ClientCli.Parse(text[text.LastIndexOf("good:", StringComparison.Ordinal)..]).State);
            Assert.Equal(0, (await cli.RunForExitCodeAsync(["status", "--job", "good"])).ExitCode);

            (code, text) = await cli.RunForExitCodeAsync(["submit", "--job", "all-broken", "--watch", .. broken.SubmitArguments(cluster.Outputs)]);
            output.WriteLine($"all images broken: {code}\n{text}");
            Assert.Equal(1, code);
            Assert.Contains("job 'all-broken' failed: every item failed the same way", text);
            (code, text) = await cli.RunForExitCodeAsync(["status", "--job", "all-broken"]);
            Assert.Equal(1, code);
            Assert.Contains("all-broken: Failed", text);

            (code, text) = await cli.RunForExitCodeAsync(["list"]);
            output.WriteLine(text);
            Assert.Equal(0, code);
            Assert.Matches(@"(?m)^all-broken\s+Failed\s+submitted .* masks 0/6 done, 6 failed — every item failed the same way", text);
            Assert.Matches(@"(?m)^good\s+Completed\s+submitted .* masks 8/8 done, 0 failed$", text);
            Assert.DoesNotContain("refused", text);
        }
        catch (Exception)
        {
            cluster.Keep = true;
            output.WriteLine(cluster.Describe());
            throw;
        }
    }
}
