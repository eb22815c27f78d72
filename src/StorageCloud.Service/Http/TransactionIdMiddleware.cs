using StorageCloud.Common.Http;
using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace StorageCloud.Service.Http;

/// <summary>
/// First in every pipeline: gives the request an id and a logging scope for everything the request logs, and writes
/// one access line when it ends. Swift's roles use transaction ids (X-Trans-Id and X-Openstack-Request-Id, "tx...");
/// the OpenStack APIs use request ids (x-openstack-request-id, "req-&lt;uuid&gt;", plus any header the reference adds,
/// such as Nova's X-Compute-Request-Id). Backend roles trust the id the proxy sent so that one request can be
/// followed across nodes.
/// </summary>
public sealed class TransactionIdMiddleware(RequestDelegate next, ILogger<TransactionIdMiddleware> logger, TransactionIdOptions options)
{
    /// <summary>The key under which the id is kept in <see cref="HttpContext.Items"/>.</summary>
    public const string ItemKey = "storagecloud.trans_id";

    /// <summary>Runs the rest of the pipeline inside the transaction's scope.</summary>
    public async Task InvokeAsync(HttpContext context)
    {
        var id = options.Style == RequestIdStyle.OpenStack ? "req-" + Guid.NewGuid().ToString("D") : ChooseId(context.Request);
        context.Items[ItemKey] = id;
        if (options.Style == RequestIdStyle.Swift) context.Response.Headers["X-Trans-Id"] = id;
        context.Response.Headers["X-Openstack-Request-Id"] = id;
        foreach (var header in options.ExtraHeaders) context.Response.Headers[header] = id;
        var started = Stopwatch.GetTimestamp();
        using (logger.BeginScope(new TransactionScope(id)))
        {
            try
            {
                await next(context);
            }
            finally
            {
                if (options.AccessLog)
                // The query string is left out: it may carry temp URL signatures or S3 presigned credentials.
                logger.LogInformation("{Method} {Path} {Status} {Bytes} {DurationMs:F3}ms",
                    context.Request.Method, context.Request.Path.Value, context.Response.StatusCode,
                    context.Response.ContentLength?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-", Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
        }
    }

    private string ChooseId(HttpRequest request)
    {
        if (options.TrustIncoming && request.Headers["X-Trans-Id"].ToString() is { Length: > 0 and <= 256 } incoming)
            return incoming;
        var suffix = options.Suffix;
        if (request.Headers["X-Trans-Id-Extra"].ToString() is { Length: > 0 } extra)
            suffix += "-" + Uri.EscapeDataString(extra.Length > 32 ? extra[..32] : extra);
        return TransactionId.New(suffix);
    }

    /// <summary>The transaction id of a request, once this middleware has run.</summary>
    public static string? Of(HttpContext context) => context.Items[ItemKey] as string;

    private sealed class TransactionScope(string id) : IReadOnlyList<KeyValuePair<string, object>>
    {
        public KeyValuePair<string, object> this[int index]
            => index == 0 ? new("TransactionId", id) : throw new ArgumentOutOfRangeException(nameof(index));

        public int Count => 1;

        public IEnumerator<KeyValuePair<string, object>> GetEnumerator()
        {
            yield return this[0];
        }

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

        public override string ToString() => id;
    }
}

/// <summary>Settings of <see cref="TransactionIdMiddleware"/>.</summary>
public sealed record TransactionIdOptions
{
    /// <summary>Appended to every generated id (Swift's trans_id_suffix).</summary>
    public string Suffix { get; init; } = "";

    /// <summary>Reuse an incoming X-Trans-Id (storage roles, behind a proxy) instead of making one.</summary>
    public bool TrustIncoming { get; init; }

    /// <summary>Write one access line per request (off where a fuller access log follows, as in the proxy).</summary>
    public bool AccessLog { get; init; } = true;

    /// <summary>Swift's transaction ids or OpenStack's request ids.</summary>
    public RequestIdStyle Style { get; init; } = RequestIdStyle.Swift;

    /// <summary>More response headers that carry the id (Nova's X-Compute-Request-Id).</summary>
    public IReadOnlyList<string> ExtraHeaders { get; init; } = [];
}

/// <summary>Which ids a pipeline gives its requests.</summary>
public enum RequestIdStyle
{
    /// <summary>"tx&lt;21 hex&gt;-&lt;10 hex time&gt;" in X-Trans-Id and X-Openstack-Request-Id.</summary>
    Swift,

    /// <summary>"req-&lt;uuid&gt;" in x-openstack-request-id.</summary>
    OpenStack,
}
