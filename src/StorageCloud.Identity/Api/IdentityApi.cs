using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using StorageCloud.Identity.Auth;
using StorageCloud.Identity.Policy;
using StorageCloud.Identity.Store;
using StorageCloud.Identity.Tokens;

namespace StorageCloud.Identity.Api;

/// <summary>One request to the identity API, with its route arguments and (once asked for) its caller.</summary>
public sealed class IdentityRequest(HttpContext context, string[] args, IdentityApi api)
{
    private ValidatedToken? _caller;
    private bool _resolved;

    /// <summary>The HTTP exchange.</summary>
    public HttpContext Context { get; } = context;

    /// <summary>The values of the route's {placeholders}, in order.</summary>
    public string[] Args { get; } = args;

    /// <summary>The public base URL of the API ("http://host:5000/v3"), for links.</summary>
    public string BaseUrl => $"{Context.Request.Scheme}://{Context.Request.Host}/v3";

    /// <summary>A query parameter, or null.</summary>
    public string? Query(string name) => Context.Request.Query.TryGetValue(name, out var v) ? v.ToString() : null;

    /// <summary>The caller's validated token; 401 when missing or invalid.</summary>
    public async Task<ValidatedToken> CallerAsync()
    {
        if (!_resolved)
        {
            var token = Context.Request.Headers["X-Auth-Token"].ToString();
            _caller = token.Length == 0 ? null : await api.Tokens.ValidateAsync(token);
            _resolved = true;
        }
        return _caller ?? throw IdentityError.Unauthorized();
    }

    /// <summary>Checks the policy rule for the action against the caller.</summary>
    public async Task EnforceAsync(string action, PolicyTarget target = default) => IdentityPolicy.Table.Enforce(action, await CallerAsync(), target);
}

/// <summary>
/// The Keystone v3 API: version documents, auth, resources, assignments, catalog and credentials, over the identity
/// store. Routes are a plain table (method, path template) per resource file; errors are Keystone's JSON.
/// </summary>
public sealed partial class IdentityApi
{
    private delegate Task Handler(IdentityRequest request);

    private readonly List<(string Method, string[] Segments, Handler Handler)> _routes = [];
    private readonly ILogger _logger;

    /// <summary>Builds the API over its services.</summary>
    public IdentityApi(IdentityStore store, TokenService tokens, Authenticator authenticator, LoginLimiter limiter, IdentityOptions options, ILogger<IdentityApi> logger)
    {
        Store = store;
        Tokens = tokens;
        Authenticator = authenticator;
        Limiter = limiter;
        Options = options;
        _logger = logger;
        MapAuth();
        MapResources();
        MapUsers();
        MapRoles();
        MapCatalog();
        MapCredentials();
    }

    /// <summary>The rows.</summary>
    public IdentityStore Store { get; }

    /// <summary>Token issue and validation.</summary>
    public TokenService Tokens { get; }

    private Authenticator Authenticator { get; }

    private LoginLimiter Limiter { get; }

    private IdentityOptions Options { get; }

    /// <summary>Answers one request.</summary>
    public async Task HandleAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? "/";
        try
        {
            if (path is "/" or "")
            {
                await WriteAsync(context, 300, new JsonObject { ["versions"] = new JsonObject { ["values"] = new JsonArray(VersionDocument(context)) } });
                return;
            }
            if (path is "/v3" or "/v3/")
            {
                await WriteAsync(context, 200, new JsonObject { ["version"] = VersionDocument(context) });
                return;
            }
            var segments = path.Trim('/').Split('/');
            var methodMatched = false;
            foreach (var (method, template, handler) in _routes)
            {
                if (!Matches(template, segments, out var args)) continue;
                var m = context.Request.Method;
                if (method != m && !(method == "GET" && m == "HEAD")) { methodMatched = true; continue; }
                await handler(new IdentityRequest(context, args, this));
                return;
            }
            if (methodMatched) throw new IdentityError(405, "The method is not allowed for the requested URL.");
            throw new IdentityError(404, "The resource could not be found.");
        }
        catch (IdentityError e)
        {
            await WriteErrorAsync(context, e);
        }
        catch (System.Data.Common.DbException e)
        {
            _logger.LogError("identity database error: {Message}", e.Message);
            await WriteErrorAsync(context, new IdentityError(503, "The identity database is unavailable."));
        }
    }

    /// <summary>Keystone's error body.</summary>
    public static Task WriteErrorAsync(HttpContext context, IdentityError e)
    {
        if (e.Status == 401) context.Response.Headers.WWWAuthenticate = $"Keystone uri=\"{context.Request.Scheme}://{context.Request.Host}/v3\"";
        return WriteAsync(context, e.Status, new JsonObject
        {
            ["error"] = new JsonObject { ["code"] = e.Status, ["message"] = e.Message, ["title"] = e.Title },
        });
    }

    /// <summary>Writes a JSON answer (headers only for HEAD).</summary>
    public static async Task WriteAsync(HttpContext context, int status, JsonNode body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        var bytes = JsonSerializer.SerializeToUtf8Bytes(body);
        context.Response.ContentLength = bytes.Length;
        if (!HttpMethods.IsHead(context.Request.Method)) await context.Response.Body.WriteAsync(bytes, context.RequestAborted);
    }

    /// <summary>An empty answer (204, or 200 for HEAD checks).</summary>
    public static Task NoContent(HttpContext context, int status = 204)
    {
        context.Response.StatusCode = status;
        return Task.CompletedTask;
    }

    private void Map(string method, string template, Handler handler) => _routes.Add((method, template.Trim('/').Split('/'), handler));

    private static bool Matches(string[] template, string[] segments, out string[] args)
    {
        args = [];
        if (template.Length != segments.Length) return false;
        var values = new List<string>();
        for (var i = 0; i < template.Length; i++)
        {
            if (template[i].StartsWith('{'))
            {
                if (segments[i].Length == 0) return false;
                values.Add(WebUtility.UrlDecode(segments[i]));
            }
            else if (template[i] != segments[i]) return false;
        }
        args = values.ToArray();
        return true;
    }

    private static JsonObject VersionDocument(HttpContext context) => new()
    {
        ["id"] = "v3.14",
        ["status"] = "stable",
        ["updated"] = "2020-04-07T00:00:00Z",
        ["links"] = new JsonArray(new JsonObject { ["rel"] = "self", ["href"] = $"{context.Request.Scheme}://{context.Request.Host}/v3/" }),
        ["media-types"] = new JsonArray(new JsonObject { ["base"] = "application/json", ["type"] = "application/vnd.openstack.identity-v3+json" }),
    };
}
