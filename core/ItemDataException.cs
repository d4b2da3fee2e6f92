namespace MaskInversion.Core;

/// <summary>
/// An error about one item's own data — an unreadable, corrupt or truncated image, a missing or undecodable mask,
/// a mask whose size does not fit its image, an empty mask, a decompression bomb, a path outside the allowed roots.
/// Retrying cannot help, so a job records the message as that item's result and goes on.
/// <para>
/// Everything that is not one of these (libtorch and out-of-memory errors, I/O on the infrastructure, a dead silo)
/// says nothing about the item: it is retried, never recorded as the item's result. <see cref="IsAboutItem"/> is
/// the one test callers use to tell the two apart.
/// </para>
/// </summary>
public class ItemDataException : Exception
{
    /// <summary>What the error is about: the item's file path (as the dataset gives it) or its id.</summary>
    public string Subject { get; }

    public ItemDataException(string subject, string message, Exception? inner = null) : base(message, inner) => Subject = subject;

    /// <summary>True when <paramref name="error"/> (or, for an aggregate, every error in it) is about the item's own
    /// data and so final; false for anything that may succeed on a retry.</summary>
    public static bool IsAboutItem(Exception error) => error switch
    {
        ItemDataException => true,
        AggregateException a => a.InnerExceptions.Count > 0 && a.InnerExceptions.All(IsAboutItem),
        _ => false,
    };
}
