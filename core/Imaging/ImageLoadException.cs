namespace MaskInversion.Core.Imaging;

/// <summary>An image or mask file could not be decoded; the message names the file and the reason.</summary>
public sealed class ImageLoadException : Exception
{
    /// <summary>The path (or caller-supplied name) of the offending file.</summary>
    public string Path { get; }

    public ImageLoadException(string path, string message, Exception? inner = null) : base(message, inner) => Path = path;
}
