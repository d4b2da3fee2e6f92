using System.Text.Json;

namespace MaskInversion.Core.Datasets;

/// <summary>Receives one element of a top-level array: its owning property, absolute byte offset and raw JSON.</summary>
public delegate void JsonElementHandler(string property, long offset, ReadOnlySpan<byte> element);

/// <summary>
/// Walks a JSON file of the shape {"a": [...], "b": [...], …} with a sequential <see cref="Utf8JsonReader"/>
/// over a growing buffer, handing each element of the chosen top-level arrays to a callback. Memory is bounded
/// by the largest single element, not the file, so multi-GB COCO-style files can be indexed; the reported
/// offsets let a second pass seek straight back to an element. A file that is not well-formed JSON (malformed,
/// truncated, not UTF-8) throws <see cref="InvalidDataException"/> naming the file and the byte where it went wrong.
/// </summary>
public static class JsonArrayScanner
{
    public static void Scan(string path, IReadOnlySet<string> arrays, JsonElementHandler handler, CancellationToken cancellationToken = default)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1);
        var buffer = new byte[1 << 16];
        int length = 0, pos = 0;
        long bufferStart = 0;
        bool final = false, started = false;
        var state = new JsonReaderState(new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip });
        string? property = null;
        bool inWantedArray = false;

        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            // Compact, grow if one element fills the buffer, then refill.
            if (pos > 0)
            {
                Buffer.BlockCopy(buffer, pos, buffer, 0, length - pos);
                bufferStart += pos; length -= pos; pos = 0;
            }
            if (length == buffer.Length) Array.Resize(ref buffer, buffer.Length * 2);
            while (!final && length < buffer.Length)
            {
                int n = file.Read(buffer, length, buffer.Length - length);
                if (n == 0) final = true; else length += n;
            }
            if (!started)
            {
                // Skip a UTF-8 byte-order mark, which Utf8JsonReader rejects.
                if (length >= 3 && buffer[0] == 0xEF && buffer[1] == 0xBB && buffer[2] == 0xBF) pos = 3;
                started = true;
            }

            var reader = new Utf8JsonReader(buffer.AsSpan(pos, length - pos), final, state);
            long consumed = 0;
            bool done = false;
            try
            {
            while (true)
            {
                var before = reader.CurrentState;
                long beforeConsumed = reader.BytesConsumed;
                if (!reader.Read()) { consumed = reader.BytesConsumed; state = reader.CurrentState; done = final; break; }
                if (reader.CurrentDepth == 0 && reader.TokenType == JsonTokenType.StartObject) continue;
                if (reader.CurrentDepth == 0 && reader.TokenType != JsonTokenType.EndObject)
                    throw new InvalidDataException($"'{path}': the top level is not a JSON object.");
                if (reader.CurrentDepth == 1)
                {
                    switch (reader.TokenType)
                    {
                        case JsonTokenType.PropertyName: property = reader.GetString(); break;
                        case JsonTokenType.StartArray: inWantedArray = property is not null && arrays.Contains(property); break;
                        case JsonTokenType.EndArray: inWantedArray = false; break;
                    }
                    continue;
                }
                if (!inWantedArray || reader.CurrentDepth != 2) continue;
                long start = reader.TokenStartIndex;
                if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray && !reader.TrySkip())
                {
                    // The element is not all in the buffer yet: rewind to before it and read more.
                    consumed = beforeConsumed; state = before;
                    break;
                }
                handler(property!, bufferStart + pos + start, buffer.AsSpan(pos + (int)start, (int)(reader.BytesConsumed - start)));
            }
            }
            catch (JsonException e)
            {
                throw new InvalidDataException($"'{path}' is not valid JSON near byte {bufferStart + pos + reader.BytesConsumed}: {e.Message}", e);
            }
            pos += (int)consumed;
            if (done) return;
            if (final && consumed == 0 && pos < length)
                throw new InvalidDataException($"'{path}' is truncated: the JSON ends unfinished at byte {bufferStart + length}.");
        }
    }
}
