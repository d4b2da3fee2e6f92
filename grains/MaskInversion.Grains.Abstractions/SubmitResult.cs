namespace MaskInversion.Grains;

/// <summary>The coordinator's answer to a submit: the job's progress when it was accepted, or why it was refused. A
/// refused job was not created: nothing was dispatched, stored or listed. A record rather than an exception, so every
/// client gets the reasons as data, whatever its serializer makes of exception types.</summary>
/// <param name="Problems">Empty when accepted; otherwise every reason, each naming the setting and the cause.</param>
[GenerateSerializer, Immutable]
public sealed record SubmitResult(
    [property: Id(0)] JobProgress? Progress,
    [property: Id(1)] string[] Problems)
{
    public bool Accepted => Problems.Length == 0;

    /// <summary>The refusal as text: one line per problem.</summary>
    public string Refusal(string jobId) => $"Job '{jobId}' refused:\n  " + string.Join("\n  ", Problems);
}
