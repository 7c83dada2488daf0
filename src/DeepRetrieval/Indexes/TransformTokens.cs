using DeepRetrieval.Indexes.Ivf;
using DeepRetrieval.Transforms;

namespace DeepRetrieval.Indexes;

/// <summary>The factory parsers of the library's transforms (<see cref="TransformKind.Create"/>), registered in <see cref="IndexRegistry"/>.</summary>
internal static class TransformTokens
{
    // PCA<d>, PCAW<d> (whitened, ε = 0 as Faiss's PCAW), PCAR<d> (rotated), PCAWR<d>.
    public static IVectorTransform? Pca(IndexFactoryCursor cursor)
    {
        string token = cursor.Token;
        string[] prefixes = ["PCAWR", "PCAW", "PCAR", "PCA"];
        string? prefix = Array.Find(prefixes, p => IndexFactoryCursor.TryMatch(token, p, out _));
        if (prefix is null) return null;
        IndexFactoryCursor.TryMatch(token, prefix, out string rest);
        int output = OutputWidth(cursor, rest, "PCA needs its output dimension, e.g. PCA128");
        bool whiten = prefix.StartsWith("PCAW", StringComparison.Ordinal);
        bool rotate = prefix.EndsWith('R');
        int width = cursor.Dimension;
        return cursor.Build(() => new PcaTransform(width, output, whiten, randomRotation: rotate));
    }

    // OPQ<M> or OPQ<M>_<d>: a rotation learnt for the PQ that follows it, whose bits per code it borrows.
    public static IVectorTransform? Opq(IndexFactoryCursor cursor)
    {
        if (!IndexFactoryCursor.TryMatch(cursor.Token, "OPQ", out string rest)) return null;
        string[] parts = rest.Split('_');
        if (parts.Length > 2 || !IndexFactoryCursor.TryParseCount(parts[0], out int m))
            throw cursor.Error("needs the sub-quantizer count and optionally the output dimension, e.g. OPQ16 or OPQ16_64");
        int width = cursor.Dimension;
        int output = parts.Length == 2 ? OutputWidth(cursor, parts[1], "OPQ's output dimension must be a whole number, e.g. OPQ16_64") : width;
        if (output % m != 0)
            throw cursor.Error($"needs its output dimension {output} to be a multiple of its {m} sub-quantizers");
        int bits = FollowingPqBits(cursor);
        return cursor.Build(() => new OpqTransform(width, m, output, bits));
    }

    // ITQ<b>: PCA to b dimensions and the ITQ rotation, for a binary index after it (ITQ64,BFlat).
    public static IVectorTransform? Itq(IndexFactoryCursor cursor)
    {
        if (!IndexFactoryCursor.TryMatch(cursor.Token, "ITQ", out string rest)) return null;
        int output = OutputWidth(cursor, rest, "ITQ needs its bit count, e.g. ITQ64");
        int width = cursor.Dimension;
        return cursor.Build(() => new ItqTransform(width, output));
    }

    private static int OutputWidth(IndexFactoryCursor cursor, string digits, string usage)
    {
        if (!IndexFactoryCursor.TryParseCount(digits, out int output)) throw cursor.Error($"is malformed: {usage}");
        if (output > cursor.Dimension)
            throw cursor.Error($"asks for {output} output dimensions from {cursor.Dimension} input dimensions; a transform here can only reduce or keep the dimension");
        return output;
    }

    // The bits per code of the first well-formed PQ token after the cursor (8 when there is none; a malformed one is
    // reported against its own token later).
    private static int FollowingPqBits(IndexFactoryCursor cursor)
    {
        for (int i = cursor.Position; i < cursor.Tokens.Count; i++)
        {
            string token = cursor.Tokens[i];
            if (!token.StartsWith("PQ", StringComparison.Ordinal)) continue;
            try
            {
                if (IvfEncoding.Parse(token) is { Kind: IvfEncodingKind.ProductQuantizer } pq) return pq.BitsPerCode;
            }
            catch (ArgumentException)
            {
                return 8;
            }
        }
        return 8;
    }
}
