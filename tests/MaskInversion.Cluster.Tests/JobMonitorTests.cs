using MaskInversion.Grains;

namespace MaskInversion.Cluster.Tests;

/// <summary>The coordinator's dashboard bookkeeping stays bounded whatever the job's size, and counts per silo.</summary>
public sealed class JobMonitorTests
{
    static readonly JobProgress Running = new("j", JobState.Running, 0, 0, 0, 0, 0, null, null, 0, 0, 0, null, null, "/out");

    static ImageOutcome Image(int i, string silo, bool failedMask = false, bool failedImage = false) => new($"img{i}",
        [new MaskRecord($"img{i}/a", 0, [], failedImage ? "image broken" : null), new MaskRecord($"img{i}/b", 0, [], failedImage || failedMask ? "mask broken" : null)],
        failedImage ? "image broken" : null, Silo: silo);

    [Fact]
    public void Keeps_the_last_failures_newest_first_and_counts_all()
    {
        var monitor = new JobMonitor();
        for (int i = 0; i < 250; i++) monitor.Add(Image(i, "s1", failedMask: true));
        monitor.Add(Image(250, "s1", failedImage: true));
        var view = monitor.View(Running, running: true);
        Assert.Equal(251, view.FailuresSeen);
        Assert.Equal(JobMonitor.MaxFailures, view.Failures.Length);
        // A whole image fails as one item (no mask id), with the image's error.
        Assert.Equal(new { Image = "img250", Mask = (string?)null, Error = "image broken" }, new { Image = view.Failures[0].ImageId, Mask = view.Failures[0].MaskId, view.Failures[0].Error });
        Assert.Equal(("img249", "img249/b"), (view.Failures[1].ImageId, view.Failures[1].MaskId));
        Assert.Equal("img151", view.Failures[^1].ImageId);
    }

    [Fact]
    public void Counts_images_and_masks_per_silo()
    {
        var monitor = new JobMonitor();
        for (int i = 0; i < 5; i++) monitor.Add(Image(i, i % 2 == 0 ? "10.0.0.1:11111" : "10.0.0.2:11111"));
        monitor.AddReadError("annotations.csv:7", "bad row");
        var view = monitor.View(Running, running: true);
        Assert.Equal([("10.0.0.1:11111", 3L, 6L), ("10.0.0.2:11111", 2L, 4L)], view.Silos.Select(s => (s.Silo, s.Images, s.Masks)));
        Assert.Equal("annotations.csv:7", Assert.Single(view.Failures).ImageId);
        // Sampled when the first image settled; the next sample is due a second later, not per image.
        Assert.Equal(2, Assert.Single(view.History).MasksSettled);
    }

    [Fact]
    public void History_is_a_bounded_ring_of_rate_samples()
    {
        var monitor = new JobMonitor();
        // One sample per View at most every SampleInterval: the ring never holds more than MaxSamples.
        var view = monitor.View(Running, running: true);
        Assert.Single(view.History);
        Assert.Single(monitor.View(Running, running: true).History);   // within the interval: no new sample
        Assert.Equal(0, view.History[0].MasksPerSecond);
    }

    [Theory]
    [InlineData(64, 48, 256, 192)]
    [InlineData(96, 96, 256, 256)]
    [InlineData(500, 375, 500, 375)]
    [InlineData(2048, 1536, 768, 576)]
    public void Overlays_are_drawn_at_a_readable_size(int width, int height, int expectedWidth, int expectedHeight) =>
        Assert.Equal((expectedWidth, expectedHeight), OverlayWriter.ReadableSize(width, height));
}
