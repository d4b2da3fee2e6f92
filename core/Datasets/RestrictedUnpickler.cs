using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;
using System.Text;

namespace MaskInversion.Core.Datasets;

/// <summary>A pickle that is refused or malformed; the message names the file, the byte offset and the cause.</summary>
public sealed class PickleException(string message) : Exception(message);

/// <summary>
/// Reads Python pickles (protocols 0–5) that hold plain data only: dict, list, tuple, str, int, float, bool and None
/// (e.g. RefCOCO's <c>refs(unc).p</c>). Every opcode that could import, construct or call something (GLOBAL,
/// STACK_GLOBAL, REDUCE, BUILD, INST, OBJ, NEWOBJ, PERSID, EXT…), and bytes, sets and out-of-band buffers, is refused
/// with a <see cref="PickleException"/> before anything is built from it. Nothing here executes code, so the file
/// cannot do anything but describe data.
/// <para>
/// Results: dict → <c>Dictionary&lt;object, object?&gt;</c> (keys str, int, float or bool), list →
/// <c>List&lt;object?&gt;</c>, tuple → <c>object?[]</c>, str → string (Python 2 byte strings decoded as UTF-8, or
/// Latin-1 where not valid UTF-8), int → long (or <see cref="BigInteger"/> beyond 64 bits), float → double,
/// bool, None → null.
/// </para>
/// </summary>
public static class RestrictedUnpickler
{
    const string Allowed = "dicts, lists, tuples, strings, numbers, booleans and None";

    public static object? Load(string path) => Load(File.ReadAllBytes(path), Path.GetFileName(path));

    public static object? Load(byte[] data, string name)
    {
        var stack = new List<object?>();
        var marks = new Stack<int>();
        var memo = new Dictionary<long, object?>();
        int pos = 0;

        while (true)
        {
            if (pos >= data.Length) throw Fail(name, pos, "the pickle ends without a STOP opcode (truncated?).");
            int at = pos;
            byte op = data[pos++];
            switch (op)
            {
                case 0x80: // PROTO
                    byte proto = Take(data, ref pos, 1, name)[0];
                    if (proto > 5) throw Fail(name, at, $"pickle protocol {proto} is newer than the 5 this reader knows.");
                    break;
                case 0x95: Take(data, ref pos, 8, name); break; // FRAME: a length hint only
                case (byte)'.': // STOP
                    if (stack.Count != 1 || marks.Count != 0) throw Fail(name, at, $"STOP with {stack.Count} values on the stack (malformed pickle).");
                    return stack[0];

                // Marks and stack shuffles.
                case (byte)'(': marks.Push(stack.Count); break;
                case (byte)'0': Pop(stack, name, at); break;
                case (byte)'1':
                    {
                        int start = PopMark(marks, stack, name, at);
                        stack.RemoveRange(start, stack.Count - start);
                        break;
                    }
                case (byte)'2': stack.Add(Peek(stack, name, at)); break;

                // Scalars.
                case (byte)'N': stack.Add(null); break;
                case 0x88: stack.Add(true); break;
                case 0x89: stack.Add(false); break;
                case (byte)'I':
                    {
                        var text = Line(data, ref pos, name);
                        stack.Add(text switch { "00" => false, "01" => true, _ => ParseInt(text, name, at) });
                        break;
                    }
                case (byte)'L': stack.Add(ParseInt(Line(data, ref pos, name).TrimEnd('L'), name, at)); break;
                case (byte)'J': stack.Add((long)BinaryPrimitives.ReadInt32LittleEndian(Take(data, ref pos, 4, name))); break;
                case (byte)'K': stack.Add((long)Take(data, ref pos, 1, name)[0]); break;
                case (byte)'M': stack.Add((long)BinaryPrimitives.ReadUInt16LittleEndian(Take(data, ref pos, 2, name))); break;
                case 0x8a: stack.Add(Long(Take(data, ref pos, Take(data, ref pos, 1, name)[0], name))); break;
                case 0x8b: stack.Add(Long(Take(data, ref pos, Length(Take(data, ref pos, 4, name), name, at), name))); break;
                case (byte)'F':
                    {
                        var text = Line(data, ref pos, name);
                        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v)) throw Fail(name, at, $"bad FLOAT '{text}'.");
                        stack.Add(v);
                        break;
                    }
                case (byte)'G': stack.Add(BinaryPrimitives.ReadDoubleBigEndian(Take(data, ref pos, 8, name))); break;

