namespace MaskInversion.Grains;

/// <summary>A compute silo's engine or infrastructure failed on an image (a libtorch error, a checkpoint that cannot
/// load, out of memory): not about the image's own data, so the coordinator retries it and never records it as a
/// result. Carries the original error's type and message across grain calls, which the core's exception types cannot
/// cross (they have no Orleans codec).</summary>
[GenerateSerializer]
public sealed class ComputeFaultException(string message) : Exception(message)
{
    /// <summary>What a grain throws for <paramref name="error"/>: itself when it can already cross a grain call and means
    /// something to the caller (a handle no longer prepared, a cancellation, an Orleans error), else a
    /// <see cref="ComputeFaultException"/> naming its type and message.</summary>
    public static Exception Carry(Exception error) => error switch
    {
        ImageNotPreparedException or OperationCanceledException or OrleansException or ComputeFaultException => error,
        _ => new ComputeFaultException($"{error.GetType().Name}: {error.Message}"),
    };
}
