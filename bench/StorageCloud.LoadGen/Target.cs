using System.Net;
using System.Net.Http.Headers;

namespace StorageCloud.LoadGen;

/// <summary>An endpoint under load: Swift (<see cref="SwiftTarget"/>) or S3 (<see cref="S3Target"/>), one keep-alive connection pool each.</summary>
public abstract class LoadTarget : IDisposable
{
    private readonly HttpClient _http;

    protected LoadTarget(HttpClient http) => _http = http;

    /// <summary>A client with a keep-alive pool of up to <paramref name="connections"/> connections.</summary>
    protected static HttpClient CreateClient(int connections) => new(new SocketsHttpHandler
    {
        MaxConnectionsPerServer = Math.Max(1, connections),
        PooledConnectionIdleTimeout = TimeSpan.FromMinutes(2),
        AutomaticDecompression = DecompressionMethods.None,
        UseCookies = false,
    })
    { Timeout = TimeSpan.FromMinutes(5) };

    /// <summary>The URL of a container (bucket) or of an object in it.</summary>
    protected abstract Uri UrlOf(string container, string? name, string? query);

    /// <summary>Adds the credentials (a token, or a signature) to a request about to go.</summary>
    protected abstract void Authorize(HttpRequestMessage request);

    /// <summary>The query of a listing of up to <paramref name="limit"/> names.</summary>
    public abstract string ListQuery(int limit);

    /// <summary>Sends a request, reads (and drops) the body; returns the status (0 for a failed connection) and the body bytes read.</summary>
    public async Task<(int Status, long Bytes)> SendAsync(HttpMethod method, string container, string? name = null, ReadOnlyMemory<byte>? body = null,
        string? query = null, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(method, UrlOf(container, name, query));
        if (body is { } payload)
        {
            request.Content = new ReadOnlyMemoryContent(payload);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        }
        Authorize(request);
        try
        {
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
            var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(64 * 1024);
            long total = 0;
            try
            {
                int n;
                while ((n = await stream.ReadAsync(buffer, cancellationToken)) > 0) total += n;
            }
            finally
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
            }
            return ((int)response.StatusCode, total);
        }
        catch (HttpRequestException)
        {
            // A connection that failed counts as an error of its own kind.
            return (0, 0);
        }
    }

    public void Dispose()
    {
        _http.Dispose();
        GC.SuppressFinalize(this);
    }
}
