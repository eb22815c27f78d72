using System.Net;
using System.Net.Http.Headers;

namespace StorageCloud.LoadGen;

/// <summary>A Swift endpoint under load: v1 auth (or a given token and storage URL) and one keep-alive connection pool.</summary>
public sealed class SwiftTarget : IDisposable
{
    private readonly HttpClient _http;

    private SwiftTarget(HttpClient http, string storageUrl, string token)
    {
        _http = http;
        StorageUrl = storageUrl.TrimEnd('/');
        Token = token;
    }

    /// <summary>The account URL requests go to.</summary>
    public string StorageUrl { get; }

    /// <summary>The auth token sent with every request.</summary>
    public string Token { get; }

    /// <summary>Connects with v1 auth (user and key) or with a token and storage URL given outright.</summary>
    public static async Task<SwiftTarget> ConnectAsync(string? authUrl, string? user, string? key, string? storageUrl, string? token, int connections)
    {
        var http = new HttpClient(new SocketsHttpHandler
        {
            MaxConnectionsPerServer = Math.Max(1, connections),
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(2),
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
        })
        { Timeout = TimeSpan.FromMinutes(5) };
        if (storageUrl is not null && token is not null) return new SwiftTarget(http, storageUrl, token);
        if (authUrl is null || user is null || key is null) throw new ArgumentException("give --auth-url, --user and --key, or --storage-url and --token");
        using var request = new HttpRequestMessage(HttpMethod.Get, authUrl);
        request.Headers.Add("X-Auth-User", user);
        request.Headers.Add("X-Auth-Key", key);
        using var response = await http.SendAsync(request);
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"auth failed: {(int)response.StatusCode}");
        return new SwiftTarget(http, response.Headers.GetValues("X-Storage-Url").First(), response.Headers.GetValues("X-Auth-Token").First());
    }

    private HttpRequestMessage Request(HttpMethod method, string path)
    {
        var request = new HttpRequestMessage(method, StorageUrl + path);
        request.Headers.TryAddWithoutValidation("X-Auth-Token", Token);
        return request;
    }

    /// <summary>Sends a request, reads (and drops) the body; returns the status and the body bytes read.</summary>
    public async Task<(int Status, long Bytes)> SendAsync(HttpMethod method, string path, ReadOnlyMemory<byte>? body = null, CancellationToken cancellationToken = default)
    {
        using var request = Request(method, path);
        if (body is { } payload)
        {
            request.Content = new ReadOnlyMemoryContent(payload);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        }
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

    public void Dispose() => _http.Dispose();
}
