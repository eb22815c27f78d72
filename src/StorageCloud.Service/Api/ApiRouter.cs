using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace StorageCloud.Service.Api;

/// <summary>One request to an OpenStack-style API, with the values of its route's {placeholders}.</summary>
public class ApiRequest(HttpContext context, string[] args)
{
    /// <summary>The HTTP exchange.</summary>
    public HttpContext Context { get; } = context;

    /// <summary>The values of the route's {placeholders}, in order, percent-decoded.</summary>
    public string[] Args { get; } = args;

    /// <summary>A query parameter, or null.</summary>
    public string? Query(string name) => Context.Request.Query.TryGetValue(name, out var v) ? v.ToString() : null;

    /// <summary>The API's public base URL as the client reached it ("http://host:port").</summary>
    public string HostUrl => $"{Context.Request.Scheme}://{Context.Request.Host}";
}

/// <summary>
/// The routes of an OpenStack-style JSON API: a plain table of (method, path template) → handler, matched segment by
/// segment. An unknown path is a 404 and a known path with another method a 405, in the API's own error shape; a
/// handler's <see cref="ApiError"/> is answered the same way, and a database that cannot be reached is a 503.
/// </summary>
public sealed class ApiRouter<TRequest>(ApiErrorFormat errors, Func<HttpContext, string[], TRequest> request, ILogger logger) where TRequest : ApiRequest
{
    /// <summary>A route's handler.</summary>
    public delegate Task Handler(TRequest request);

    private readonly List<(string Method, string[] Segments, Handler Handler)> _routes = [];

    /// <summary>The API's error shape.</summary>
    public ApiErrorFormat Errors => errors;

    /// <summary>
    /// When set, a path of two or more segments with a trailing slash names nothing (404), as in Cinder, where
    /// <c>GET /volumes/</c> is not the list: an empty id must not reach the collection's handler.
    /// </summary>
    public bool TrailingSlashNamesNothing { get; init; }

    /// <summary>Adds a route; GET routes answer HEAD too. Templates name placeholders in braces: "/v3/users/{id}".</summary>
    public void Map(string method, string template, Handler handler) => _routes.Add((method, template.Trim('/').Split('/'), handler));

    /// <summary>Answers one request (the path relative to where the API is mounted).</summary>
    public async Task HandleAsync(HttpContext context)
    {
        try
        {
            await DispatchAsync(context);
        }
        catch (ApiError e)
        {
            if (!context.Response.HasStarted) await errors.WriteAsync(context, e);
        }
        catch (System.Data.Common.DbException e)
        {
            logger.LogError("database error: {Message}", e.Message);
            if (!context.Response.HasStarted) await errors.WriteAsync(context, new ApiError(503, "The service's database is unavailable."));
        }
    }

    private async Task DispatchAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? "/";
        if (TrailingSlashNamesNothing && path.Length > 1 && path[^1] == '/' && path.AsSpan(1, path.Length - 2).Contains('/'))
            throw new ApiError(404, "The resource could not be found.");
        var segments = path.Trim('/').Split('/');
        var methodMatched = false;
        foreach (var (method, template, handler) in _routes)
        {
            if (!Matches(template, segments, out var args)) continue;
            var m = context.Request.Method;
            if (method != m && !(method == "GET" && m == "HEAD"))
            {
                methodMatched = true;
                continue;
            }
            await handler(request(context, args));
            return;
        }
        if (methodMatched) throw new ApiError(405, "The method is not allowed for the requested URL.");
        throw new ApiError(404, "The resource could not be found.");
    }

    private static bool Matches(string[] template, string[] segments, out string[] args)
    {
        args = [];
        if (template.Length != segments.Length) return false;
        List<string>? values = null;
        for (var i = 0; i < template.Length; i++)
        {
            if (template[i].StartsWith('{'))
            {
                if (segments[i].Length == 0) return false;
                (values ??= []).Add(Uri.UnescapeDataString(segments[i]));
            }
            else if (template[i] != segments[i]) return false;
        }
        args = values?.ToArray() ?? [];
        return true;
    }
}
