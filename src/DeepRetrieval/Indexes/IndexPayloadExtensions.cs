using DeepRetrieval.Persistence;
using DeepRetrieval.Transforms;

namespace DeepRetrieval.Indexes;

/// <summary>
/// Nesting indexes and transforms inside a payload (a coarse quantizer, an inner index, a chain of transforms), through the
/// kinds of <see cref="IndexRegistry"/> and the depth bounds of <see cref="IndexPayloadReader.ReadNested{T}"/>. Composite
/// kinds of an application use them as the library's do.
/// </summary>
public static class IndexPayloadExtensions
{
    extension(IndexPayloadWriter writer)
    {
        /// <summary>Nests an index (its kind, then its payload).</summary>
        /// <param name="index">An index derived from <see cref="VectorIndex"/>.</param>
        /// <exception cref="ArgumentException">The index does not derive from <see cref="VectorIndex"/>, so it has no payload to nest.</exception>
        public void WriteIndex(IIndex index)
        {
            ArgumentNullException.ThrowIfNull(writer);
            ArgumentNullException.ThrowIfNull(index);
            if (index is not VectorIndex own)
                throw new ArgumentException($"Only indexes derived from VectorIndex can be nested in an index file; got {index.GetType().Name}.", nameof(index));
            writer.WriteNested(own.Kind, own.WritePayloadTo);
        }

        /// <summary>Nests a transform (its kind, then its parameters).</summary>
        /// <param name="transform">A transform whose kind is registered, so the file can be read back.</param>
        /// <exception cref="InvalidOperationException">The transform's kind is not registered.</exception>
        public void WriteTransform(IVectorTransform transform)
        {
            ArgumentNullException.ThrowIfNull(writer);
            ArgumentNullException.ThrowIfNull(transform);
            if (!IndexRegistry.TryGetTransformKind(transform.Kind, out _))
                throw new InvalidOperationException($"The transform kind \"{transform.Kind}\" ({transform.GetType().Name}) cannot be saved: it is not registered (known: {string.Join(", ", IndexRegistry.TransformKinds.Select(k => k.Name))}). Register a TransformKind for it with IndexRegistry.Register.");
            writer.WriteNested(transform.Kind, transform.Write);
        }
    }

    extension(IndexPayloadReader reader)
    {
        /// <summary>Reads an index nested by <see cref="WriteIndex"/>, validating it like a top-level one, one level deeper.</summary>
        /// <param name="name">What the nested index is (for example "coarse quantizer"), named in error messages.</param>
        /// <exception cref="InvalidDataException">Unknown kind, not a float-vector index, too deep, or corrupt.</exception>
        public IVectorIndex ReadIndex(string name)
        {
            ArgumentNullException.ThrowIfNull(reader);
            return reader.ReadNested(name, (kind, r) =>
            {
                if (!IndexRegistry.TryGetKind(kind, out IndexKindDescriptor? descriptor))
                    throw r.Corrupt($"the {name} has unknown index kind \"{kind}\"");
                int mappedBefore = r.MappedArrays;
                IIndex index = descriptor.ReadPayload(r);
                // A part that uses the mapped file in place is read-only like its outermost index, which owns the mapping.
                if (r.Mapping is { } mapping && r.MappedArrays > mappedBefore && index is VectorIndex own)
                    own.AttachMapping(mapping, owns: false);
                return index as IVectorIndex
                    ?? throw r.Corrupt($"the {name} is a {kind} index, which does not index float vectors");
            });
        }

        /// <summary>Reads a transform nested by <see cref="WriteTransform"/>.</summary>
        /// <param name="name">What the transform is (for example "transform 0"), named in error messages.</param>
        /// <exception cref="InvalidDataException">Unknown kind, too deep, or corrupt.</exception>
        public IVectorTransform ReadTransform(string name)
        {
            ArgumentNullException.ThrowIfNull(reader);
            return reader.ReadNested(name, (kind, r) =>
            {
                if (!IndexRegistry.TryGetTransformKind(kind, out TransformKind? descriptor))
                    throw r.Corrupt($"{name} has unknown kind \"{kind}\" (known: {string.Join(", ", IndexRegistry.TransformKinds.Select(k => k.Name))})");
                return descriptor.ReadPayload(r);
            });
        }
    }
}
