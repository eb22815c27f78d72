using System.Net.Http.Headers;
using StorageCloud.Ring;

namespace StorageCloud.ObjectLayer;

/// <summary>
/// One storage node's answer: its status and headers, and for reads the body still streaming. Status 0 means the
/// node could not be reached or failed before answering. Dispose it to release the connection.
/// </summary>
public sealed class BackendResponse : IDisposable
{
    private readonly HttpResponseMessage? _message;

    internal BackendResponse(RingDevice node, HttpResponseMessage message)
    {
        Node = node;
        _message = message;
        Status = (int)message.StatusCode;
    }

    private BackendResponse(RingDevice? node, int status, string? error)
    {
        Node = node;
        Status = status;
        Error = error;
    }

    /// <summary>The device that answered, or null for a synthetic answer.</summary>
    public RingDevice? Node { get; }

    /// <summary>The HTTP status, or 0 when the node failed.</summary>
    public int Status { get; }

    /// <summary>Why the node failed, when <see cref="Status"/> is 0.</summary>
    public string? Error { get; }

    /// <summary>True for 2xx.</summary>
    public bool IsSuccess => Status is >= 200 and < 300;

    /// <summary>A failure that never reached a node (or an answer made up by the layer).</summary>
    public static BackendResponse Synthetic(int status, RingDevice? node = null, string? error = null) => new(node, status, error);

    /// <summary>A header of the response or of its content, or null.</summary>
    public string? Header(string name)
    {
        if (_message is null) return null;
        // Unparsed: HttpClient's typed view re-spells some values (a space after ';' in a Content-Type), and Swift
        // answers the bytes it stored.
        if (_message.Headers.NonValidated.TryGetValues(name, out var values)) return string.Join(",", values);
        if (_message.Content.Headers.NonValidated.TryGetValues(name, out values)) return string.Join(",", values);
        return null;
    }

    /// <summary>Every header, response headers first.</summary>
    public IEnumerable<KeyValuePair<string, string>> Headers()
    {
        if (_message is null) yield break;
        foreach (var (name, values) in _message.Headers.NonValidated) yield return new(name, string.Join(",", values));
        foreach (var (name, values) in _message.Content.Headers.NonValidated) yield return new(name, string.Join(",", values));
    }

    /// <summary>The body's length, when the node sent one.</summary>
    public long? ContentLength => _message?.Content.Headers.ContentLength;

    /// <summary>The body, streaming from the node.</summary>
    public Task<Stream> ReadBodyAsync(CancellationToken cancellationToken = default)
        => ResumableBody is not null ? Task.FromResult(ResumableBody)
            : _message is null ? Task.FromResult(Stream.Null) : _message.Content.ReadAsStreamAsync(cancellationToken);

    /// <summary>A body that resumes from another replica, set by the layer for object GETs.</summary>
    internal Stream? ResumableBody { get; set; }

    /// <summary>The X-Backend-Timestamp (or X-Timestamp) the node sent, for newest-wins choices.</summary>
    public string? Timestamp => Header("X-Backend-Timestamp") ?? Header("X-Timestamp");

    /// <summary>Releases the connection.</summary>
    public void Dispose()
    {
        ResumableBody?.Dispose();
        _message?.Dispose();
    }

    internal HttpContentHeaders? ContentHeaders => _message?.Content.Headers;
}
