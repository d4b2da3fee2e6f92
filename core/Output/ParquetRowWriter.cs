using Parquet;
using Parquet.Serialization;

namespace MaskInversion.Core.Output;

/// <summary>
/// Buffers rows and appends them to one Parquet file a row group at a time, so memory holds at most one
/// group however many rows a job produces. Each flush appends a row group through Parquet.Net's serializer
/// (which rewrites only the footer). The file is valid after every flush and after dispose, also when empty.
/// </summary>
internal sealed class ParquetRowWriter<TRow> : IAsyncDisposable where TRow : class, new()
{
    readonly FileStream stream;
    readonly List<TRow> buffer;
    readonly int rowGroupSize;
    bool anyGroup, disposed;

    public long RowsWritten { get; private set; }

    public ParquetRowWriter(string path, int rowGroupSize)
    {
        if (rowGroupSize <= 0) throw new ArgumentOutOfRangeException(nameof(rowGroupSize));
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null) Directory.CreateDirectory(dir);
        stream = new FileStream(path, FileMode.Create, FileAccess.ReadWrite, FileShare.Read);
        this.rowGroupSize = rowGroupSize;
        buffer = new List<TRow>(Math.Min(rowGroupSize, 1 << 16));
    }

    public async ValueTask AddAsync(TRow row, CancellationToken ct)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        buffer.Add(row);
        if (buffer.Count >= rowGroupSize) await FlushAsync(ct);
    }

    public async Task FlushAsync(CancellationToken ct)
    {
        if (buffer.Count == 0) return;
        await WriteGroupAsync(ct);
    }

    async Task WriteGroupAsync(CancellationToken ct)
    {
        await ParquetSerializer.SerializeAsync(buffer, stream, new ParquetOptions { Append = anyGroup }, cancellationToken: ct);
        anyGroup = true;
        RowsWritten += buffer.Count;
        buffer.Clear();
        await stream.FlushAsync(ct);
    }

    public async ValueTask DisposeAsync()
    {
        if (disposed) return;
        try
        {
            if (buffer.Count > 0 || !anyGroup) await WriteGroupAsync(default);   // an empty job still leaves a readable file
        }
        finally
        {
            disposed = true;
            await stream.DisposeAsync();
        }
    }

    /// <summary>Reads a file row group by row group.</summary>
    public static async IAsyncEnumerable<TRow> ReadAsync(string path, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct = default)
    {
        await using var file = File.OpenRead(path);
        int groups;
        await using (var reader = await ParquetReader.CreateAsync(file, leaveStreamOpen: true, cancellationToken: ct)) groups = reader.RowGroupCount;
        for (int g = 0; g < groups; g++)
        {
            file.Seek(0, SeekOrigin.Begin);
            var result = await ParquetSerializer.DeserializeAsync<TRow>(file, rowGroupIndex: g, cancellationToken: ct);
            foreach (var row in result.Data) yield return row;
        }
    }
}
