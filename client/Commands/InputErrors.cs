using MaskInversion.Core;
using MaskInversion.Core.Imaging;
using MaskInversion.Core.Pipeline;
using MaskInversion.Core.Weights;

namespace MaskInversion.Client.Commands;

/// <summary>Errors in what the user gave (an option's value, a missing or unusable file, an unknown model, a refused
/// job): their messages name the item and the cause, so the CLI prints the message alone and exits 2. Anything else
/// is a bug and keeps its stack trace.</summary>
public static class InputErrors
{
    public static bool Is(Exception e) => e is ArgumentException or IOException or ImageLoadException or CheckpointException or InvalidDataException
        or KeyNotFoundException or UnauthorizedAccessException or FormatException or InvalidJobSettingsException or ItemDataException;

    /// <summary>The message to print: a settings refusal keeps its list of problems; an ArgumentException's
    /// "(Parameter 'x')" suffix and actual-value lines are dropped.</summary>
    public static string Message(Exception e) => e switch
    {
        InvalidJobSettingsException => e.Message,
        ArgumentException a => string.Join('\n', a.Message.Split('\n').Where(l => !l.StartsWith("Actual value was", StringComparison.Ordinal)))
            .Replace($" (Parameter '{a.ParamName}')", ""),
        _ => e.Message.Split('\n')[0],
    };
}