                // Strings.
                case (byte)'S': stack.Add(PythonStringLiteral(Line(data, ref pos, name), name, at)); break;
                case (byte)'T': stack.Add(ByteString(Take(data, ref pos, Length(Take(data, ref pos, 4, name), name, at), name))); break;
                case (byte)'U': stack.Add(ByteString(Take(data, ref pos, Take(data, ref pos, 1, name)[0], name))); break;
                case (byte)'V': stack.Add(RawUnicodeEscape(Line(data, ref pos, name), name, at)); break;
                case (byte)'X': stack.Add(Utf8(Take(data, ref pos, Length(Take(data, ref pos, 4, name), name, at), name), name, at)); break;
                case 0x8c: stack.Add(Utf8(Take(data, ref pos, Take(data, ref pos, 1, name)[0], name), name, at)); break;
                case 0x8d:
                    {
                        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(Take(data, ref pos, 8, name));
                        if (n > int.MaxValue) throw Fail(name, at, $"a {n}-byte string is longer than the file.");
                        stack.Add(Utf8(Take(data, ref pos, (int)n, name), name, at));
                        break;
                    }

                // Containers.
                case (byte)'}': stack.Add(new Dictionary<object, object?>()); break;
                case (byte)']': stack.Add(new List<object?>()); break;
                case (byte)')': stack.Add(Array.Empty<object?>()); break;
                case (byte)'d':
                    {
                        int start = PopMark(marks, stack, name, at);
                        var dict = new Dictionary<object, object?>();
                        SetItems(dict, stack, start, name, at);
                        stack.Add(dict);
                        break;
                    }
                case (byte)'l':
                    {
                        int start = PopMark(marks, stack, name, at);
                        var list = stack.GetRange(start, stack.Count - start);
                        stack.RemoveRange(start, stack.Count - start);
                        stack.Add(list);
                        break;
                    }
                case (byte)'t':
                    {
                        int start = PopMark(marks, stack, name, at);
                        var tuple = stack.GetRange(start, stack.Count - start).ToArray();
                        stack.RemoveRange(start, stack.Count - start);
                        stack.Add(tuple);
                        break;
                    }
                case 0x85: case 0x86: case 0x87:
                    {
                        int n = op - 0x84;
                        if (stack.Count < n) throw Fail(name, at, $"TUPLE{n} with {stack.Count} values on the stack.");
                        var tuple = stack.GetRange(stack.Count - n, n).ToArray();
                        stack.RemoveRange(stack.Count - n, n);
                        stack.Add(tuple);
                        break;
                    }
                case (byte)'a':
                    {
                        var item = Pop(stack, name, at);
                        AsList(Peek(stack, name, at), name, at).Add(item);
                        break;
                    }
                case (byte)'e':
                    {
                        int start = PopMark(marks, stack, name, at);
                        var list = AsList(start > 0 ? stack[start - 1] : null, name, at);
                        list.AddRange(stack.GetRange(start, stack.Count - start));
                        stack.RemoveRange(start, stack.Count - start);
                        break;
                    }
                case (byte)'s':
                    {
                        if (stack.Count < 3) throw Fail(name, at, "SETITEM without a dict, key and value.");
                        SetItems(AsDict(stack[^3], name, at), stack, stack.Count - 2, name, at);
                        break;
                    }
                case (byte)'u':
                    {
                        int start = PopMark(marks, stack, name, at);
                        SetItems(AsDict(start > 0 ? stack[start - 1] : null, name, at), stack, start, name, at);
                        break;
                    }

                // Memo.
                case (byte)'p': memo[ParseMemoKey(Line(data, ref pos, name), name, at)] = Peek(stack, name, at); break;
                case (byte)'q': memo[Take(data, ref pos, 1, name)[0]] = Peek(stack, name, at); break;
                case (byte)'r': memo[BinaryPrimitives.ReadUInt32LittleEndian(Take(data, ref pos, 4, name))] = Peek(stack, name, at); break;
                case 0x94: memo[memo.Count] = Peek(stack, name, at); break;
                case (byte)'g': stack.Add(Memo(memo, ParseMemoKey(Line(data, ref pos, name), name, at), name, at)); break;
                case (byte)'h': stack.Add(Memo(memo, Take(data, ref pos, 1, name)[0], name, at)); break;
                case (byte)'j': stack.Add(Memo(memo, BinaryPrimitives.ReadUInt32LittleEndian(Take(data, ref pos, 4, name)), name, at)); break;

