namespace DeepRetrieval.Datasets;

/// <summary>Progress of <see cref="FashionMnist.DownloadAsync(string, IProgress{FashionMnistDownloadProgress}?, CancellationToken)"/>.</summary>
public readonly record struct FashionMnistDownloadProgress
{
    /// <summary>Creates a progress report.</summary>
    /// <param name="fileName">The file being fetched, e.g. <c>train-images-idx3-ubyte.gz</c>.</param>
    /// <param name="fileIndex">Zero-based position of that file among <paramref name="fileCount"/>.</param>
    /// <param name="fileCount">Number of files the download fetches.</param>
    /// <param name="bytesReceived">Bytes of this file received so far.</param>
    /// <param name="totalBytes">Size of this file when the server reports it; otherwise null.</param>
    public FashionMnistDownloadProgress(string fileName, int fileIndex, int fileCount, long bytesReceived, long? totalBytes)
    {
        FileName = fileName;
        FileIndex = fileIndex;
        FileCount = fileCount;
        BytesReceived = bytesReceived;
        TotalBytes = totalBytes;
    }

    /// <summary>The file being fetched, e.g. <c>train-images-idx3-ubyte.gz</c>.</summary>
    public string FileName { get; init; }

    /// <summary>Zero-based position of the file among <see cref="FileCount"/>.</summary>
    public int FileIndex { get; init; }

    /// <summary>Number of files the download fetches.</summary>
    public int FileCount { get; init; }

    /// <summary>Bytes of this file received so far (the whole size when the file was already present and valid).</summary>
    public long BytesReceived { get; init; }

    /// <summary>Size of this file when known; otherwise null.</summary>
    public long? TotalBytes { get; init; }
}
