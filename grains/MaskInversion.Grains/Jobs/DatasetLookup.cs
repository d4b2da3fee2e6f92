using MaskInversion.Core.Datasets;

namespace MaskInversion.Grains;

/// <summary>Finds one image of a job's dataset by id, with a pass over the reader on the thread pool (never on the grain
/// scheduler): for requests about a single item (an overlay on demand), not for dispatch.</summary>
static class DatasetLookup
{
    /// <exception cref="ArgumentException">The dataset has no image with that id, or it was listed with a read error.</exception>
    public static Task<DatasetImage> FindAsync(DatasetReaderOptions options, string imageId) => Task.Run(() =>
    {
        var reader = DatasetReaders.Open(options);
        foreach (var record in reader.ReadImages())
        {
            if (record.Image is { } image && image.ImageId == imageId) return image;
            if (record.Error is { } error && error.ItemId == imageId)
                throw new ArgumentException($"Image '{imageId}' cannot be read from the dataset: {error.Message}");
        }
        throw new ArgumentException($"The job's dataset ({options.Root}) has no image '{imageId}'.");
    });
}
