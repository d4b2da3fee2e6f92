namespace MaskInversion.Core.Imaging;

/// <summary>An image or mask file could not be read or decoded; the message names the file and the reason.
/// About the item's own data, so final (<see cref="ItemDataException"/>).</summary>
public sealed class ImageLoadException : ItemDataException
{
    /// <summary>The path (or caller-supplied name) of the offending file.</summary>
    public string Path => Subject;

    public ImageLoadException(string path, string message, Exception? inner = null) : base(path, message, inner) { }
}
