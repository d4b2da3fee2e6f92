using MaskInversion.Core.Datasets;
using MaskInversion.Core.Pipeline;
using MaskInversion.Grains;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace MaskInversion.Cluster.Tests;

/// <summary>The executor issues handles to prepared images; a handle works on its own executor until released,
/// and anywhere else it fails with ImageNotPreparedException (the caller prepares again).</summary>
public sealed class PreparedImageHandleTests
{
    static ComputeExecutor NewExecutor() => new(Options.Create(new ComputeOptions()), NullLogger<ComputeExecutor>.Instance);

    [Fact]
    public async Task A_handle_works_only_on_its_executor_and_only_until_released()
    {
        using var data = new JobFixtureData(images: 1, faults: false);
        var job = data.Settings("handles").Normalise();
        var reader = DatasetReaders.Open(job.ToReaderOptions());
        var image = DirectRun.Images(reader).First();
        var masks = image.Masks.Select(m => new MaskWork(m.MaskId, 0, m.ClassId, m.Source.ToData(), false)).ToArray();
        var work = new ImageWork("job", image.ImageId, image.ImagePath, masks, job, reader.Classes.Select(c => c.Name).ToArray());
        using var a = NewExecutor();
        using var b = NewExecutor();

        var handle = await a.PrepareAsync(ImagePlan.For(work, expectedMasks: 1));
        Assert.Equal((a.Id, image.ImageId), (handle.Executor, handle.ImageId));
        Assert.True(a.CachedBytes > 0);
        var mask = MaskInput.Load(image.Masks[0].MaskId, image.Masks[0].Source, handle.Width, handle.Height);
        var results = await a.EvaluateAsync(handle, mask);
        Assert.Equal(["maskinversion", "clip"], results.Select(r => r.Method.Name));

        var foreign = await Assert.ThrowsAsync<ImageNotPreparedException>(() => b.EvaluateAsync(handle, mask));
        Assert.Contains("prepare it here", foreign.Message);
        await b.ReleaseAsync(handle);   // not b's: nothing happens to a's image
        Assert.Single(await a.EvaluateAsync(handle, mask with { MaskId = "again" }), r => r.Method.Name == "clip");

        await a.ReleaseAsync(handle);
        var released = await Assert.ThrowsAsync<ImageNotPreparedException>(() => a.EvaluateAsync(handle, mask));
        Assert.Contains("released", released.Message);
        Assert.Equal(0, a.CachedBytes);
        Assert.Equal(0, b.Forwards);
    }
}
