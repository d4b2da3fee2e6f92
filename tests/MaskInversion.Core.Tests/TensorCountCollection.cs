namespace MaskInversion.Core.Tests;

/// <summary>Tests that count live tensors process-wide must not run beside other tensor tests.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TensorCountCollection
{
    public const string Name = "Live tensor counting";
}
