using System.Runtime.InteropServices;
using MaskInversion.Core.Runtime;

namespace MaskInversion.Core.Tests.Runtime;

public sealed class NativeHeapTests
{
    /// <summary>Blocks under glibc's mmap threshold come from the heap arena; freed, they stay mapped until a trim
    /// hands them back, and malloc_trim reports that it released memory. (CI and the images are Debian: glibc.)</summary>
    [Fact]
    public void Trim_releases_memory_that_native_code_freed()
    {
        Assert.True(OperatingSystem.IsLinux(), "The silo images are Linux/glibc; this test documents that platform.");
        NativeHeap.Trim();
        var blocks = new nint[16_384];
        for (int i = 0; i < blocks.Length; i++)
        {
            blocks[i] = Marshal.AllocHGlobal(4096);   // malloc
            for (int offset = 0; offset < 4096; offset += 512) Marshal.WriteByte(blocks[i], offset, 1);   // resident
        }
        foreach (var b in blocks) Marshal.FreeHGlobal(b);

        Assert.True(NativeHeap.Trim());
    }
}
