namespace MaskInversion.Core.Inversion;

/// <summary>How ∂s/∂A is obtained each step (DESIGN.md §2).</summary>
public enum InversionPath
{
    /// <summary>Pick explicit or implicit per image from the mask count, iterations and memory.</summary>
    Auto,
    /// <summary>Autograd ∂s/∂A with create_graph, then a double backward (the paper's baseline).</summary>
    Vanilla,
    /// <summary>The image's linear map u ↦ Q materialised once; each step is one (M,d)×(d,n·D) product.</summary>
    Explicit,
    /// <summary>u ↦ Q applied each step from cached per-token quantities.</summary>
    Implicit,
}

/// <summary>MaskInversion hyper-parameters. Defaults follow the paper (K = 10, AdamW, no weight decay)
/// and the reference code (lr 0.1).</summary>
public sealed record InversionOptions
{
    public int Iterations { get; init; } = 10;
    public double LearningRate { get; init; } = 0.1;
    /// <summary>Weight of α·(1 − cos(LET, LET₀)): 5 for referring expressions, 0 for class retrieval.</summary>
    public double Alpha { get; init; } = 0;
    public double WeightDecay { get; init; } = 0;
    public InversionPath Path { get; init; } = InversionPath.Auto;
    /// <summary>Largest explicit map an image may hold (bytes).</summary>
    public long ExplicitMapBudgetBytes { get; init; } = 2L << 30;
    /// <summary>Memory for one chunk's attention gradients (M·h·n² floats and their backward); bounds the batch.</summary>
    public long StepMemoryBudgetBytes { get; init; } = 1L << 30;
    /// <summary>Soft cap on the largest per-chunk temporary (see MaskInverter.ChunkSize). Measured on a 2-core VM at
    /// ViT-B/16, 224 px: per-mask time of the LeGrad step doubles from 2 to 4+ masks per 1.9 MB gradient tensor.</summary>
    public long PreferredAllocationBytes { get; init; } = 8L << 20;
    /// <summary>Smallest chunk the soft cap may produce.</summary>
    public int MinChunk { get; init; } = 1;
    /// <summary>Keep the final explainability maps in the output.</summary>
    public bool ReturnMaps { get; init; } = true;

    public void Validate()
    {
        if (Iterations < 0) throw new ArgumentOutOfRangeException(nameof(Iterations), Iterations, "Iterations must be ≥ 0.");
        if (!(LearningRate > 0) || double.IsInfinity(LearningRate)) throw new ArgumentOutOfRangeException(nameof(LearningRate), LearningRate, "Learning rate must be a positive number.");
        if (Alpha < 0 || double.IsNaN(Alpha)) throw new ArgumentOutOfRangeException(nameof(Alpha), Alpha, "α must be ≥ 0.");
        if (WeightDecay < 0 || double.IsNaN(WeightDecay)) throw new ArgumentOutOfRangeException(nameof(WeightDecay), WeightDecay, "Weight decay must be ≥ 0.");
    }
}
