using System.Runtime.InteropServices;

namespace MaskInversion.Core.Torch;

/// <summary>
/// Hands freed native memory back to the OS. libtorch and Skia allocate with glibc's malloc, which keeps large freed
/// blocks in its arenas (TorchSharp #1466): after one big image a silo stayed at 2.8 GB (#14). <c>malloc_trim(0)</c>
/// releases the free pages of every arena. It walks the heap (milliseconds), so call it after large frees, not per
/// tensor. A no-op where glibc is absent.
/// </summary>
public static partial class NativeHeap
{
    static bool available = OperatingSystem.IsLinux();

    /// <summary>Returns free native heap memory to the OS; true when some was released.</summary>
    public static bool Trim()
    {
        if (!available) return false;
        try { return malloc_trim(0) != 0; }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            available = false; // musl and other libcs have no malloc_trim
            return false;
        }
    }

    /// <summary>Resident set size of this process in bytes (Linux /proc), or -1 where unknown.</summary>
    public static long ResidentBytes()
    {
        if (!OperatingSystem.IsLinux()) return -1;
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return long.Parse(line.AsSpan(6).Trim().TrimEnd("kB").Trim(), System.Globalization.CultureInfo.InvariantCulture) * 1024;
        return -1;
    }

    [LibraryImport("libc", EntryPoint = "malloc_trim")]
    private static partial int malloc_trim(nuint pad);
}
