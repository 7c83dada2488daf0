namespace DeepRetrieval.Indexes;

/// <summary>The allocating and one-code calls on any <see cref="IBinaryIndex"/>.</summary>
public static class BinaryIndexExtensions
{
    extension(IBinaryIndex index)
    {
        /// <summary>Finds the <paramref name="k"/> nearest codes of each query code (one code or a batch) and returns them in a new result.</summary>
        /// <param name="queries">Consecutive query codes of <see cref="IBinaryIndex.CodeSize"/> bytes.</param>
        /// <param name="k">Neighbours per query; positive.</param>
        /// <param name="options">Threads and filter; null for defaults.</param>
        public BinarySearchResult Search(ReadOnlySpan<byte> queries, int k, SearchOptions? options = null)
        {
            ArgumentNullException.ThrowIfNull(index);
            if (queries.Length % index.CodeSize != 0)
                throw new ArgumentException($"Expected whole codes of {index.CodeSize} bytes, but got {queries.Length} bytes. Check the code length.", nameof(queries));
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(k);
            int rows = queries.Length / index.CodeSize;
            long size = (long)rows * k;
            if (size > Array.MaxLength)
                throw new ArgumentException($"queryCount × k = {size} results exceed the largest array; search in smaller batches.");
            var ids = new long[size];
            var distances = new int[size];
            index.Search(queries, k, ids, distances, options);
            return new BinarySearchResult(rows, k, ids, distances);
        }

        /// <summary>Adds one code under the caller's id.</summary>
        /// <param name="code">Exactly <see cref="IBinaryIndex.CodeSize"/> bytes.</param>
        /// <param name="id">An id not in the index.</param>
        public void Add(ReadOnlySpan<byte> code, long id)
        {
            ArgumentNullException.ThrowIfNull(index);
            if (code.Length != index.CodeSize)
                throw new ArgumentException($"Expected one code of {index.CodeSize} bytes; got {code.Length}.", nameof(code));
            index.Add(code, new ReadOnlySpan<long>(in id));
        }

        /// <summary>Returns the stored code of <paramref name="id"/> in a new array.</summary>
        /// <param name="id">A stored id.</param>
        public byte[] Reconstruct(long id)
        {
            ArgumentNullException.ThrowIfNull(index);
            var code = new byte[index.CodeSize];
            index.Reconstruct(id, code);
            return code;
        }
    }
}
