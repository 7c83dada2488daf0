using System.Buffers.Binary;
using System.Text;

namespace DeepRetrieval.Data;

/// <summary>
/// A pickle reader that executes nothing, for the plain-data pickles benchmarks ship (revisitop's ground-truth
/// files): the opcodes of protocols 2 to 5 that dicts, lists, tuples, strings, numbers, booleans and None use, plus
/// exactly the globals NumPy needs to pickle a plain numeric array (<c>numpy.core.multiarray._reconstruct</c>,
/// <c>numpy.ndarray</c>, <c>numpy.dtype</c>, <c>_codecs.encode</c> and <c>bytes</c> for protocol 2 bytes, and
/// <c>numpy.core.numeric._frombuffer</c> for protocol 5), which become
/// <see cref="long"/>[] or <see cref="double"/>[]. Any other global is an error, so a hostile file cannot run code;
/// every length is checked against the bytes left, so it cannot allocate without bound.
/// </summary>
/// <remarks>
/// Values come back as <see cref="Dictionary{TKey, TValue}"/> (object keys), <see cref="List{T}"/>,
/// <see cref="object"/>[] (tuples), <see cref="string"/>, <see cref="long"/>, <see cref="double"/>,
/// <see cref="bool"/>, null, <see cref="byte"/>[] and numeric arrays.
/// </remarks>
internal sealed class PickleReader
{
    /// <summary>Largest pickle accepted from a stream.</summary>
    public const int MaxBytes = 256 << 20;

    private readonly byte[] _data;
    private readonly string _source;
    private readonly List<object?> _stack = [];
    private readonly Stack<int> _marks = new();
    private readonly Dictionary<long, object?> _memo = [];
    private int _position;

    private PickleReader(byte[] data, string source)
    {
        _data = data;
        _source = source;
    }

    /// <summary>Reads one pickled value from a stream (at most <see cref="MaxBytes"/>).</summary>
    public static object? Read(Stream stream, string source)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[1 << 16];
        int read;
        while ((read = stream.Read(chunk)) > 0)
        {
            if (buffer.Length + read > MaxBytes)
                throw new InvalidDataException($"{source}: larger than {MaxBytes} bytes; not a ground-truth pickle.");
            buffer.Write(chunk, 0, read);
        }

