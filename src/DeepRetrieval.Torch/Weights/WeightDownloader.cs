using System.Security.Cryptography;

namespace DeepRetrieval.Torch.Weights;

// Downloads through an AtomicFile and commits only a complete file whose SHA-256 starts with the expected prefix, so the
// cache never holds a partial or corrupt file even when the process dies midway.
internal static class WeightDownloader
{
    private const int ChunkSize = 1 << 16;

    public static async Task DownloadAsync(HttpClient client, Uri url, string destination, string? sha256Prefix, IProgress<long>? progress, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(destination))!);
        using var file = new AtomicFile(destination);
        string actual;
        using (var response = await Send(client, url, destination, cancellationToken).ConfigureAwait(false))
        {
            long? expectedLength = response.Content.Headers.ContentLength;
            await using var source = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            byte[] buffer = new byte[ChunkSize];
            long total = 0;
            int read;
            while ((read = await ReadChunk(source, buffer, url, destination, cancellationToken).ConfigureAwait(false)) > 0)
            {
                hash.AppendData(buffer, 0, read);
                await file.Stream.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                total += read;
                progress?.Report(total);
            }
            if (expectedLength is long length && length != total)
                throw new IOException($"The download of {url} ended after {total} of {length} bytes; nothing was cached. Retry, or put the file at {destination} by hand.");
            actual = Convert.ToHexStringLower(hash.GetHashAndReset());
        }
        if (sha256Prefix is not null && !actual.StartsWith(sha256Prefix, StringComparison.OrdinalIgnoreCase))
            throw new InvalidDataException($"The file downloaded from {url} has SHA-256 {actual}, but {sha256Prefix} was expected (a prefix); it was not cached.");
        file.Commit();
    }

    private static async Task<HttpResponseMessage> Send(HttpClient client, Uri url, string destination, CancellationToken cancellationToken)
    {
        HttpResponseMessage response;
        try
        {
            response = await client.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception error) when (error is HttpRequestException or IOException || (error is TaskCanceledException && !cancellationToken.IsCancellationRequested))
        {
            throw Unreachable(url, destination, error.Message, error);
        }
        if (!response.IsSuccessStatusCode)
        {
            using (response)
                throw Unreachable(url, destination, $"HTTP {(int)response.StatusCode} {response.ReasonPhrase}", null, response.StatusCode);
        }
        return response;
    }

    private static async Task<int> ReadChunk(Stream source, byte[] buffer, Uri url, string destination, CancellationToken cancellationToken)
    {
        try
        {
            return await source.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception error) when (error is HttpRequestException or IOException)
        {
            throw new IOException($"The download of {url} broke off ({error.Message}); nothing was cached. Retry, or put the file at {destination} by hand.", error);
        }
    }

    private static HttpRequestException Unreachable(Uri url, string destination, string reason, Exception? inner, System.Net.HttpStatusCode? status = null) =>
        new($"Could not download pretrained weights from {url} ({reason}). Without network access, download the file elsewhere and put it at {destination}, or pass its path in PretrainedOptions.FilePath.", inner, status);
}
