using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using DeepRetrieval.Data;

namespace DeepRetrieval.Datasets;

/// <summary>
/// Fetches dataset files the way every loader needs: into <c>name.part</c>, resuming an interrupted transfer with an
/// HTTP range request, then checking the published MD5 (and an optional content check) before renaming the file into
/// place, so a file under its final name is always complete and verified. A file already present and valid is kept.
/// When the server cannot be reached the error says where to put a copy fetched by other means.
/// </summary>
internal static class DatasetDownloader
{
    /// <summary>Downloads <paramref name="files"/> into <paramref name="directory"/> (created if needed).</summary>
    /// <param name="directory">Destination directory.</param>
    /// <param name="files">The files to fetch.</param>
    /// <param name="httpClient">Client for the requests; null creates one for the duration of the call.</param>
    /// <param name="validate">Extra check of a complete file (for example parsing its header); throws <see cref="InvalidDataException"/> when bad.</param>
    /// <param name="progress">Receives progress reports; may be null.</param>
    /// <param name="cancellationToken">Cancels the download; the partial file is kept for resuming.</param>
    public static async Task DownloadAsync(string directory, IReadOnlyList<DatasetFile> files, HttpClient? httpClient,
        Action<string>? validate, IProgress<DatasetDownloadProgress>? progress, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        ArgumentNullException.ThrowIfNull(files);
        Directory.CreateDirectory(directory);
        HttpClient client = httpClient ?? new HttpClient();
        try
        {
            for (int index = 0; index < files.Count; index++)
            {
                DatasetFile file = files[index];
                string target = Path.Combine(directory, file.FileName);
                if (File.Exists(target) && IsValid(target, file.Md5, validate))
                {
                    long length = new FileInfo(target).Length;
                    progress?.Report(new DatasetDownloadProgress(file.FileName, index, files.Count, length, length));
                    continue;
                }

                await FetchAsync(client, file, target, index, files.Count, validate, progress, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            if (httpClient is null) client.Dispose();
        }
    }

    /// <summary>The lower-case hex MD5 of a file.</summary>
    public static string Md5Of(string path)
    {
        using FileStream stream = DataStreams.OpenRead(path);
        return Convert.ToHexStringLower(MD5.HashData(stream));
    }

    private static bool IsValid(string path, string? md5, Action<string>? validate)
    {
        try
        {
            if (md5 is not null && !string.Equals(Md5Of(path), md5, StringComparison.OrdinalIgnoreCase)) return false;
            validate?.Invoke(path);
            return true;
        }
        catch (Exception ex) when (ex is InvalidDataException or IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static async Task FetchAsync(HttpClient client, DatasetFile file, string target, int index, int count,
        Action<string>? validate, IProgress<DatasetDownloadProgress>? progress, CancellationToken cancellationToken)
    {
        string partial = target + ".part";
        long have = File.Exists(partial) ? new FileInfo(partial).Length : 0;
        using var request = new HttpRequestMessage(HttpMethod.Get, file.Address);
        if (have > 0) request.Headers.Range = new RangeHeaderValue(have, null);
        HttpResponseMessage response;
        try
        {
            response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException ex)
        {
            throw Unreachable(file, target, ex.Message, ex);
        }
        catch (TaskCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw Unreachable(file, target, "the request timed out", ex);
        }

        using (response)
        {
            bool resumed = response.StatusCode == HttpStatusCode.PartialContent && have > 0;
            if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable && have > 0)
            {
                // The partial file already holds everything the server has; check it as it is.
                Finish(file, partial, target, validate);
                progress?.Report(new DatasetDownloadProgress(file.FileName, index, count, have, have));
                return;
            }

            if (!response.IsSuccessStatusCode)
                throw Unreachable(file, target, $"the server answered {(int)response.StatusCode} {response.ReasonPhrase}", null, response.StatusCode);
            if (!resumed) have = 0; // the server ignored the range: start over
            long? total = response.Content.Headers.ContentLength is long length ? length + have : null;

            Stream source = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            await using (source.ConfigureAwait(false))
            {
                var output = new FileStream(partial, resumed ? FileMode.Append : FileMode.Create, FileAccess.Write, FileShare.None, DataStreams.FileBufferSize, useAsync: true);
                await using (output.ConfigureAwait(false))
                {
                    var buffer = new byte[DataStreams.FileBufferSize];
                    long received = have;
                    progress?.Report(new DatasetDownloadProgress(file.FileName, index, count, received, total));
                    int read;
                    while ((read = await source.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
                    {
                        await output.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                        received += read;
                        progress?.Report(new DatasetDownloadProgress(file.FileName, index, count, received, total));
                    }

                    await output.FlushAsync(cancellationToken).ConfigureAwait(false);
                    if (total is long expected && received != expected)
                        throw new HttpRequestException($"The download of {file.Address} stopped after {received} of {expected} bytes; run it again to resume from '{partial}'.");
                }
            }
        }

        Finish(file, partial, target, validate);
    }

    private static void Finish(DatasetFile file, string partial, string target, Action<string>? validate)
    {
        if (file.Md5 is not null)
        {
            string actual = Md5Of(partial);
            if (!string.Equals(actual, file.Md5, StringComparison.OrdinalIgnoreCase))
            {
                File.Delete(partial);
                throw new InvalidDataException($"The download of {file.Address} has MD5 {actual} but the publisher's is {file.Md5}; the file was deleted. Try again, or fetch it by other means.");
            }
        }

        if (validate is not null)
        {
            try
            {
                validate(partial);
            }
            catch (InvalidDataException ex)
            {
                File.Delete(partial);
                throw new InvalidDataException($"The download of {file.Address} is not a valid {file.FileName}: {ex.Message}", ex);
            }
        }

        File.Move(partial, target, overwrite: true);
    }

    private static HttpRequestException Unreachable(DatasetFile file, string target, string reason, Exception? inner, HttpStatusCode? status = null) =>
        new($"Could not download {file.FileName} from {file.Address} ({reason}). If this machine is offline, fetch the file elsewhere and place it at '{target}'"
            + (file.Md5 is null ? "." : $" (MD5 {file.Md5}).") + " It is then used without downloading.", inner, status);
}
