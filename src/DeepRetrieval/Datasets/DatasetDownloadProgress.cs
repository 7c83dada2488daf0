namespace DeepRetrieval.Datasets;

/// <summary>Progress of a dataset download.</summary>
/// <param name="FileName">The file being fetched.</param>
/// <param name="FileIndex">Zero-based position of that file among <paramref name="FileCount"/>.</param>
/// <param name="FileCount">Number of files the download fetches.</param>
/// <param name="BytesReceived">Bytes of this file on disk so far (a resumed download starts at what was already there).</param>
/// <param name="TotalBytes">Size of this file when known; otherwise null.</param>
public readonly record struct DatasetDownloadProgress(string FileName, int FileIndex, int FileCount, long BytesReceived, long? TotalBytes);
