using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using StorageCloud.Common.Http;
using StorageCloud.Ring;

namespace StorageCloud.ObjectLayer;

/// <summary>
/// Sends one request to one storage device over pooled HTTP/1.1 keep-alive connections, counting its failures in
/// the error limiter. Never throws for a node's failure: that comes back as status 0.
/// </summary>
public sealed class NodeClient : IDisposable
{
    private readonly HttpClient _http;
    private readonly ErrorLimiter _limiter;
    private readonly ObjectLayerOptions _options;

    /// <summary>Creates the shared connection pool.</summary>
    public NodeClient(ObjectLayerOptions options, ErrorLimiter limiter, ILocalRoutes? local = null)
    {
        _options = options;
        _limiter = limiter;
        var network = new SocketsHttpHandler
        {
            ConnectTimeout = options.ConnectTimeout,
            Expect100ContinueTimeout = options.NodeTimeout,
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30),
            AutomaticDecompression = System.Net.DecompressionMethods.None,
            UseCookies = false,
            AllowAutoRedirect = false,
            // Metadata is UTF-8 text, as the listeners read and write it (KestrelDefaults): the same bytes both ways.
            RequestHeaderEncodingSelector = (_, _) => System.Text.Encoding.UTF8,
            ResponseHeaderEncodingSelector = (_, _) => System.Text.Encoding.UTF8,
        };
        _http = new HttpClient(local is null ? network : local.CreateHandler(network))
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
    }

    /// <summary>Where a node's failures are reported (Swift's "ERROR with Object server ..." lines); never given headers, so no token reaches it.</summary>
    public ILogger Logger { get; set; } = NullLogger.Instance;

    /// <summary>The error limiter this client reports to.</summary>
    public ErrorLimiter Limiter => _limiter;

    /// <summary>
    /// Sends <paramref name="method"/> for /device/partition + <paramref name="path"/> (already quoted). With
    /// <paramref name="content"/>, the request asks for 100-continue so the node can refuse before the body.
    /// The response's headers are awaited within the node timeout; its body streams afterwards.
    /// </summary>
    public async Task<BackendResponse> SendAsync(RingDevice node, uint partition, HttpMethod method, string path,
        IEnumerable<KeyValuePair<string, string>> headers, HttpContent? content = null, CancellationToken cancellationToken = default)
    {
        var uri = BackendPath.ToUri(node.Server, node.Device, partition, path);
        using var request = new HttpRequestMessage(method, uri) { Version = System.Net.HttpVersion.Version11, Content = content };
        foreach (var (name, value) in headers)
        {
            if (request.Headers.TryAddWithoutValidation(name, value)) continue;
            // Content headers (a POST's new Content-Type, Content-Encoding, Content-Disposition) need a content to
            // travel on: without one HttpClient would drop them.
            if (content is null)
            {
                if (method == HttpMethod.Get || method == HttpMethod.Head || name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase)) continue;
                request.Content ??= new ByteArrayContent([]);
            }
            request.Content!.Headers.TryAddWithoutValidation(name, value);
        }
        if (content is not null) request.Headers.ExpectContinue = true;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        // A body may take as long as the client takes to send it; only the wait for the answer after it is bounded.
        if (content is null) timeout.CancelAfter(_options.NodeTimeout);
        try
        {
            var message = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
            var status = (int)message.StatusCode;
            if (status == 507) _limiter.Limit(node);
            else if (status >= 500) _limiter.Error(node);
            if (status >= 500) Logger.LogWarning("ERROR with server {Server}/{Device} re: {Method} {Partition}{Path}: status {Status}", node.Server, node.Device, method, partition, path, status);
            return new BackendResponse(node, message);
        }
        catch (Exception e) when (e is HttpRequestException or IOException or OperationCanceledException or ObjectDisposedException)
        {
            if (cancellationToken.IsCancellationRequested && e is OperationCanceledException) throw;
            _limiter.Error(node);
            Logger.LogWarning("ERROR with server {Server}/{Device} re: {Method} {Partition}{Path}: {Failure}", node.Server, node.Device, method, partition, path,
                e is OperationCanceledException ? $"no answer within {_options.NodeTimeout.TotalSeconds:0.#} s" : e.Message);
            return BackendResponse.Synthetic(0, node, e.Message);
        }
    }

    /// <summary>Closes the pool.</summary>
    public void Dispose() => _http.Dispose();
}
