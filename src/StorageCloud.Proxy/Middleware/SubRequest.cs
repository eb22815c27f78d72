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
        await next(context);
        return new SubResponse(context.Response.StatusCode, context.Response.Headers);
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
        features.Set<IHttpResponseFeature>(new HttpResponseFeature());
        features.Set<IHttpResponseBodyFeature>(new StreamResponseBodyFeature(responseBody ?? Stream.Null));
        features.Set<IHttpRequestLifetimeFeature>(new HttpRequestLifetimeFeature { RequestAborted = parent.RequestAborted });
        var context = new DefaultHttpContext(features) { RequestServices = parent.RequestServices };
        context.Connection.RemoteIpAddress = parent.Connection.RemoteIpAddress;
        context.Connection.LocalPort = parent.Connection.LocalPort;
        // The caller's identity and transaction id go along; what was decided about the parent request does not.
        context.Items[Common.Http.TransactionIdMiddleware.ItemKey] = parent.Items[Common.Http.TransactionIdMiddleware.ItemKey];
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
