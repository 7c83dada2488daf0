using System.Globalization;
using DeepRetrieval.Quantization;

namespace DeepRetrieval.Indexes.Ivf;

/// <summary>
/// The list encoding of an <see cref="IvfIndex"/>: raw floats, scalar-quantized residuals or product-quantized
/// residuals, with their parameters. Spelled as the second token of a Faiss factory string: <c>Flat</c>,
/// <c>SQ8</c>, <c>SQ4</c>, <c>SQfp16</c>, <c>PQ16</c> or <c>PQ16x4</c>.
/// </summary>
public sealed record IvfEncoding
{
    private IvfEncoding(IvfEncodingKind kind, ScalarQuantizerType scalarType, int subQuantizers, int bitsPerCode)
    {
        Kind = kind;
        ScalarType = scalarType;
        SubQuantizers = subQuantizers;
        BitsPerCode = bitsPerCode;
    }

    /// <summary>Which family of encoding this is.</summary>
    public IvfEncodingKind Kind { get; }

    /// <summary>The scalar code format; meaningful only for <see cref="IvfEncodingKind.ScalarQuantizer"/>.</summary>
    public ScalarQuantizerType ScalarType { get; }

    /// <summary>The number of sub-quantizers M (bytes per code at 8 bits); meaningful only for <see cref="IvfEncodingKind.ProductQuantizer"/>.</summary>
    public int SubQuantizers { get; }

    /// <summary>Bits per sub-quantizer code; meaningful only for <see cref="IvfEncodingKind.ProductQuantizer"/>.</summary>
    public int BitsPerCode { get; }

    /// <summary>Raw float vectors.</summary>
    public static IvfEncoding Flat { get; } = new(IvfEncodingKind.Flat, default, 0, 0);

    /// <summary>Scalar-quantized residuals of the given format.</summary>
    /// <param name="type">SQ8, SQ4 or Fp16.</param>
    public static IvfEncoding ScalarQuantizer(ScalarQuantizerType type)
    {
        if (!Enum.IsDefined(type))
            throw new ArgumentOutOfRangeException(nameof(type), type, "Unknown scalar quantizer type.");
        return new IvfEncoding(IvfEncodingKind.ScalarQuantizer, type, 0, 0);
    }

    /// <summary>Product-quantized residuals: <paramref name="subQuantizers"/> codes of <paramref name="bitsPerCode"/> bits each.</summary>
    /// <param name="subQuantizers">M, positive; must divide the index dimension.</param>
    /// <param name="bitsPerCode">From 4 to 8 bits per code (8, the default, gives one byte per sub-quantizer).</param>
    public static IvfEncoding ProductQuantizer(int subQuantizers, int bitsPerCode = 8)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(subQuantizers);
        if (bitsPerCode is < 4 or > 8)
            throw new ArgumentOutOfRangeException(nameof(bitsPerCode), bitsPerCode, "Bits per code must be from 4 to 8.");
        return new IvfEncoding(IvfEncodingKind.ProductQuantizer, default, subQuantizers, bitsPerCode);
    }

    /// <summary>Reads a factory token: <c>Flat</c>, <c>SQ8</c>, <c>SQ4</c>, <c>SQfp16</c>, <c>PQ&lt;M&gt;</c> or <c>PQ&lt;M&gt;x&lt;bits&gt;</c>.</summary>
    /// <param name="token">The token (case-sensitive, as in Faiss).</param>
    /// <exception cref="ArgumentException">The token is not one of these.</exception>
    public static IvfEncoding Parse(string token)
    {
        ArgumentNullException.ThrowIfNull(token);
        if (token == "Flat") return Flat;
        if (TryParseScalar(token, out ScalarQuantizerType scalar)) return ScalarQuantizer(scalar);
        if (token.StartsWith("PQ", StringComparison.Ordinal))
        {
            string[] parts = token[2..].Split('x');
            int bits = 8;
            if (parts.Length <= 2
                && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int m) && m > 0
                && (parts.Length == 1 || (int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out bits) && bits is >= 4 and <= 8)))
                return ProductQuantizer(m, bits);
            throw new ArgumentException($"Encoding \"{token}\": PQ needs a positive sub-quantizer count and optionally x and 4 to 8 bits, e.g. PQ16 or PQ16x4.", nameof(token));
        }
        throw new ArgumentException($"Encoding \"{token}\" is not known; use Flat, SQ8, SQ4, SQfp16, PQ<M> or PQ<M>x<bits>.", nameof(token));
    }

    /// <summary>Reads the cursor's current token as an encoding that must fit the cursor's dimension, reporting problems against the token.</summary>
    internal static IvfEncoding ParseToken(IndexFactoryCursor cursor)
    {
        IvfEncoding encoding;
        try
        {
            encoding = Parse(cursor.Token);
        }
        catch (ArgumentException) when (cursor.Token.StartsWith("PQ", StringComparison.Ordinal))
        {
            throw cursor.Error("is malformed: PQ needs its sub-quantizer count M and optionally x and 4 to 8 bits per code, e.g. PQ16 or PQ16x4");
        }
        catch (ArgumentException)
        {
            throw cursor.Error("is not a list encoding; use Flat, SQ8, SQ4, SQfp16, PQ<M> or PQ<M>x<bits>");
        }
        if (encoding.Kind == IvfEncodingKind.ProductQuantizer && cursor.Dimension % encoding.SubQuantizers != 0)
            throw cursor.Error($"does not fit: the dimension {cursor.Dimension} is not a multiple of the sub-quantizer count {encoding.SubQuantizers}");
        return encoding;
    }

    /// <summary>Reads a scalar quantizer token: <c>SQ8</c>, <c>SQ4</c> or <c>SQfp16</c>.</summary>
    internal static bool TryParseScalar(string token, out ScalarQuantizerType type)
    {
        (bool known, type) = token switch
        {
            "SQ8" => (true, ScalarQuantizerType.SQ8),
            "SQ4" => (true, ScalarQuantizerType.SQ4),
            "SQfp16" => (true, ScalarQuantizerType.Fp16),
            _ => (false, default(ScalarQuantizerType)),
        };
        return known;
    }

    /// <summary>The factory token, for example <c>SQ8</c> or <c>PQ16x4</c>.</summary>
    public override string ToString() => Kind switch
    {
        IvfEncodingKind.Flat => "Flat",
        IvfEncodingKind.ScalarQuantizer => ScalarType == ScalarQuantizerType.Fp16 ? "SQfp16" : ScalarType.ToString(),
        _ => BitsPerCode == 8 ? $"PQ{SubQuantizers}" : $"PQ{SubQuantizers}x{BitsPerCode}",
    };
}
