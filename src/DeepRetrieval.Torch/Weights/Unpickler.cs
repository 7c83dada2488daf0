using System.Buffers.Binary;
using System.Text;

namespace DeepRetrieval.Torch.Weights;

/// <summary>
/// A pickle reader that executes nothing: it understands the opcodes of protocols 2 to 5 that plain data uses, and hands
/// every global, <c>REDUCE</c> and persistent id to callbacks that accept only what <c>torch.save</c> of a state dict
/// produces. Unknown opcodes and globals are errors, so a hostile file cannot run code or allocate without bound (every
/// length is checked against the remaining bytes).
/// </summary>
internal sealed class Unpickler
{
    private readonly byte[] _data;
    private readonly string _file;
    private readonly Func<PickleGlobal, object?[], object?> _reduce;
    private readonly Func<object?, object?> _persistentLoad;
    private readonly Func<PickleGlobal, bool> _isAllowedGlobal;
    // A state dict's pickle keeps a handful of values on its stack and one memo entry per object; these bound what a hostile
    // pickle of repeated DUP, MARK or MEMOIZE opcodes can make the reader hold.
    private const int MaxStack = 1 << 20;
    private const int MaxMemo = 1 << 22;

    private readonly List<object?> _stack = [];
    private readonly Stack<int> _marks = new();
    private readonly Dictionary<long, object?> _memo = [];
    private int _position;

    public Unpickler(byte[] data, string file, Func<PickleGlobal, bool> isAllowedGlobal, Func<PickleGlobal, object?[], object?> reduce, Func<object?, object?> persistentLoad)
    {
        _data = data;
        _file = file;
        _isAllowedGlobal = isAllowedGlobal;
        _reduce = reduce;
        _persistentLoad = persistentLoad;
    }

    private InvalidDataException Corrupt(string what) => new($"{_file}: corrupt pickle at byte {_position}: {what}.");

    public object? Load()
    {
        while (true)
        {
            byte opcode = ReadByte();
            switch (opcode)
            {
                case 0x80: ReadByte(); break; // PROTO
                case 0x95: Skip(8); break; // FRAME
                case (byte)'.': return _stack.Count == 1 ? _stack[0] : throw Corrupt("STOP with a stack that does not hold exactly one value");
                case (byte)'}': Push(new PickleDict()); break;
                case (byte)']': Push(new List<object?>()); break;
                case (byte)')': Push(Array.Empty<object?>()); break;
                case (byte)'N': Push(null); break;
                case 0x88: Push(true); break;
                case 0x89: Push(false); break;
                case (byte)'(': if (_marks.Count >= MaxStack) throw Corrupt("too many MARKs"); _marks.Push(_stack.Count); break;
                case (byte)'t': Push(PopMark().ToArray()); break;
                case (byte)'l': Push(PopMark()); break;
                case (byte)'d': { var items = PopMark(); var dict = new PickleDict(); SetItems(dict, items); Push(dict); break; }
                case 0x85: { var a = Pop(); Push(new[] { a }); break; }
                case 0x86: { var b = Pop(); var a = Pop(); Push(new[] { a, b }); break; }
                case 0x87: { var c = Pop(); var b = Pop(); var a = Pop(); Push(new[] { a, b, c }); break; }
                case (byte)'J': Push((long)BinaryPrimitives.ReadInt32LittleEndian(Take(4))); break;
                case (byte)'K': Push((long)ReadByte()); break;
                case (byte)'M': Push((long)BinaryPrimitives.ReadUInt16LittleEndian(Take(2))); break;
                case 0x8a: Push(ReadLong(ReadByte())); break;
                case 0x8b: Push(ReadLong(ReadLength(4))); break;
                case (byte)'G': Push(BinaryPrimitives.ReadDoubleBigEndian(Take(8))); break;
                case (byte)'X': Push(Encoding.UTF8.GetString(Take(ReadLength(4)))); break;
                case 0x8c: Push(Encoding.UTF8.GetString(Take(ReadByte()))); break;
                case 0x8d: Push(Encoding.UTF8.GetString(Take(ReadLength(8)))); break;
                case (byte)'T': Push(Encoding.Latin1.GetString(Take(ReadLength(4)))); break;
                case (byte)'U': Push(Encoding.Latin1.GetString(Take(ReadByte()))); break;
                case (byte)'B': Push(Take(ReadLength(4)).ToArray()); break;
                case (byte)'C': Push(Take(ReadByte()).ToArray()); break;
                case 0x8e: Push(Take(ReadLength(8)).ToArray()); break;
                case (byte)'c': Push(Global(new PickleGlobal(ReadLine(), ReadLine()))); break;
                case 0x93: { var name = Pop(); var module = Pop(); Push(Global(new PickleGlobal(AsString(module), AsString(name)))); break; }
                case (byte)'q': Memo(ReadByte()); break;
                case (byte)'r': Memo(ReadLength(4)); break;
                case 0x94: Memo(_memo.Count); break;
                case (byte)'p': Memo(ParseLong(ReadLine())); break;
                case (byte)'h': Push(Recall(ReadByte())); break;
                case (byte)'j': Push(Recall(ReadLength(4))); break;
                case (byte)'g': Push(Recall(ParseLong(ReadLine()))); break;
                case (byte)'0': Pop(); break;
                case (byte)'1': PopMark(); break;
                case (byte)'2': Push(Peek()); break;
                case (byte)'Q': Push(_persistentLoad(Pop())); break;
                case (byte)'R': { var args = Pop(); var callable = Pop(); Push(Call(callable, args)); break; }
                case 0x81: { var args = Pop(); var cls = Pop(); Push(Call(cls, args)); break; }
                case (byte)'b': Build(); break;
                case (byte)'s': { var value = Pop(); var key = Pop(); AsDict(Peek()).Set(Key(key), value); break; }
                case (byte)'u': { var items = PopMark(); SetItems(AsDict(Peek()), items); break; }
                case (byte)'a': { var value = Pop(); AsList(Peek()).Add(value); break; }
                case (byte)'e': { var items = PopMark(); AsList(Peek()).AddRange(items); break; }
                default: throw Corrupt($"opcode 0x{opcode:x2} is not supported in a state-dict checkpoint");
            }
        }
    }

