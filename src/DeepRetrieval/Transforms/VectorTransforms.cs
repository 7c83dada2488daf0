using DeepRetrieval.Persistence;

namespace DeepRetrieval.Transforms;

/// <summary>The transform kinds an index file can hold, each with the method that reads its parameters back.</summary>
internal static class VectorTransforms
{
    /// <summary>Kind string (as written before each transform) → reader of what <see cref="IVectorTransform.Write"/> wrote.</summary>
    internal static readonly Dictionary<string, Func<IndexPayloadReader, IVectorTransform>> Readers = new(StringComparer.Ordinal)
    {
        [PcaTransform.KindName] = PcaTransform.Read,
        [OpqTransform.KindName] = OpqTransform.Read,
    };
}
