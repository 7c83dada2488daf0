namespace DeepRetrieval.Indexes;

/// <summary>Saving any <see cref="IIndex"/> to a file, atomically, and asynchronously (see <see cref="IndexFile"/>).</summary>
public static class IndexExtensions
{
    extension(IIndex index)
    {
        /// <summary>Saves to a file atomically (see <see cref="IndexFile.Save(IIndex, string)"/>).</summary>
        /// <param name="path">Target file; replaced if it exists.</param>
        public void Save(string path) => IndexFile.Save(index, path);

        /// <summary>Saves to a file atomically without blocking the caller (see <see cref="IndexFile.SaveAsync(IIndex, string, CancellationToken)"/>).</summary>
        /// <param name="path">Target file; replaced if it exists.</param>
        /// <param name="cancellationToken">Cancels the save; the target is then left as it was.</param>
        public Task SaveAsync(string path, CancellationToken cancellationToken = default) => IndexFile.SaveAsync(index, path, cancellationToken);

        /// <summary>Writes the index to a stream with asynchronous writes only (see <see cref="IndexFile.SaveAsync(IIndex, Stream, CancellationToken)"/>).</summary>
        /// <param name="stream">A writable stream.</param>
        /// <param name="cancellationToken">Cancels the save.</param>
        public Task SaveAsync(Stream stream, CancellationToken cancellationToken = default) => IndexFile.SaveAsync(index, stream, cancellationToken);
    }
}
