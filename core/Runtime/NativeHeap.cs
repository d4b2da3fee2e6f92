using System.Runtime.InteropServices;

namespace MaskInversion.Core.Runtime;

/// <summary>
/// glibc's malloc keeps memory that native code freed (libtorch's CPU tensors: every prepared image's activations) in
/// its arenas instead of returning it to the system (TorchSharp #1466), so a compute process's RSS climbs to the high
/// water mark of its fragmented arenas and stays there. <see cref="Trim"/> hands the free pages back. Measured with
/// <c>bench load</c> (10k masks, bundled model): 43 MB of a 351 MB RSS was such memory.
/// </summary>
public static class NativeHeap
{
    static bool unavailable;

    /// <summary>malloc_trim(0) where the C library is glibc; false where it is not (then a no-op from then on).</summary>
    public static bool Trim()
    {
        if (unavailable || !OperatingSystem.IsLinux()) return false;
        try
        {
            return MallocTrim(0) != 0;
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            unavailable = true;   // musl and others: nothing to trim this way
            return false;
        }
    }

    [DllImport("libc", EntryPoint = "malloc_trim")]
    static extern int MallocTrim(nuint pad);
}
