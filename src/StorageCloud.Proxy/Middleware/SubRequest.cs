using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace StorageCloud.Proxy.Middleware;

/// <summary>The status and headers a sub-request was answered with.</summary>
public sealed record SubResponse(int Status, IHeaderDictionary Headers);

/// <summary>
/// Swift's make_subrequest: a request made by a middleware on the caller's behalf (bulk delete, archive extraction)
/// that runs through the rest of the pipeline, so authorization, quotas and every feature below apply to it
/// exactly as to a client's own request. Its body is discarded unless the caller asks for it.
/// </summary>
public static class SubRequest
{
    /// <summary>Runs <paramref name="method"/> on <paramref name="rawPath"/> (already quoted) through <paramref name="next"/>.</summary>
    /// <param name="preAuthorized">Swift's make_pre_authed_env: the (account, container) a middleware has already authorized the request for.</param>
    public static async Task<SubResponse> SendAsync(HttpContext parent, RequestDelegate next, string method, string rawPath,
        IEnumerable<KeyValuePair<string, string>>? headers = null, Stream? body = null, long? contentLength = null,
        (string Account, string? Container)? preAuthorized = null, Stream? responseBody = null)
    {
        var context = Create(parent, method, rawPath, headers, body, contentLength, preAuthorized, responseBody);
        await RunAsync(context, next);
        return new SubResponse(context.Response.StatusCode, context.Response.Headers);
    }

    /// <summary>Runs a sub-request made by <see cref="Create"/>; its OnStarting callbacks run even when it wrote no body.</summary>
    public static async Task RunAsync(HttpContext context, RequestDelegate next)
    {
        await next(context);
        if (context.Features.Get<IHttpResponseFeature>() is SubResponseFeature response) await response.StartAsync();
    }

    /// <summary>
    /// A sub-request's response: it keeps the OnStarting callbacks that middleware registers (to set headers such as
    /// X-Object-Version-Id) and runs them, last registered first, when the body starts or the request ends.
    /// </summary>
    private sealed class SubResponseFeature : HttpResponseFeature
    {
        private readonly Stack<(Func<object, Task> Callback, object State)> _starting = new();
        private bool _started;

        public override bool HasStarted => _started;

        public override void OnStarting(Func<object, Task> callback, object state) => _starting.Push((callback, state));

        public async Task StartAsync()
        {
            if (_started) return;
            _started = true;
            while (_starting.TryPop(out var entry)) await entry.Callback(entry.State);
        }
    }

    /// <summary>The sub-request's body: the first write starts the response (its OnStarting callbacks run first).</summary>
    private sealed class StartingStream(Stream inner, SubResponseFeature response) : Common.IO.WriteOnlyStream
    {
        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            await response.StartAsync();
            await inner.WriteAsync(buffer, cancellationToken);
        }

        public override void Write(byte[] buffer, int offset, int count)
        {
            response.StartAsync().GetAwaiter().GetResult();
            inner.Write(buffer, offset, count);
        }

        public override async Task FlushAsync(CancellationToken cancellationToken)
        {
            await response.StartAsync();
            await inner.FlushAsync(cancellationToken);
        }

        public override void Flush() => inner.Flush();
    }

    /// <summary>The context of a sub-request: the caller's identity and transaction id, its own path, headers and bodies.</summary>
    public static HttpContext Create(HttpContext parent, string method, string rawPath,
        IEnumerable<KeyValuePair<string, string>>? headers = null, Stream? body = null, long? contentLength = null,
        (string Account, string? Container)? preAuthorized = null, Stream? responseBody = null)
    {
        var q = rawPath.IndexOf('?');
        var request = new HttpRequestFeature
        {
            Method = method,
            RawTarget = rawPath,
            Path = Uri.UnescapeDataString(q < 0 ? rawPath : rawPath[..q]),
            QueryString = q < 0 ? "" : rawPath[q..],
            Protocol = "HTTP/1.1",
            Scheme = parent.Request.Scheme,
            Body = body ?? Stream.Null,
        };
        request.Headers.Host = parent.Request.Host.Value;
        if (headers is not null)
            foreach (var (name, value) in headers) request.Headers[name] = value;
        request.Headers.ContentLength = contentLength ?? (body is null ? 0 : null);
        var features = new FeatureCollection();
        features.Set<IHttpRequestFeature>(request);
        var response = new SubResponseFeature();
        features.Set<IHttpResponseFeature>(response);
        features.Set<IHttpResponseBodyFeature>(new StreamResponseBodyFeature(new StartingStream(responseBody ?? Stream.Null, response)));
        features.Set<IHttpRequestLifetimeFeature>(new HttpRequestLifetimeFeature { RequestAborted = parent.RequestAborted });
        var context = new DefaultHttpContext(features) { RequestServices = parent.RequestServices };
        context.Connection.RemoteIpAddress = parent.Connection.RemoteIpAddress;
        context.Connection.LocalPort = parent.Connection.LocalPort;
        // The caller's identity and transaction id go along; what was decided about the parent request does not.
        context.Items[Service.Http.TransactionIdMiddleware.ItemKey] = parent.Items[Service.Http.TransactionIdMiddleware.ItemKey];
        Auth.SwiftAuthState.CopyIdentity(parent, context);
        if (preAuthorized is { } scope)
        {
            var state = Auth.SwiftAuthState.Of(context);
            state.Overridden = true;
            state.OverrideScope = scope;
        }
        return context;
    }
}
