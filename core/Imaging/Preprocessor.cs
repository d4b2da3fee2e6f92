using MaskInversion.Core.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace MaskInversion.Core.Imaging;

/// <summary>How <see cref="Preprocessor"/> resizes an image to the model input.</summary>
public enum ResizeMode
{
    /// <summary>The reference's path: PIL's bicubic resize on 8-bit pixels (<see cref="PilResize"/>), then /255.
    /// Bit-exact with <c>LePreprocess</c> (torchvision <c>Resize</c> on a PIL image).</summary>
    Pil,
    /// <summary>libtorch's antialiased bicubic on float pixels, clamped to [0, 1]: same kernel, no 8-bit rounding
    /// between or after the passes (differs from <see cref="Pil"/> by up to about 1/255 per pixel).</summary>
    Float,
}

/// <summary>
/// CLIP input preprocessing as MaskInversion's reference does it (LeGrad's <c>LePreprocess</c>): a square resize
/// to <see cref="ImageSize"/> ignoring aspect (so no centre crop follows: every mask pixel stays in view), bicubic
/// with antialias, then ToTensor (/255) and OpenAI mean/std.
/// </summary>
public sealed class Preprocessor
{
    public const int DefaultImageSize = 448;
    public static readonly float[] OpenAIMean = [0.48145466f, 0.4578275f, 0.40821073f];
    public static readonly float[] OpenAIStd = [0.26862954f, 0.26130258f, 0.27577711f];

    public int ImageSize { get; }
    public ResizeMode Resize { get; }
    public IReadOnlyList<float> Mean { get; }
    public IReadOnlyList<float> Std { get; }

    public Preprocessor(int imageSize = DefaultImageSize, float[]? mean = null, float[]? std = null, ResizeMode resize = ResizeMode.Pil)
    {
        if (imageSize <= 0) throw new ArgumentOutOfRangeException(nameof(imageSize), imageSize, "Image size must be positive.");
        mean ??= OpenAIMean;
        std ??= OpenAIStd;
        if (mean.Length != 3 || std.Length != 3) throw new ArgumentException("Mean and std need one value per RGB channel.");
        if (std.Any(s => s <= 0)) throw new ArgumentException("Std values must be positive.", nameof(std));
        (ImageSize, Mean, Std, Resize) = (imageSize, (float[])mean.Clone(), (float[])std.Clone(), resize);
    }

    static readonly Scalar ByteMax = 255f.ToScalar(); // rooted: see Torch/Scalars

    /// <summary>float32 (1, 3, S, S), normalised.</summary>
    public Tensor ToPixels(RgbImage img)
    {
        using var scope = NewDisposeScope();
        bool resize = img.Width != ImageSize || img.Height != ImageSize;
        if (resize && Resize == ResizeMode.Pil) img = PilResize.Bicubic(img, ImageSize, ImageSize);
        var hwc = tensor(img.Pixels, [img.Height, img.Width, 3]);
        // ToTensor's order: to float, then divide by 255 (not multiply by 1/255: the last bit differs).
        var x = hwc.permute(2, 0, 1).unsqueeze(0).to_type(ScalarType.Float32).div_(ByteMax);
        if (resize && Resize == ResizeMode.Float)
        {
            x = nn.functional.interpolate(x, size: [ImageSize, ImageSize], mode: InterpolationMode.Bicubic,
                align_corners: false, antialias: true);
            // Bicubic overshoots at edges; clamp back to the valid range as an 8-bit resize would.
            x = x.clamp(Scalars.Zero, Scalars.One);
        }
        var mean = tensor(Mean.ToArray()).view(1, 3, 1, 1);
        var std = tensor(Std.ToArray()).view(1, 3, 1, 1);
        return ((x - mean) / std).contiguous().MoveToOuterDisposeScope();
    }

    /// <summary>float32 (B, 3, S, S); images may have different sizes.</summary>
    public Tensor ToPixelsBatch(IReadOnlyList<RgbImage> images)
    {
        if (images.Count == 0) throw new ArgumentException("The batch is empty.", nameof(images));
        using var scope = NewDisposeScope();
        var parts = images.Select(ToPixels).ToArray();
        return cat(parts, 0).MoveToOuterDisposeScope();
    }
}
