using System.Globalization;
using System.Runtime.InteropServices;
using MaskInversion.Core.Imaging;
using SkiaSharp;

namespace MaskInversion.Core.Datasets;

/// <summary>
/// Writes a dataset in the OpenImages V7 segmentation layout that <see cref="OpenImagesReader"/> reads
/// (default <see cref="OpenImagesLayout"/>: split-level images/ and masks/ folders), so synthetic scene
/// generators and tests produce data through the same code path as the real dataset. Masks are 8-bit
/// grayscale PNGs (0 / 255) like the official ones; rows are written in the order they are added.
/// </summary>
public sealed class OpenImagesWriter : IDisposable
{
    static readonly string[] Header = ["MaskPath", "ImageID", "LabelName", "BoxID", "BoxXMin", "BoxXMax", "BoxYMin", "BoxYMax", "PredictedIoU", "Clicks"];

    readonly StreamWriter csv;
    readonly Dictionary<string, int> masksPerImage = new(StringComparer.Ordinal);

    public string Root { get; }
    public string Split { get; }
    public string ImagesDirectory { get; }
    public string MasksDirectory { get; }

    /// <param name="segmentationClasses">LabelNames written to classes-segmentation.txt; null writes no such file
    /// (the reader then uses every described class).</param>
    public OpenImagesWriter(string root, string split, IReadOnlyList<ClassInfo> classes, IReadOnlyList<string>? segmentationClasses = null)
    {
        Root = Path.GetFullPath(root);
        Split = split;
        var layout = OpenImagesLayout.Default;
        string Resolve(string rel) => Path.Combine(Root, rel.Replace("{split}", split));
        ImagesDirectory = Resolve(layout.ImageDirectories[0]);
        MasksDirectory = Resolve(layout.MaskDirectories[0]);
        Directory.CreateDirectory(ImagesDirectory);
        Directory.CreateDirectory(MasksDirectory);
        File.WriteAllLines(Resolve(layout.ClassDescriptionsFile), classes.Select(c => CsvRecordReader.Format([c.Id, c.Name])));
        if (segmentationClasses is not null) File.WriteAllLines(Resolve(layout.SegmentationClassesFile), segmentationClasses);
        csv = new StreamWriter(Resolve(layout.AnnotationsFile), append: false, new System.Text.UTF8Encoding(false)) { NewLine = "\n" };
        csv.WriteLine(string.Join(',', Header));
    }

    /// <summary>Encodes the image as JPEG under images/ and returns its path.</summary>
    public string AddImage(string imageId, RgbImage image, int jpegQuality = 95)
    {
        var rgba = new byte[image.Width * image.Height * 4];
        for (int p = 0, q = 0; p < image.Pixels.Length; p += 3, q += 4)
        {
            rgba[q] = image.Pixels[p]; rgba[q + 1] = image.Pixels[p + 1]; rgba[q + 2] = image.Pixels[p + 2]; rgba[q + 3] = 255;
        }
        var path = Path.Combine(ImagesDirectory, imageId + OpenImagesLayout.Default.ImageExtension);
        WriteEncoded(path, new SKImageInfo(image.Width, image.Height, SKColorType.Rgba8888, SKAlphaType.Opaque), rgba, SKEncodedImageFormat.Jpeg, jpegQuality);
        return path;
    }

    /// <summary>Copies an already encoded JPEG under images/ and returns its path.</summary>
    public string AddImageFile(string imageId, string sourceJpeg)
    {
        var path = Path.Combine(ImagesDirectory, imageId + OpenImagesLayout.Default.ImageExtension);
        File.Copy(sourceJpeg, path, overwrite: true);
        return path;
    }

    /// <summary>Writes the mask PNG and its CSV row; returns the MaskPath (file name relative to masks/).</summary>
    /// <param name="box">Defaults to the mask's tight bounding box, normalised.</param>
    public string AddMask(string imageId, string labelName, BinaryMask mask, RegionBox? box = null, double predictedIoU = 1.0)
    {
        int n = masksPerImage.GetValueOrDefault(imageId);
        masksPerImage[imageId] = n + 1;
        string boxId = n.ToString("x8", CultureInfo.InvariantCulture);
        // Official naming: <ImageID>_<LabelName without slashes>_<BoxID>.png
        string maskPath = $"{imageId}_{labelName.Replace("/", "")}_{boxId}.png";
        var gray = new byte[mask.Data.Length];
        for (int i = 0; i < gray.Length; i++) gray[i] = mask.Data[i] != 0 ? (byte)255 : (byte)0;
        WriteEncoded(Path.Combine(MasksDirectory, maskPath), new SKImageInfo(mask.Width, mask.Height, SKColorType.Gray8, SKAlphaType.Opaque), gray, SKEncodedImageFormat.Png, 100);

        var b = box ?? NormalisedBox(mask);
        string F(double v) => v.ToString("R", CultureInfo.InvariantCulture);
        AppendRawRow([maskPath, imageId, labelName, boxId, F(b.XMin), F(b.XMax), F(b.YMin), F(b.YMax), F(predictedIoU), ""]);
        return maskPath;
    }

    /// <summary>Appends a row verbatim (quoted as needed): for fault injection in tests and for copying rows.</summary>
    public void AppendRawRow(IReadOnlyList<string> fields) => csv.WriteLine(CsvRecordReader.Format(fields));

    static RegionBox NormalisedBox(BinaryMask mask)
    {
        var bb = mask.BoundingBox();
        if (bb is null) return new RegionBox(0, 0, 0, 0);
        var (x0, y0, x1, y1) = bb.Value;
        return new RegionBox((double)x0 / mask.Width, (double)x1 / mask.Width, (double)y0 / mask.Height, (double)y1 / mask.Height);
    }

    static void WriteEncoded(string path, SKImageInfo info, byte[] pixels, SKEncodedImageFormat format, int quality)
    {
        var handle = GCHandle.Alloc(pixels, GCHandleType.Pinned);
        try
        {
            using var pixmap = new SKPixmap(info, handle.AddrOfPinnedObject(), info.RowBytes);
            using var data = pixmap.Encode(format, quality)
                ?? throw new InvalidOperationException($"SkiaSharp could not encode {path} as {format}.");
            using var file = File.Create(path);
            data.SaveTo(file);
        }
        finally { handle.Free(); }
    }

    public void Dispose() => csv.Dispose();
}