        return new PickleReader(buffer.ToArray(), source).Load();
    }

    private InvalidDataException Corrupt(string what) => new($"{_source}: unreadable pickle at byte {_position}: {what}.");

    private object? Load()
    {
        while (true)
        {
            byte opcode = ReadByte();
            switch (opcode)
            {
                case 0x80: ReadByte(); break; // PROTO
                case 0x95: Take(8); break; // FRAME: a length hint only
                case (byte)'.':
                    if (_stack.Count != 1) throw Corrupt("STOP with a stack that does not hold exactly one value");
                    return _stack[0];
                case (byte)'}': Push(new Dictionary<object, object?>()); break;
                case (byte)']': Push(new List<object?>()); break;
                case (byte)')': Push(Array.Empty<object?>()); break;
                case (byte)'N': Push(null); break;
                case 0x88: Push(true); break;
                case 0x89: Push(false); break;
                case (byte)'(': _marks.Push(_stack.Count); break;
                case (byte)'t': Push(PopMark().ToArray()); break;
                case (byte)'l': Push(PopMark()); break;
                case (byte)'d': { var dict = new Dictionary<object, object?>(); SetItems(dict, PopMark()); Push(dict); break; }
                case 0x85: Push(new[] { Pop() }); break;
                case 0x86: { object? b = Pop(), a = Pop(); Push(new[] { a, b }); break; }
                case 0x87: { object? c = Pop(), b = Pop(), a = Pop(); Push(new[] { a, b, c }); break; }
                case (byte)'J': Push((long)BinaryPrimitives.ReadInt32LittleEndian(Take(4))); break;
                case (byte)'K': Push((long)ReadByte()); break;
                case (byte)'M': Push((long)BinaryPrimitives.ReadUInt16LittleEndian(Take(2))); break;
                case 0x8a: Push(ReadLong(ReadByte())); break; // LONG1
                case (byte)'G': Push(BinaryPrimitives.ReadDoubleBigEndian(Take(8))); break;
                case (byte)'X': Push(ReadText(BinaryPrimitives.ReadUInt32LittleEndian(Take(4)))); break;
                case 0x8c: Push(ReadText(ReadByte())); break; // SHORT_BINUNICODE
                case 0x8d: Push(ReadText(BinaryPrimitives.ReadUInt64LittleEndian(Take(8)))); break; // BINUNICODE8
                case (byte)'T': Push(Encoding.Latin1.GetString(Take(Length(BinaryPrimitives.ReadUInt32LittleEndian(Take(4)))))); break; // BINSTRING
                case (byte)'U': Push(Encoding.Latin1.GetString(Take(ReadByte()))); break; // SHORT_BINSTRING
                case (byte)'B': Push(Take(Length(BinaryPrimitives.ReadUInt32LittleEndian(Take(4)))).ToArray()); break;
                case (byte)'C': Push(Take(ReadByte()).ToArray()); break; // SHORT_BINBYTES
                case 0x8e: Push(Take(Length(BinaryPrimitives.ReadUInt64LittleEndian(Take(8)))).ToArray()); break; // BINBYTES8
                case 0x96: Push(Take(Length(BinaryPrimitives.ReadUInt64LittleEndian(Take(8)))).ToArray()); break; // BYTEARRAY8
                case (byte)'a': { object? item = Pop(); List(Peek()).Add(item); break; }
                case (byte)'e': { List<object?> items = PopMark(); List(Peek()).AddRange(items); break; }
                case (byte)'s': { object? value = Pop(), key = Pop(); Dict(Peek())[Key(key)] = value; break; }
                case (byte)'u': { List<object?> items = PopMark(); SetItems(Dict(Peek()), items); break; }
                case (byte)'q': _memo[ReadByte()] = Peek(); break; // BINPUT
                case (byte)'r': _memo[BinaryPrimitives.ReadUInt32LittleEndian(Take(4))] = Peek(); break; // LONG_BINPUT
                case 0x94: _memo[_memo.Count] = Peek(); break; // MEMOIZE
                case (byte)'h': Push(Memo(ReadByte())); break; // BINGET
                case (byte)'j': Push(Memo(BinaryPrimitives.ReadUInt32LittleEndian(Take(4)))); break; // LONG_BINGET
                case (byte)'c': { string module = ReadLine(), name = ReadLine(); Push(Global(module, name)); break; }
                case 0x93: { string name = Text(Pop()), module = Text(Pop()); Push(Global(module, name)); break; } // STACK_GLOBAL
                case (byte)'R': { object? args = Pop(), callable = Pop(); Push(Reduce(callable, args)); break; }
                case (byte)'b': { object? state = Pop(); Build(Peek(), state); break; }
                default: throw Corrupt($"opcode 0x{opcode:X2} is not supported in a data pickle");
            }
        }
    }

    private enum NumpyGlobal { Reconstruct, FromBuffer, NdArray, DType, CodecsEncode, Bytes }

    private object Global(string module, string name) => (module, name) switch
    {
        ("numpy.core.multiarray" or "numpy._core.multiarray", "_reconstruct") => NumpyGlobal.Reconstruct,
        ("numpy.core.numeric" or "numpy._core.numeric", "_frombuffer") => NumpyGlobal.FromBuffer,
        ("numpy", "ndarray") => NumpyGlobal.NdArray,
        ("numpy", "dtype") => NumpyGlobal.DType,
        ("_codecs", "encode") => NumpyGlobal.CodecsEncode,
        ("__builtin__" or "builtins", "bytes") => NumpyGlobal.Bytes, // protocol 2 spells empty bytes as bytes()
        _ => throw Corrupt($"global {module}.{name} is not allowed (only plain data and NumPy arrays are read)"),
    };

    private object Reduce(object? callable, object? args)
    {
        object?[] arguments = args as object?[] ?? throw Corrupt("REDUCE arguments are not a tuple");
        switch (callable)
        {
            case NumpyGlobal.Reconstruct when arguments.Length == 3 && arguments[0] is NumpyGlobal.NdArray:
                return new PendingArray();
            // Protocol 5: _frombuffer(bytes, dtype, shape, order); only C order (or one dimension) is flattened as stored.
            case NumpyGlobal.FromBuffer when arguments.Length == 4 && arguments[0] is byte[] data && arguments[1] is PendingDType dtype
                                              && arguments[2] is object?[] shape && (arguments[3] is "C" || shape.Length <= 1):
                return ToArray(shape, dtype, data);
            case NumpyGlobal.DType when arguments.Length >= 1 && arguments[0] is string descriptor:
                return new PendingDType(descriptor);
            case NumpyGlobal.CodecsEncode when arguments.Length == 2 && arguments[0] is string text && arguments[1] is "latin1" or "latin-1":
                return Encoding.Latin1.GetBytes((string)arguments[0]!);
            case NumpyGlobal.Bytes when arguments.Length == 0:
                return Array.Empty<byte>();
            default:
                throw Corrupt($"REDUCE of {callable ?? "None"} with these arguments is not a NumPy array construction");
        }
    }

    private void Build(object? target, object? state)
    {
        object?[] values = state as object?[] ?? throw Corrupt("BUILD state is not a tuple");
        switch (target)
        {
            case PendingDType dtype when values.Length >= 2 && values[1] is string order:
                dtype.ByteOrder = order;
                break;
            case PendingArray array when values.Length == 5 && values[1] is object?[] shape && values[2] is PendingDType dtype && values[4] is byte[] data:
                array.Value = ToArray(shape, dtype, data);
                break;
            default:
                throw Corrupt("BUILD is only supported for NumPy arrays and dtypes");
        }

        // The finished array replaces its placeholder on the stack.
        if (target is PendingArray finished) _stack[^1] = finished.Value;
    }

    private Array ToArray(object?[] shape, PendingDType dtype, byte[] data)
    {
        long count = 1;
        foreach (object? extent in shape)
        {
            if (extent is not long e || e < 0) throw Corrupt("a NumPy shape holds a non-integer or negative extent");
            count = checked(count * e);
        }

        string descriptor = dtype.Descriptor;
        char kind = descriptor[0];
        if (!int.TryParse(descriptor.AsSpan(1), out int size) || kind is not ('i' or 'u' or 'f') || size is not (1 or 2 or 4 or 8) || (kind == 'f' && size < 4))
            throw Corrupt($"NumPy dtype '{descriptor}' is not a plain integer or float type");
        if (count * size != data.Length)
            throw Corrupt($"a NumPy array of {count} × {size} bytes holds {data.Length} bytes");
        bool bigEndian = dtype.ByteOrder == ">";
        ReadOnlySpan<byte> bytes = data;
        if (kind == 'f')
        {
            var result = new double[count];
            for (int i = 0; i < count; i++)
            {
                ReadOnlySpan<byte> b = bytes.Slice(i * size, size);
                result[i] = size == 8
                    ? (bigEndian ? BinaryPrimitives.ReadDoubleBigEndian(b) : BinaryPrimitives.ReadDoubleLittleEndian(b))
                    : (bigEndian ? BinaryPrimitives.ReadSingleBigEndian(b) : BinaryPrimitives.ReadSingleLittleEndian(b));
            }

            return result;
        }

        var integers = new long[count];
        for (int i = 0; i < count; i++)
        {
            ReadOnlySpan<byte> b = bytes.Slice(i * size, size);
            integers[i] = (kind, size, bigEndian) switch
            {
                (_, 1, _) => kind == 'i' ? (sbyte)b[0] : b[0],
                ('i', 2, false) => BinaryPrimitives.ReadInt16LittleEndian(b),
                ('i', 2, true) => BinaryPrimitives.ReadInt16BigEndian(b),
                ('u', 2, false) => BinaryPrimitives.ReadUInt16LittleEndian(b),
                ('u', 2, true) => BinaryPrimitives.ReadUInt16BigEndian(b),
                ('i', 4, false) => BinaryPrimitives.ReadInt32LittleEndian(b),
                ('i', 4, true) => BinaryPrimitives.ReadInt32BigEndian(b),
                ('u', 4, false) => BinaryPrimitives.ReadUInt32LittleEndian(b),
                ('u', 4, true) => BinaryPrimitives.ReadUInt32BigEndian(b),
                ('i', 8, false) => BinaryPrimitives.ReadInt64LittleEndian(b),
                ('i', 8, true) => BinaryPrimitives.ReadInt64BigEndian(b),
                _ => checked((long)(bigEndian ? BinaryPrimitives.ReadUInt64BigEndian(b) : BinaryPrimitives.ReadUInt64LittleEndian(b))),
            };
        }

        return integers;
    }

    private sealed class PendingDType(string descriptor)
    {
        public string Descriptor { get; } = descriptor;
        public string ByteOrder { get; set; } = "=";
    }

    private sealed class PendingArray
    {
        public Array? Value { get; set; }
    }

    private long ReadLong(int length)
    {
        if (length > 8) throw Corrupt($"an integer of {length} bytes does not fit 64 bits");
        ReadOnlySpan<byte> bytes = Take(length);
        long value = 0;
        for (int i = length - 1; i >= 0; i--) value = (value << 8) | bytes[i];
        if (length is > 0 and < 8 && (bytes[length - 1] & 0x80) != 0) value -= 1L << (8 * length); // two's complement sign
        return value;
    }

    private string ReadText(ulong length) => Encoding.UTF8.GetString(Take(Length(length)));

    private int Length(ulong length) => length <= (ulong)(_data.Length - _position) ? (int)length : throw Corrupt($"a length of {length} runs past the end");

    private string ReadLine()
    {
        int end = Array.IndexOf(_data, (byte)'\n', _position);
        if (end < 0) throw Corrupt("unterminated GLOBAL name");
        string line = Encoding.ASCII.GetString(_data, _position, end - _position);
        _position = end + 1;
        return line;
    }

    private byte ReadByte() => _position < _data.Length ? _data[_position++] : throw Corrupt("unexpected end of data");

    private ReadOnlySpan<byte> Take(int count)
    {
        if (count > _data.Length - _position) throw Corrupt("unexpected end of data");
        var span = new ReadOnlySpan<byte>(_data, _position, count);
        _position += count;
        return span;
    }

    private void Push(object? value) => _stack.Add(value);

    private object? Pop()
    {
        if (_stack.Count == 0 || (_marks.Count > 0 && _marks.Peek() == _stack.Count)) throw Corrupt("stack underflow");
        object? value = _stack[^1];
        _stack.RemoveAt(_stack.Count - 1);
        return value;
    }

    private object? Peek() => _stack.Count > 0 ? _stack[^1] : throw Corrupt("stack underflow");

    private List<object?> PopMark()
    {
        if (_marks.Count == 0) throw Corrupt("no MARK to pop to");
        int mark = _marks.Pop();
        List<object?> items = _stack.GetRange(mark, _stack.Count - mark);
        _stack.RemoveRange(mark, _stack.Count - mark);
        return items;
    }

    private object? Memo(long key)
    {
        if (!_memo.TryGetValue(key, out object? value)) throw Corrupt($"memo key {key} was never stored");
        // NumPy memoises an array before BUILD fills it in; later references want the finished array.
        return value is PendingArray { Value: { } array } ? array : value;
    }

    private List<object?> List(object? value) => value as List<object?> ?? throw Corrupt("APPEND to something that is not a list");

    private Dictionary<object, object?> Dict(object? value) => value as Dictionary<object, object?> ?? throw Corrupt("SETITEM on something that is not a dict");

    private object Key(object? key) => key switch
    {
        string or long or double or bool => key,
        _ => throw Corrupt("a dict key is not a string, number or boolean"),
    };

    private string Text(object? value) => value as string ?? throw Corrupt("a global name is not a string");

    private void SetItems(Dictionary<object, object?> dict, List<object?> items)
    {
        if (items.Count % 2 != 0) throw Corrupt("SETITEMS with an odd number of values");
        for (int i = 0; i < items.Count; i += 2) dict[Key(items[i])] = items[i + 1];
    }
}
