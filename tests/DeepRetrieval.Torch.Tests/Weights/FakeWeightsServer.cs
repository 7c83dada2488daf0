using System.Net;

namespace DeepRetrieval.Torch.Tests.Weights;

/// <summary>
/// An HttpMessageHandler standing in for download.pytorch.org / huggingface.co: serves fixed bytes, or fails the way a network
/// does (no connection, an HTTP error, or a connection that breaks after half the body), and counts the requests.
/// </summary>
internal sealed class FakeWeightsServer(byte[] body) : HttpMessageHandler
{
    public enum Failure { None, Unreachable, NotFound, BreaksMidway }

    public Failure Mode { get; set; }

    public int Requests { get; private set; }

    public List<Uri> RequestedUrls { get; } = [];

    public HttpClient Client() => new(this, disposeHandler: false);

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        Requests++;
        RequestedUrls.Add(request.RequestUri!);
        switch (Mode)
        {
            case Failure.Unreachable:
                throw new HttpRequestException("Name or service not known (weights.test:443)");
            case Failure.NotFound:
                return Task.FromResult(new HttpResponseMessage(HttpStatusCode.NotFound) { ReasonPhrase = "Not Found" });
        }
        Stream stream = Mode == Failure.BreaksMidway ? new BreakingStream(body, body.Length / 2) : new MemoryStream(body, writable: false);
        var content = new StreamContent(stream, 4096);
        content.Headers.ContentLength = body.Length;
        return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = content });
    }

    // Gives the first bytes, then fails like a reset connection.
    private sealed class BreakingStream(byte[] body, int breakAt) : Stream
    {
        private int _position;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            if (_position >= breakAt)
                throw new IOException("Connection reset by peer.");
            int n = Math.Min(count, breakAt - _position);
            Array.Copy(body, _position, buffer, offset, n);
            _position += n;
            return n;
        }

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
