using DeepRetrieval.Persistence;

namespace DeepRetrieval.Aggregation;

/// <summary>
/// Saving and loading of the aggregation types (vocabularies, mixtures, inverted files, ASMK indexes) in the library's
/// index container (<see cref="IndexFileFormat"/>: magic, version, kind, payload, length, XxHash64). They are not
/// <c>IVectorIndex</c>es, so <c>IndexFile.Load</c> does not know their kinds; each type loads its own kind through
/// <see cref="Read{T}"/>, which validates the container before the payload is read. Saving to a path goes through a temporary file renamed into place.
/// </summary>
internal static class AggregationFile
{
    public static void Save(string path, string kind, Action<IndexPayloadWriter> writePayload)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var file = new AtomicFile(path);
        IndexFileFormat.Write(file.Stream, kind, writePayload);
        file.Commit();
    }

    public static T Load<T>(string path, string kind, Func<IndexPayloadReader, T> readPayload)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        try
        {
            return Read(stream, kind, readPayload);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{path}: {e.Message}", e);
        }
    }

    /// <summary>Validates the container at the stream's position and reads a payload of the expected kind.</summary>
    public static T Read<T>(Stream stream, string kind, Func<IndexPayloadReader, T> readPayload) =>
        IndexFileFormat.Read(stream, (found, reader) => found == kind
            ? readPayload(reader)
            : throw new InvalidDataException($"The file does not hold a {kind}; it holds a {found}."));
}
