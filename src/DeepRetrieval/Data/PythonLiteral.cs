using System.Globalization;
using System.Text;

namespace DeepRetrieval.Data;

/// <summary>
/// Parses the subset of Python literals that NumPy writes in <c>.npy</c> headers: a dict with string keys whose values
/// are strings, <c>True</c>/<c>False</c>/<c>None</c>, integers (with Python 2's optional <c>L</c> suffix), and tuples or
/// lists of those (structured dtypes nest them). Values come back as <see cref="string"/>, <see cref="bool"/>, null,
/// <see cref="long"/>, <see cref="List{T}"/> and <see cref="Dictionary{TKey, TValue}"/>.
/// </summary>
internal ref struct PythonLiteral
{
    // Structured dtypes nest lists of tuples; anything much deeper is not a NumPy header.
    private const int MaxDepth = 32;

    private readonly ReadOnlySpan<char> _text;
    private int _pos;

    private PythonLiteral(ReadOnlySpan<char> text)
    {
        _text = text;
        _pos = 0;
    }

    /// <exception cref="FormatException">The text is not a dict literal of the supported kind.</exception>
    internal static Dictionary<string, object?> ParseDictionary(ReadOnlySpan<char> text)
    {
        var parser = new PythonLiteral(text);
        parser.SkipSpace();
        if (parser.Peek() != '{')
            throw parser.Error("expected a dict literal starting with '{'");
        var result = (Dictionary<string, object?>)parser.ParseValue(0)!;
        parser.SkipSpace();
        if (parser._pos != text.Length)
            throw parser.Error("unexpected text after the dict");
        return result;
    }

    private object? ParseValue(int depth)
    {
        if (depth > MaxDepth)
            throw Error("nesting too deep");
        SkipSpace();
        char c = Peek();
        switch (c)
        {
            case '{':
                return ParseDict(depth);
            case '(':
                return ParseSequence(')', depth);
            case '[':
                return ParseSequence(']', depth);
            case '\'' or '"':
                return ParseString();
            default:
                if (c == '-' || c == '+' || char.IsAsciiDigit(c))
                    return ParseInteger();
                if (char.IsAsciiLetter(c))
                    return ParseName();
                throw Error(c == '\0' ? "unexpected end of header" : $"unexpected character '{c}'");
        }
    }

    private Dictionary<string, object?> ParseDict(int depth)
    {
        Expect('{');
        var dict = new Dictionary<string, object?>(StringComparer.Ordinal);
        while (true)
        {
            SkipSpace();
            if (TryConsume('}'))
                return dict;
            if (Peek() is not ('\'' or '"'))
                throw Error("dict keys must be strings");
            string key = ParseString();
            SkipSpace();
            Expect(':');
            if (!dict.TryAdd(key, ParseValue(depth + 1)))
                throw Error($"duplicate key '{key}'");
            SkipSpace();
            if (TryConsume('}'))
                return dict;
            Expect(',');
        }
    }

    private List<object?> ParseSequence(char close, int depth)
    {
        _pos++;
        var items = new List<object?>();
        while (true)
        {
            SkipSpace();
            if (TryConsume(close))
                return items;
            items.Add(ParseValue(depth + 1));
            SkipSpace();
            if (TryConsume(close))
                return items;
            Expect(',');
        }
    }

    private string ParseString()
    {
        char quote = _text[_pos++];
        var builder = new StringBuilder();
        while (true)
        {
            if (_pos >= _text.Length)
                throw Error("unterminated string");
            char c = _text[_pos++];
            if (c == quote)
                return builder.ToString();
            if (c == '\\')
            {
                if (_pos >= _text.Length)
                    throw Error("unterminated string");
                char escaped = _text[_pos++];
                builder.Append(escaped switch
                {
                    'n' => '\n',
                    't' => '\t',
                    'r' => '\r',
                    '0' => '\0',
                    _ => escaped,
                });
            }
            else
            {
                builder.Append(c);
            }
        }
    }

    private long ParseInteger()
    {
        int start = _pos;
        if (Peek() is '-' or '+')
            _pos++;
        while (_pos < _text.Length && char.IsAsciiDigit(_text[_pos]))
            _pos++;
        ReadOnlySpan<char> digits = _text[start.._pos];
        if (_pos < _text.Length && _text[_pos] is 'L' or 'l')
            _pos++;
        if (!long.TryParse(digits, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long value))
            throw Error($"invalid integer '{digits}'");
        return value;
    }

    private object? ParseName()
    {
        int start = _pos;
        while (_pos < _text.Length && (char.IsAsciiLetterOrDigit(_text[_pos]) || _text[_pos] == '_'))
            _pos++;
        ReadOnlySpan<char> word = _text[start.._pos];
        return word switch
        {
            "True" => true,
            "False" => false,
            "None" => null,
            _ => throw Error($"unsupported name '{word}'"),
        };
    }

    private void SkipSpace()
    {
        while (_pos < _text.Length && char.IsWhiteSpace(_text[_pos]))
            _pos++;
    }

    private readonly char Peek() => _pos < _text.Length ? _text[_pos] : '\0';

    private bool TryConsume(char c)
    {
        if (Peek() != c)
            return false;
        _pos++;
        return true;
    }

    private void Expect(char c)
    {
        if (!TryConsume(c))
            throw Error(_pos >= _text.Length ? $"expected '{c}' but the header ended" : $"expected '{c}' but found '{_text[_pos]}'");
    }

    private readonly FormatException Error(string message) => new($"{message} at offset {_pos}");
}
