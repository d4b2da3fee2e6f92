using MaskInversion.Grains;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;
using Orleans.TestingHost;

namespace MaskInversion.Cluster.Tests;

/// <summary>Development and embedded mode keep mask records in Orleans' memory storage: they must expire like Redis
/// keys do, or a long-running silo's memory grows by every mask it ever computed.</summary>
public sealed class ExpiringGrainStorageTests
{
    static readonly TimeSpan Lifetime = TimeSpan.FromMilliseconds(600);

    [Fact]
    public async Task A_record_is_readable_within_its_lifetime_and_gone_after_it()
    {
        await using var cluster = await StartAsync();
        var storage = Storage(cluster);
        var id = GrainId.Create("mask", "job/image/mask-1");

        await storage.WriteStateAsync("mask", id, new GrainState<MaskGrainState> { State = new() { Record = Record("mask-1") } });
        var read = new GrainState<MaskGrainState> { State = new() };
        await storage.ReadStateAsync("mask", id, read);
        Assert.True(read.RecordExists);
        Assert.Equal("mask-1", read.State.Record?.MaskId);

        await WaitUntilAsync(() => ((ExpiringGrainStorage)storage).Pending == 0);
        var after = new GrainState<MaskGrainState> { State = new() };
        await storage.ReadStateAsync("mask", id, after);
        Assert.False(after.RecordExists);
        Assert.Null(after.State.Record);
    }

    [Fact]
    public async Task A_record_written_again_lives_a_full_lifetime_from_its_last_write()
    {
        await using var cluster = await StartAsync();
        var storage = Storage(cluster);
        var id = GrainId.Create("mask", "job/image/mask-2");
        var state = new GrainState<MaskGrainState> { State = new() { Record = Record("first") } };
        await storage.WriteStateAsync("mask", id, state);
        await Task.Delay(Lifetime / 2);
        state.State = new() { Record = Record("second") };
        await storage.WriteStateAsync("mask", id, state);

        // The first write's clear comes due now; it names the first ETag, so the second record stays.
        await WaitUntilAsync(() => ((ExpiringGrainStorage)storage).Pending == 1);
        var read = new GrainState<MaskGrainState> { State = new() };
        await storage.ReadStateAsync("mask", id, read);
        Assert.Equal("second", read.State.Record?.MaskId);

        await WaitUntilAsync(() => ((ExpiringGrainStorage)storage).Pending == 0);
        var after = new GrainState<MaskGrainState> { State = new() };
        await storage.ReadStateAsync("mask", id, after);
        Assert.False(after.RecordExists);
    }

    static MaskRecord Record(string maskId) => new(maskId, 0, [new MethodResult("maskinversion", [0, 1], [0.9f, 0.1f], 0.5f, null)], null);

    static IGrainStorage Storage(InProcessTestCluster cluster) =>
        cluster.Silos[0].ServiceProvider.GetRequiredKeyedService<IGrainStorage>(StorageNames.Masks);

    static async Task<InProcessTestCluster> StartAsync()
    {
        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureSilo((_, silo) => silo.AddExpiringMemoryGrainStorage(StorageNames.Masks, Lifetime));
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return cluster;
    }

    static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("Expiry did not happen within 30 s.");
            await Task.Delay(50);
        }
    }
}
