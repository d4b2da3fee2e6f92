using System.Diagnostics;
using System.Globalization;
using MaskInversion.Core.Runtime;

namespace MaskInversion.Client.Commands;

/// <summary>This process's memory at one moment, for the benches' curves: resident set (what the OS charges, native
/// tensors and glibc arenas included), the managed heap after the last GC, and what the GC has committed.</summary>
public readonly record struct MemorySample(double RssMb, double ManagedMb, double GcCommittedMb)
{
    const double Mb = 1024 * 1024;

    public static MemorySample Now()
    {
        using var self = Process.GetCurrentProcess();
        var gc = GC.GetGCMemoryInfo();
        return new MemorySample(self.WorkingSet64 / Mb, gc.HeapSizeBytes / Mb, gc.TotalCommittedBytes / Mb);
    }

    /// <summary>After a full blocking collection: what is really still referenced.</summary>
    public static MemorySample AfterFullGc()
    {
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        return Now();
    }

    /// <summary>After glibc's malloc_trim: what the C allocator kept of memory native code (libtorch) freed. The gap to
    /// <see cref="AfterFullGc"/> is memory nothing uses but the process still holds (TorchSharp #1466).</summary>
    public static MemorySample AfterMallocTrim()
    {
        NativeHeap.Trim();
        return Now();
    }

    public string Json => string.Create(CultureInfo.InvariantCulture, $"\"rss_mb\":{RssMb:F1},\"managed_mb\":{ManagedMb:F1},\"gc_committed_mb\":{GcCommittedMb:F1}");
}
