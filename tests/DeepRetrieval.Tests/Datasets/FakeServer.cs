using System.Net;
using System.Net.Http.Headers;

namespace DeepRetrieval.Tests.Datasets;

/// <summary>An in-process HTTP server stand-in: serves byte arrays by URL, honours Range requests unless told not to, counts requests.</summary>
internal sealed class FakeServer : HttpMessageHandler
{
    private readonly Dictionary<string, byte[]> _files = [];

    public bool IgnoreRanges { get; set; }

    public bool Offline { get; set; }

    public List<string> Requests { get; } = [];

    public List<RangeHeaderValue?> Ranges { get; } = [];

    public void Serve(string url, byte[] content) => _files[url] = content;

    public HttpClient Client() => new(this, disposeHandler: false);

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (Offline) throw new HttpRequestException("Name or service not known (fake offline)");
        string url = request.RequestUri!.ToString();
        Requests.Add(url);
        Ranges.Add(request.Headers.Range);
        if (!_files.TryGetValue(url, out byte[]? content))
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.NotFound) { ReasonPhrase = "Not Found" });
        if (request.Headers.Range is { } range && !IgnoreRanges)
        {
            long from = range.Ranges.Single().From ?? 0;
            if (from >= content.Length) return Task.FromResult(new HttpResponseMessage(HttpStatusCode.RequestedRangeNotSatisfiable));
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.PartialContent) { Content = new ByteArrayContent(content[(int)from..]) });
        }

        return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = new ByteArrayContent(content) });
    }
}
