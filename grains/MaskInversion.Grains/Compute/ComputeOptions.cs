namespace MaskInversion.Grains;

/// <summary>What one silo does and how much of the machine its executor may use (config section "MaskInversion").</summary>
public sealed class ComputeOptions
{
    public const string Section = "MaskInversion";

    /// <summary>Hosts image and mask grains (has the device). Silos without it never run tensor work.</summary>
    public bool Compute { get; set; } = true;
    /// <summary>Hosts job coordinators.</summary>
    public bool Coordinator { get; set; } = true;
    /// <summary>Budget for prepared images (forward caches) held at once; beyond it new images wait.</summary>
    public long CacheBudgetBytes { get; set; } = 2L << 30;
    /// <summary>Requests waiting for the executor thread; producers await when it is full (back-pressure).</summary>
    public int QueueCapacity { get; set; } = 1024;
    /// <summary>Most masks of one image in one Evaluate call.</summary>
    public int MaxBatchMasks { get; set; } = 128;
    /// <summary>How long a partial batch waits for the rest of its image's masks.</summary>
    public TimeSpan BatchLinger { get; set; } = TimeSpan.FromMilliseconds(25);
    /// <summary>Distinct engines (model + classes + hyper-parameters) kept loaded.</summary>
    public int EngineCacheSize { get; set; } = 2;
    /// <summary>torch.set_num_threads at silo start (process-wide); 0 keeps libtorch's default.</summary>
    public int TorchThreads { get; set; }
    /// <summary>After releasing a prepared image, return the C allocator's free memory to the system (glibc
    /// malloc_trim) when this long has passed since the last time; zero never does. Without it a compute silo's RSS
    /// keeps what libtorch freed (see core's NativeHeap).</summary>
    public TimeSpan NativeHeapTrimInterval { get; set; } = TimeSpan.FromSeconds(10);
    /// <summary>"auto" (CUDA when the libtorch backend has it, else CPU), "cpu", "cuda" or "cuda:N".</summary>
    public string Device { get; set; } = "auto";
    /// <summary>FAULT INJECTION, tests only (0 = off, the default): the first N batches this executor runs (Evaluate or
    /// referring) fail with an <see cref="System.Runtime.InteropServices.ExternalException"/>, as libtorch's errors do,
    /// so tests can show an engine fault is retried and never recorded as the items' result. Never set in production.</summary>
    public int InjectEngineFaults { get; set; }

    /// <summary>Demos and the dashboard's browser tests: each image grain waits this long before preparing its image, so
    /// a small synthetic job runs long enough to watch (and to cancel). Zero in production.</summary>
    public TimeSpan ImageDelay { get; set; }
}
