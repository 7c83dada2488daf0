using DeepRetrieval.Indexes.Binary;
using DeepRetrieval.Indexes.Codes;
using DeepRetrieval.Indexes.Hnsw;
using DeepRetrieval.Indexes.Ivf;
using DeepRetrieval.Indexes.Trees;

namespace DeepRetrieval.Indexes;

/// <summary>
/// The kind names of the library's indexes and transforms, as <see cref="IIndex.Kind"/> reports them and index files
/// record them. Factory strings spell the same families with their parameters (<c>HNSW32</c>, <c>IVF1024,PQ16</c>).
/// </summary>
public static class IndexKinds
{
    /// <summary><see cref="FlatIndex"/>: exact search over raw vectors (factory <c>Flat</c>).</summary>
    public const string Flat = "Flat";

    /// <summary><see cref="HnswIndex"/> over raw floats (factory <c>HNSW&lt;M&gt;</c> or <c>HNSW&lt;M&gt;,Flat</c>).</summary>
    public const string Hnsw = "HNSW";

    /// <summary><see cref="HnswIndex"/> over scalar-quantized codes (factory <c>HNSW&lt;M&gt;,SQ8</c>, <c>,SQ4</c>, <c>,SQfp16</c>).</summary>
    public const string HnswScalarQuantized = "HNSW_SQ";

    /// <summary><see cref="HnswIndex"/> over product-quantized codes (factory <c>HNSW&lt;M&gt;,PQ&lt;m&gt;</c>, <c>,PQ&lt;m&gt;x&lt;bits&gt;</c>).</summary>
    public const string HnswProductQuantized = "HNSW_PQ";

    /// <summary><see cref="ScalarQuantizerIndex"/> (factory <c>SQ8</c>, <c>SQ4</c>, <c>SQfp16</c>).</summary>
    public const string ScalarQuantizer = "SQ";

    /// <summary><see cref="PqIndex"/> (factory <c>PQ&lt;M&gt;</c>, <c>PQ&lt;M&gt;x&lt;bits&gt;</c>).</summary>
    public const string ProductQuantizer = "PQ";

    /// <summary><see cref="IvfIndex"/> (factory <c>IVF&lt;lists&gt;[_HNSW&lt;M&gt;],&lt;encoding&gt;</c>).</summary>
    public const string InvertedFile = "IVF";

    /// <summary><see cref="TransformedIndex"/>: transforms in front of an index (factory: transform tokens before the index).</summary>
    public const string PreTransform = "PreTransform";

    /// <summary><see cref="RefineFlatIndex"/>: exact re-ranking of a base index's candidates (factory suffix <c>RFlat</c>).</summary>
    public const string RefineFlat = "RFlat";

    /// <summary><see cref="BinaryFlatIndex"/>: exhaustive Hamming search over packed codes (factory <c>BFlat</c>).</summary>
    public const string BinaryFlat = "BFlat";

    /// <summary><see cref="LshIndex"/>: random-hyperplane hashing (factory <c>LSH&lt;bits&gt;</c>, <c>LSH&lt;bits&gt;t</c>).</summary>
    public const string Lsh = "LSH";

    /// <summary><see cref="KdTreeIndex"/> (factory <c>KDTree</c>).</summary>
    public const string KdTree = "KDTree";

    /// <summary><see cref="RandomProjectionForestIndex"/> (factory <c>RPForest&lt;trees&gt;[_&lt;leaf size&gt;]</c>).</summary>
    public const string RandomProjectionForest = "RPForest";

    /// <summary>The PCA transform (factory <c>PCA&lt;d&gt;</c>, <c>PCAW&lt;d&gt;</c>, <c>PCAR&lt;d&gt;</c>, <c>PCAWR&lt;d&gt;</c>).</summary>
    public const string PcaTransform = Transforms.PcaTransform.KindName;

    /// <summary>The OPQ rotation (factory <c>OPQ&lt;M&gt;[_&lt;d&gt;]</c>).</summary>
    public const string OpqTransform = Transforms.OpqTransform.KindName;

    /// <summary>The ITQ transform (factory <c>ITQ&lt;bits&gt;</c>).</summary>
    public const string ItqTransform = Transforms.ItqTransform.KindName;
}
