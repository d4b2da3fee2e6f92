using MaskInversion.Core.Torch;
using TorchSharp;

namespace MaskInversion.Core.Tests.Torch;

public class NativeHeapTests
{
    [Fact]
    public void TrimRunsAndResidentSizeIsReadOnLinux()
    {
        Assert.True(OperatingSystem.IsLinux(), "the project runs on Linux x64 (README)");
        long before = NativeHeap.ResidentBytes();
        Assert.InRange(before, 10L << 20, 1L << 40);
        // Many heap-sized blocks freed: trimming must not fail, whatever glibc decides to release.
        var blocks = Enumerable.Range(0, 64).Select(_ => torch.ones(16 * 1024)).ToList();
        foreach (var b in blocks) b.Dispose();
        NativeHeap.Trim();
        Assert.True(NativeHeap.ResidentBytes() > 0);
    }
}