    private object Global(PickleGlobal global) =>
        _isAllowedGlobal(global)
            ? global
            : throw new InvalidDataException(
                $"{_file}: the checkpoint refers to the Python global '{global}', which a plain state dict does not use and which is not loaded for safety. " +
                "Save only the state dict (torch.save(model.state_dict(), path)) or convert the file to safetensors.");

    private object? Call(object? callable, object? args)
    {
        if (callable is not PickleGlobal global)
            throw Corrupt("REDUCE on something that is not a global");
        if (args is not object?[] tuple)
            throw Corrupt($"the arguments of {global} are not a tuple");
        return _reduce(global, tuple);
    }

    private void Build()
    {
        Pop(); // state: an OrderedDict's __dict__ (e.g. _metadata) or a parameter's extra state; a state dict does not need it.
        if (_stack.Count == 0) throw Corrupt("BUILD with an empty stack");
    }

    private void SetItems(PickleDict dict, List<object?> items)
    {
        if (items.Count % 2 != 0) throw Corrupt("SETITEMS with an odd number of values");
        for (int i = 0; i < items.Count; i += 2) dict.Set(Key(items[i]), items[i + 1]);
    }

    private object Key(object? key) => key switch
    {
        string or long or double or bool => key,
        _ => throw Corrupt($"dict key of type {key?.GetType().Name ?? "None"} is not supported"),
    };

    private PickleDict AsDict(object? value) => value as PickleDict ?? throw Corrupt("SETITEM on something that is not a dict");

    private List<object?> AsList(object? value) => value as List<object?> ?? throw Corrupt("APPEND on something that is not a list");

    private string AsString(object? value) => value as string ?? throw Corrupt("STACK_GLOBAL with a name that is not a string");

    private void Memo(long index)
    {
        if (_memo.Count >= MaxMemo && !_memo.ContainsKey(index)) throw Corrupt($"more than {MaxMemo} memo entries");
        _memo[index] = Peek();
    }

    private object? Recall(long index) => _memo.TryGetValue(index, out var value) ? value : throw Corrupt($"memo entry {index} is read before it is written");

    private void Push(object? value)
    {
        if (_stack.Count >= MaxStack) throw Corrupt($"more than {MaxStack} values on the stack");
        _stack.Add(value);
    }

    private object? Peek() => _stack.Count > 0 ? _stack[^1] : throw Corrupt("the stack is empty");

    private object? Pop()
    {
        if (_stack.Count == 0 || (_marks.Count > 0 && _marks.Peek() >= _stack.Count)) throw Corrupt("the stack is empty");
        var value = _stack[^1];
        _stack.RemoveAt(_stack.Count - 1);
        return value;
    }

    private List<object?> PopMark()
    {
        if (_marks.Count == 0) throw Corrupt("no MARK to pop to");
        int start = _marks.Pop();
        var items = _stack.GetRange(start, _stack.Count - start);
        _stack.RemoveRange(start, _stack.Count - start);
        return items;
    }

    private byte ReadByte() => _position < _data.Length ? _data[_position++] : throw Corrupt("unexpected end of data");

    private ReadOnlySpan<byte> Take(int count)
    {
        if (count < 0 || count > _data.Length - _position) throw Corrupt($"a length of {count} runs past the end of the data");
        var span = _data.AsSpan(_position, count);
        _position += count;
        return span;
    }

    private void Skip(int count) => Take(count);

    private int ReadLength(int bytes)
    {
        long length = bytes == 4 ? BinaryPrimitives.ReadUInt32LittleEndian(Take(4)) : (long)Math.Min(BinaryPrimitives.ReadUInt64LittleEndian(Take(8)), long.MaxValue);
        return length > _data.Length - _position ? throw Corrupt($"a length of {length} runs past the end of the data") : (int)length;
    }

    private long ReadLong(int count)
    {
        var bytes = Take(count);
        if (count == 0) return 0;
        if (count > 8) throw Corrupt($"an integer of {count} bytes does not fit 64 bits");
        Span<byte> padded = stackalloc byte[8];
        padded.Fill((bytes[^1] & 0x80) != 0 ? (byte)0xff : (byte)0);
        bytes.CopyTo(padded);
        return BinaryPrimitives.ReadInt64LittleEndian(padded);
    }

    private string ReadLine()
    {
        int end = Array.IndexOf(_data, (byte)'\n', _position);
        if (end < 0) throw Corrupt("a text line has no end");
        string line = Encoding.ASCII.GetString(_data, _position, end - _position);
        _position = end + 1;
        return line;
    }

    private long ParseLong(string text) => long.TryParse(text, out long value) ? value : throw Corrupt($"'{text}' is not an integer");
}
