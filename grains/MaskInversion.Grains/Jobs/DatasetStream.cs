using System.Threading.Channels;
using MaskInversion.Core.Datasets;

namespace MaskInversion.Grains;

/// <summary>
/// A job's dataset, opened once (from the job's reader options) and read on one background thread, never on the
/// grain scheduler: first an optional counting pass (image and mask totals for progress; skipped on resume,
/// where they are known), then the records into a bounded channel, each with its ordinal — its position in the
/// reader's stream, images and read errors alike — keeping those of its shard (ordinal % shards == shard; MaxImages
/// still counts the whole stream's images, so the shards of a job split exactly the unsharded job's records) and
/// skipping ordinals already settled. The annotation file is
/// never loaded into grain state, and the one reader's index is built once for both passes.
/// </summary>
sealed class DatasetStream
{
    readonly IDatasetReader reader;
    readonly TaskCompletionSource<(long Images, long Masks)?> totals = new(TaskCreationOptions.RunContinuationsAsynchronously);
    Channel<(long Ordinal, DatasetRecord Record)>? channel;

    DatasetStream(IDatasetReader reader, IReadOnlyList<ClassInfo> classes) => (this.reader, Classes) = (reader, classes);

    public IReadOnlyList<ClassInfo> Classes { get; }

    /// <summary>Image and mask totals once counted (within MaxImages); null when counting failed or was not asked.</summary>
    public Task<(long Images, long Masks)?> Totals => totals.Task;

    /// <summary>The records to dispatch, in stream order.</summary>
    public ChannelReader<(long Ordinal, DatasetRecord Record)> Records => channel?.Reader ?? throw new InvalidOperationException("Start the stream first.");

    /// <summary>Completes when reading ends; faults with the reader's failure (a bad annotation file).</summary>
    public Task Completion { get; private set; } = Task.CompletedTask;

    /// <summary>Opens the reader (and its class list, which may index the file) off the grain scheduler.</summary>
    public static Task<DatasetStream> OpenAsync(DatasetReaderOptions options) => Task.Run(() =>
    {
        var reader = DatasetReaders.Open(options);
        return new DatasetStream(reader, reader.Classes);
    });

    /// <param name="count">Run the counting pass first (its result completes <see cref="Totals"/>: this shard's images and masks).</param>
    /// <param name="shard">Which ordinals to yield: those with ordinal % <paramref name="shards"/> == shard.</param>
    /// <param name="settled">Ordinals at or above <paramref name="watermark"/> already settled; a copy, not shared.</param>
    public void Start(bool count, int shard, int shards, long watermark, IReadOnlySet<long> settled, int maxImages, int capacity,
        Action<Exception> countFailed, CancellationToken token)
    {
        channel = Channel.CreateBounded<(long, DatasetRecord)>(Math.Max(4, capacity));
        var writer = channel.Writer;
        Completion = Task.Run(() =>
        {
            try
            {
                if (count) totals.TrySetResult(Count(shard, shards, maxImages, countFailed, token));
                else totals.TrySetResult(null);
                Produce(writer, shard, shards, watermark, settled, maxImages, token);
                writer.TryComplete();
            }
            catch (OperationCanceledException) { totals.TrySetResult(null); writer.TryComplete(); }
            catch (Exception ex) { totals.TrySetResult(null); writer.TryComplete(ex); throw; }
        }, CancellationToken.None);
    }

    (long, long)? Count(int shard, int shards, int maxImages, Action<Exception> failed, CancellationToken token)
    {
        try
        {
            long ordinal = 0, all = 0, images = 0, masks = 0;
            foreach (var r in reader.ReadImages(token))
            {
                bool mine = ordinal++ % shards == shard;
                if (r.Image is null) continue;
                if (maxImages > 0 && all >= maxImages) break;
                all++;
                if (!mine) continue;
                images++;
                masks += r.Image.Masks.Count;
            }
            return (images, masks);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Progress then has no total; the stream itself reports what is wrong with the dataset.
            failed(ex);
            return null;
        }
    }

    void Produce(ChannelWriter<(long, DatasetRecord)> writer, int shard, int shards, long watermark, IReadOnlySet<long> settled, int maxImages,
        CancellationToken token)
    {
        long ordinal = 0;
        int images = 0;
        foreach (var record in reader.ReadImages(token))
        {
            if (record.Image is not null)
            {
                if (maxImages > 0 && images >= maxImages) break;
                images++;
            }
            long o = ordinal++;
            if (o % shards != shard || o < watermark || settled.Contains(o)) continue;
            writer.WriteAsync((o, record), token).AsTask().GetAwaiter().GetResult();
        }
    }
}