                default: throw Fail(name, at, $"opcode {OpcodeName(op)} is refused: this reader builds only {Allowed}, and never imports, constructs or calls anything.");
            }
        }
    }

    static PickleException Fail(string name, int at, string message) => new($"{name} @byte {at}: {message}");

    static string OpcodeName(byte op) => op switch
    {
        (byte)'c' => "GLOBAL ('c')", 0x93 => "STACK_GLOBAL (0x93)", (byte)'R' => "REDUCE ('R')", (byte)'b' => "BUILD ('b')",
        (byte)'i' => "INST ('i')", (byte)'o' => "OBJ ('o')", 0x81 => "NEWOBJ (0x81)", 0x92 => "NEWOBJ_EX (0x92)",
        (byte)'P' => "PERSID ('P')", (byte)'Q' => "BINPERSID ('Q')", 0x82 or 0x83 or 0x84 => $"EXT (0x{op:x2})",
        (byte)'B' or (byte)'C' or 0x8e => $"bytes (0x{op:x2})", 0x96 => "BYTEARRAY8 (0x96)", 0x97 or 0x98 => $"out-of-band buffer (0x{op:x2})",
        0x8f or 0x90 or 0x91 => $"set (0x{op:x2})",
        _ => op is >= 0x20 and < 0x7f ? $"'{(char)op}' (0x{op:x2})" : $"0x{op:x2}",
    };

    static ReadOnlySpan<byte> Take(byte[] data, ref int pos, int count, string name)
    {
        if (count < 0 || pos + (long)count > data.Length) throw Fail(name, pos, $"needs {count} more bytes but the file ends (truncated?).");
        var span = data.AsSpan(pos, count);
        pos += count;
        return span;
    }

    static int Length(ReadOnlySpan<byte> le32, string name, int at)
    {
        uint n = BinaryPrimitives.ReadUInt32LittleEndian(le32);
        if (n > int.MaxValue) throw Fail(name, at, $"a length of {n} bytes is longer than the file.");
        return (int)n;
    }

    static string Line(byte[] data, ref int pos, string name)
    {
        int end = Array.IndexOf(data, (byte)'\n', pos);
        if (end < 0) throw Fail(name, pos, "a text-mode argument has no terminating newline (truncated?).");
        var text = Encoding.Latin1.GetString(data, pos, end - pos);
        pos = end + 1;
        return text.EndsWith('\r') ? text[..^1] : text;
    }

    static object ParseInt(string text, string name, int at) =>
        long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v) ? (object)v
        : BigInteger.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var big) ? big
        : throw Fail(name, at, $"bad integer '{text}'.");

    static long ParseMemoKey(string text, string name, int at) =>
        long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : throw Fail(name, at, $"bad memo key '{text}'.");

    /// <summary>LONG1/LONG4: little-endian two's complement.</summary>
    static object Long(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length == 0) return 0L;
        var v = new BigInteger(bytes, isUnsigned: false, isBigEndian: false);
        return v >= long.MinValue && v <= long.MaxValue ? (object)(long)v : v;
    }

    static string ByteString(ReadOnlySpan<byte> bytes)
    {
        try { return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes); }
        catch (DecoderFallbackException) { return Encoding.Latin1.GetString(bytes); }
    }

    static string Utf8(ReadOnlySpan<byte> bytes, string name, int at)
    {
        try { return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes); }
        catch (DecoderFallbackException) { throw Fail(name, at, "a unicode string is not valid UTF-8."); }
    }

    /// <summary>Protocol 0's STRING argument: a Python repr, quoted with ' or ", with backslash escapes.</summary>
    static string PythonStringLiteral(string text, string name, int at)
    {
        if (text.Length < 2 || text[0] != text[^1] || text[0] is not ('\'' or '"')) throw Fail(name, at, $"STRING argument {text} is not quoted.");
        var body = text[1..^1];
        var bytes = new List<byte>(body.Length);
        for (int i = 0; i < body.Length; i++)
        {
            char c = body[i];
            if (c != '\\') { bytes.Add((byte)c); continue; }
            if (++i >= body.Length) throw Fail(name, at, "STRING ends in a lone backslash.");
            switch (body[i])
            {
                case '\\': bytes.Add((byte)'\\'); break;
                case '\'': bytes.Add((byte)'\''); break;
                case '"': bytes.Add((byte)'"'); break;
                case 'n': bytes.Add((byte)'\n'); break;
                case 'r': bytes.Add((byte)'\r'); break;
                case 't': bytes.Add((byte)'\t'); break;
                case 'a': bytes.Add(7); break;
                case 'b': bytes.Add(8); break;
                case 'f': bytes.Add(12); break;
                case 'v': bytes.Add(11); break;
                case 'x':
                    if (i + 2 >= body.Length || !byte.TryParse(body.AsSpan(i + 1, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var hex))
                        throw Fail(name, at, "STRING has a bad \\x escape.");
                    bytes.Add(hex);
                    i += 2;
                    break;
                case >= '0' and <= '7':
                    {
                        int n = 0, k = 0;
                        while (k < 3 && i < body.Length && body[i] is >= '0' and <= '7') { n = n * 8 + (body[i] - '0'); i++; k++; }
                        i--;
                        bytes.Add((byte)n);
                        break;
                    }
                default: throw Fail(name, at, $"STRING has an unknown escape \\{body[i]}.");
            }
        }
        return ByteString(bytes.ToArray());
    }

    /// <summary>Protocol 0's UNICODE argument: raw-unicode-escape (\uXXXX, \UXXXXXXXX; other bytes are Latin-1).</summary>
    static string RawUnicodeEscape(string text, string name, int at)
    {
        var sb = new StringBuilder(text.Length);
        for (int i = 0; i < text.Length; i++)
        {
            if (text[i] == '\\' && i + 1 < text.Length && text[i + 1] is 'u' or 'U')
            {
                int digits = text[i + 1] == 'u' ? 4 : 8;
                if (i + 2 + digits > text.Length || !int.TryParse(text.AsSpan(i + 2, digits), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out int cp) || cp > 0x10FFFF)
                    throw Fail(name, at, "UNICODE has a bad \\u escape.");
                sb.Append(char.ConvertFromUtf32(cp));
                i += 1 + digits;
            }
            else sb.Append(text[i]);
        }
        return sb.ToString();
    }

    static object? Pop(List<object?> stack, string name, int at)
    {
        if (stack.Count == 0) throw Fail(name, at, "pop from an empty stack (malformed pickle).");
        var v = stack[^1];
        stack.RemoveAt(stack.Count - 1);
        return v;
    }

    static object? Peek(List<object?> stack, string name, int at) =>
        stack.Count > 0 ? stack[^1] : throw Fail(name, at, "the stack is empty (malformed pickle).");

    /// <summary>Pops the innermost mark and returns its stack index (where the marked items start).</summary>
    static int PopMark(Stack<int> marks, List<object?> stack, string name, int at)
    {
        if (marks.Count == 0) throw Fail(name, at, "no MARK to close (malformed pickle).");
        int start = marks.Pop();
        if (start > stack.Count) throw Fail(name, at, "the MARK lies above the stack (malformed pickle).");
        return start;
    }

    static object? Memo(Dictionary<long, object?> memo, long key, string name, int at) =>
        memo.TryGetValue(key, out var v) ? v : throw Fail(name, at, $"memo key {key} was never stored (malformed pickle).");

    static List<object?> AsList(object? o, string name, int at) =>
        o as List<object?> ?? throw Fail(name, at, $"APPEND to a {TypeName(o)}, not a list.");

    static Dictionary<object, object?> AsDict(object? o, string name, int at) =>
        o as Dictionary<object, object?> ?? throw Fail(name, at, $"SETITEM on a {TypeName(o)}, not a dict.");

    /// <summary>Moves stack[start..] (key, value pairs) into <paramref name="dict"/>.</summary>
    static void SetItems(Dictionary<object, object?> dict, List<object?> stack, int start, string name, int at)
    {
        if ((stack.Count - start) % 2 != 0) throw Fail(name, at, "a dict has a key without a value.");
        for (int i = start; i < stack.Count; i += 2)
        {
            var key = stack[i];
            if (key is not (string or long or double or bool or BigInteger))
                throw Fail(name, at, $"a dict key is a {TypeName(key)}; only str, int, float and bool keys are read.");
            dict[key] = stack[i + 1];
        }
        stack.RemoveRange(start, stack.Count - start);
    }

    static string TypeName(object? o) => o switch
    {
        null => "None", string => "str", long or BigInteger => "int", double => "float", bool => "bool",
        List<object?> => "list", object?[] => "tuple", Dictionary<object, object?> => "dict", _ => o.GetType().Name,
    };
}
