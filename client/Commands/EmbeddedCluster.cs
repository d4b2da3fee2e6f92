using System.Net;
using MaskInversion.Client.Jobs;
using MaskInversion.Core.Runtime;
using MaskInversion.Grains;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace MaskInversion.Client.Commands;

/// <summary>Embedded mode: one silo in this process with both roles, localhost clustering on free ports and memory
/// storage, so one command (demo, bench cluster) runs a whole job.</summary>
public static class EmbeddedCluster
{
    /// <summary>One process, whose coordinator checkpoints every 2 s and whose storage dies with it: a mask record is
    /// only ever read within seconds of being written, so a minute bounds them without costing a recomputation.</summary>
    public static readonly TimeSpan MaskRecordLifetime = TimeSpan.FromMinutes(1);

    /// <summary>Call first in a command that will host a silo, before anything can touch TorchSharp: libtorch's
    /// OpenMP team then shares the process with grain threads and must not spin against them. (Single-threaded
    /// tensor loops — training, bench decomposition — keep OpenMP's default.)</summary>
    public static void BeforeFirstTensor() => OpenMpSettings.PreferPassiveWaits();

    /// <param name="paths">The silo's allowed folders: those of the jobs this process runs (<see cref="PathsFor"/>); its
    /// gateway listens on loopback, where other local users could reach it.</param>
    /// <param name="configure">Runs after the storage defaults (a storage it adds under the same name replaces one) and before
    /// AddMaskInversion (its IImageProcessor replaces the image grains): the benches use it.</param>
    public static async Task<ClusterConnection> StartAsync(ComputeOptions compute, PathOptions paths, CancellationToken ct, Action<ISiloBuilder>? configure = null)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning).AddFilter("Orleans", LogLevel.Error);
        int siloPort = FreePort(), gatewayPort = FreePort();
        builder.UseOrleans(silo =>
        {
            silo.UseLocalhostClustering(siloPort, gatewayPort, new IPEndPoint(IPAddress.Loopback, siloPort), "maskinversion-embedded", "maskinversion-embedded");
            silo.AddMemoryGrainStorage(StorageNames.Jobs);
            silo.AddExpiringMemoryGrainStorage(StorageNames.Masks, MaskRecordLifetime);
            silo.UseInMemoryReminderService();
            configure?.Invoke(silo);
            silo.AddMaskInversion(compute);
            silo.Services.Configure<PathOptions>(p => (p.DatasetRoots, p.OutputRoots) = (paths.DatasetRoots, paths.OutputRoots));
        });
        var host = builder.Build();
        await host.StartAsync(ct);
        return new ClusterConnection(host, host.Services.GetRequiredService<IGrainFactory>());
    }

    /// <summary>Allowed folders for one dataset and one folder of job outputs. A dataset root may be a file (a manifest,
    /// an annotation file): its folder is allowed then.</summary>
    public static PathOptions PathsFor(string datasetRoot, string outputsFolder)
    {
        var full = Path.GetFullPath(datasetRoot);
        return new PathOptions { DatasetRoots = [File.Exists(full) ? Path.GetDirectoryName(full)! : full], OutputRoots = [Path.GetFullPath(outputsFolder)] };
    }

    static int FreePort()
    {
        using var socket = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        socket.Start();
        return ((IPEndPoint)socket.LocalEndpoint).Port;
    }
}
