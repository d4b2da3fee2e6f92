using System.Text;

namespace MaskInversion.Core.Datasets;

/// <summary>
/// RFC 4180 CSV reader over a byte stream that reports each record's byte offset and 1-based line number,
/// so that a first pass can index rows and a second pass can seek straight back to them. Handles quoted
/// fields with commas, doubled quotes and line breaks, CRLF or LF endings and a UTF-8 byte-order mark.
/// Blank lines are skipped. Field bytes must be UTF-8.
/// <para>
/// A quote left open swallows every later line into one field. Only the end of the file shows that it was never
/// closed, so the record then comes back with <see cref="RecordError"/> set (naming the line the quote opened on)
/// and reading resumes on the line after that one: the damage costs one row, not the rest of the file.
/// </para>
/// </summary>
public sealed class CsvRecordReader : IDisposable
{
    readonly Stream stream;
    readonly bool leaveOpen;
    readonly byte[] buffer;
    int bufferLength, bufferPos;
    long bufferStart;          // absolute offset of buffer[0]
    int line = 1;              // line number of the next unread byte
    readonly List<byte> field = new(256);
    static readonly System.Text.Encoding Utf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Why the record <see cref="Read"/> just returned is unusable, or null. (An unterminated quote returns no fields.)</summary>
    public string? RecordError { get; private set; }

    /// <param name="bufferSize">Large for sequential scans; small for the seek-heavy second pass, where each
    /// seek outside the buffer costs one buffer fill.</param>
    public CsvRecordReader(Stream stream, bool leaveOpen = false, int bufferSize = 1 << 16)
    {
        this.stream = stream;
        buffer = new byte[Math.Max(bufferSize, 16)];
        this.leaveOpen = leaveOpen;
        bufferStart = stream.CanSeek ? stream.Position : 0;
        if (bufferStart == 0 && Peek() == 0xEF)
        {
            // Skip a UTF-8 BOM only if all three bytes are there.
            if (Fill(3) && buffer[bufferPos + 1] == 0xBB && buffer[bufferPos + 2] == 0xBF) bufferPos += 3;
        }
    }

    public static CsvRecordReader Open(string path, int bufferSize = 1 << 16) =>
        new(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1), bufferSize: bufferSize);

    /// <summary>Repositions to a record start previously reported by <see cref="Read"/>.</summary>
    public void Seek(long offset, int lineNumber)
    {
        line = lineNumber;
        if (offset >= bufferStart && offset < bufferStart + bufferLength)
        {
            // Rows of one image are usually close together: stay in the buffer.
            bufferPos = (int)(offset - bufferStart);
            return;
        }
        stream.Seek(offset, SeekOrigin.Begin);
        bufferStart = offset;
        bufferLength = bufferPos = 0;
    }

    /// <summary>Reads the next record; false at end of stream.</summary>
    public bool Read(List<string> fields, out long offset, out int lineNumber)
    {
        fields.Clear();
        RecordError = null;
        // Skip blank lines.
        while (true)
        {
            int c = Peek();
            if (c < 0) { offset = bufferStart + bufferPos; lineNumber = line; return false; }
            if (c == '\r') { bufferPos++; continue; }
            if (c == '\n') { bufferPos++; line++; continue; }
            break;
        }
        offset = bufferStart + bufferPos;
        lineNumber = line;
        field.Clear();
        bool quoted = false, atFieldStart = true;
        long resumeOffset = -1;   // just after the first line break inside the open quote
        int resumeLine = 0;
        while (true)
        {
            int c = Peek();
            if (c < 0)
            {
                if (quoted) return Unterminated(fields, lineNumber, resumeOffset, resumeLine);
                EndField(fields);
                return true;
            }
            bufferPos++;
            if (quoted)
            {
                if (c == '"')
                {
                    if (Peek() == '"') { bufferPos++; field.Add((byte)'"'); }
                    else quoted = false;
                }
                else
                {
                    if (c == '\n')
                    {
                        line++;
                        if (resumeOffset < 0) (resumeOffset, resumeLine) = (bufferStart + bufferPos, line);
                    }
                    field.Add((byte)c);
                }
                continue;
            }
            switch (c)
            {
                case '"' when atFieldStart:
                    quoted = true; atFieldStart = false; break;
                case ',':
                    EndField(fields); atFieldStart = true; break;
                case '\r':
                    if (Peek() == '\n') bufferPos++;
                    line++; EndField(fields); return true;
                case '\n':
                    line++; EndField(fields); return true;
                default:
                    field.Add((byte)c); atFieldStart = false; break;
            }
        }
    }

    bool Unterminated(List<string> fields, int lineNumber, long resumeOffset, int resumeLine)
    {
        fields.Clear();
        field.Clear();
        RecordError = $"a quoted field opened on line {lineNumber} is never closed";
        if (resumeOffset >= 0 && stream.CanSeek) Seek(resumeOffset, resumeLine);
        return true;
    }

    void EndField(List<string> fields)
    {
        try
        {
            fields.Add(Utf8.GetString(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(field)));
        }
        catch (DecoderFallbackException)
        {
            // Kept readable (and the row's columns intact); the row is reported instead of naming a mangled path.
            fields.Add(Encoding.UTF8.GetString(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(field)));
            RecordError ??= $"field {fields.Count} is not valid UTF-8";
        }
        field.Clear();
    }

    int Peek()
    {
        if (bufferPos >= bufferLength && !Fill(1)) return -1;
        return buffer[bufferPos];
    }

    /// <summary>Ensures at least <paramref name="count"/> unread bytes are buffered, if the stream has them.</summary>
    bool Fill(int count)
    {
        if (bufferLength - bufferPos >= count) return true;
        int remaining = bufferLength - bufferPos;
        Buffer.BlockCopy(buffer, bufferPos, buffer, 0, remaining);
        bufferStart += bufferPos;
        bufferPos = 0;
        bufferLength = remaining;
        while (bufferLength < count)
        {
            int n = stream.Read(buffer, bufferLength, buffer.Length - bufferLength);
            if (n == 0) break;
            bufferLength += n;
        }
        return bufferLength >= count;
    }

    /// <summary>Formats one CSV record, quoting fields that need it.</summary>
    public static string Format(IEnumerable<string> fields) =>
        string.Join(',', fields.Select(f => f.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? "\"" + f.Replace("\"", "\"\"") + "\"" : f));

    public void Dispose()
    {
        if (!leaveOpen) stream.Dispose();
    }
}
