using DeepRetrieval.Persistence;

namespace DeepRetrieval.Indexes.Codes;

/// <summary>
/// How an index stores a vector as a fixed-size code and compares a float query with stored codes: the one storage
/// layer that flat-code indexes (<see cref="FlatCodesIndex"/>), inverted lists (through <c>IvfListCodec</c>) and HNSW
/// graphs over codes share. Implementations: <see cref="FloatCodec"/> (raw floats, exact), <see cref="ScalarCodec"/>
/// (SQ8, SQ4, fp16) and <see cref="ProductCodec"/> (PQ, asymmetric distance through a per-query table).
/// </summary>
/// <remarks>
/// <para>Keys are what top-k selection sorts by: the squared L2 distance, or the negated inner product when the codec
/// compares by similarity (inner product, or cosine on unit vectors). Smaller is always closer.</para>
/// <para>A search first calls <see cref="PrepareQuery"/> once per query into a buffer of <see cref="QueryTableSize"/>
/// floats (empty for codecs that compare the query with codes directly; the ADC table for PQ) and then scores codes
/// with <see cref="Key"/> or, for many contiguous codes, <see cref="Keys"/>. Scoring methods assume the caller validated
/// lengths (the index checked the query once) and allocate nothing.</para>
/// </remarks>
internal abstract class VectorCodec(int dimension, bool similarity)
{
    /// <summary>Components per vector.</summary>
    public int Dimension { get; } = dimension;

    /// <summary>True when keys are negated inner products (inner product and cosine), false for squared L2 distances.</summary>
    public bool Similarity { get; } = similarity;

    /// <summary>Bytes per code.</summary>
    public abstract int CodeSize { get; }

    /// <summary>True once the codec can encode (always for codecs that learn nothing).</summary>
    public abstract bool IsTrained { get; }

    /// <summary>True when <see cref="Train"/> learns something.</summary>
    public virtual bool NeedsTraining => false;

    /// <summary>The fewest training vectors the codec can learn from.</summary>
    public virtual int MinimumTrainingRows => 1;

    /// <summary>Bytes of learnt parameters (codebooks, ranges).</summary>
    public virtual long MemoryUsageBytes => 0;

    /// <summary>True when decoding gives back the encoded vector exactly.</summary>
    public virtual bool IsExact => false;

    /// <summary>Floats of per-query state <see cref="PrepareQuery"/> writes (0 when a query is compared with codes directly).</summary>
    public virtual int QueryTableSize => 0;

    /// <summary>Learns the encoding from (already normalised, for cosine) vectors; a cancelled training changes nothing.</summary>
    public virtual void Train(ReadOnlySpan<float> vectors, IndexBuildOptions options) { }

    /// <summary>Encodes one row of <see cref="Dimension"/> floats into <see cref="CodeSize"/> bytes.</summary>
    public abstract void Encode(ReadOnlySpan<float> vector, Span<byte> code);

    /// <summary>Decodes one code without allocating.</summary>
    public abstract void Decode(ReadOnlySpan<byte> code, Span<float> vector);

    /// <summary>Writes the per-query state (<see cref="QueryTableSize"/> floats) that <see cref="Key"/> and <see cref="Keys"/> read.</summary>
    public virtual void PrepareQuery(ReadOnlySpan<float> query, Span<float> table) { }

    /// <summary>The key of one code against a query (and its prepared table).</summary>
    public abstract float Key(ReadOnlySpan<float> query, ReadOnlySpan<float> table, ReadOnlySpan<byte> code);

    /// <summary>The keys of <c>keys.Length</c> contiguous codes.</summary>
    public virtual void Keys(ReadOnlySpan<float> query, ReadOnlySpan<float> table, ReadOnlySpan<byte> codes, Span<float> keys)
    {
        int size = CodeSize;
        for (int i = 0; i < keys.Length; i++) keys[i] = Key(query, table, codes.Slice(i * size, size));
    }

    /// <summary>The key of a code against a float vector that has no prepared table (graph building compares stored nodes with each other this way).</summary>
    public virtual float KeyToVector(ReadOnlySpan<float> vector, ReadOnlySpan<byte> code) => Key(vector, default, code);

    /// <summary>Writes the learnt parameters (the index writes the codes).</summary>
    public abstract void WriteTo(IndexPayloadWriter writer);

    /// <summary>Describes what is wrong with codes read from a file, or returns null when they are valid.</summary>
    public virtual string? CheckCodes(ReadOnlySpan<byte> codes) => null;
}
