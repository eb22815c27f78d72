using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using StorageCloud.Auth;
using StorageCloud.Auth.Policy;
using StorageCloud.Auth.Store;
using StorageCloud.Identity.Auth;
using StorageCloud.Service.Api;
using StorageCloud.Identity.Policy;
using StorageCloud.Identity.Tokens;

namespace StorageCloud.Identity.Api;

/// <summary>One request to the identity API, with its route arguments and (once asked for) its caller.</summary>
public sealed class IdentityRequest(HttpContext context, string[] args, IdentityApi api) : ApiRequest(context, args)
{
    private ValidatedToken? _caller;
    private bool _resolved;

    /// <summary>The public base URL of the API ("http://host:5000/v3"), for links.</summary>
    public string BaseUrl => HostUrl + "/v3";

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
    public async Task EnforceAsync(string action, PolicyTarget target = default)
    {
        var caller = await CallerAsync();
        if (caller.Trust is not null && IdentityPolicy.RefusedToTrustTokens.Contains(action)) throw IdentityError.Forbidden($"identity:{action}");
        IdentityPolicy.Table.Enforce(action, caller, target);
    }
}

/// <summary>
/// The Keystone v3 API: version documents, auth, resources, assignments, catalog and credentials, over the identity
/// store. Routes are a plain table (method, path template) per resource file; errors are Keystone's JSON.
/// </summary>
public sealed partial class IdentityApi
{
    private readonly ApiRouter<IdentityRequest> _router;

    /// <summary>Builds the API over its services.</summary>
    public IdentityApi(IdentityStore store, TokenService tokens, Authenticator authenticator, LoginLimiter limiter, IdentityOptions options, ILogger<IdentityApi> logger)
    {
        Store = store;
        Tokens = tokens;
        Authenticator = authenticator;
        Limiter = limiter;
        Options = options;
        _router = new ApiRouter<IdentityRequest>(ApiErrorFormat.Keystone, (context, args) => new IdentityRequest(context, args, this), logger);
        _router.Map("GET", "/", r => WriteAsync(r.Context, 300, new JsonObject { ["versions"] = new JsonObject { ["values"] = new JsonArray(VersionDocument(r.Context)) } }));
        _router.Map("GET", "/v3", r => WriteAsync(r.Context, 200, new JsonObject { ["version"] = VersionDocument(r.Context) }));
        MapAuth();
        MapResources();
        MapUsers();
        MapRoles();
        MapImpliedRoles();
        MapInheritedGrants();
        MapTrusts();
        MapCatalog();
        MapCredentials();
        MapProjectTags();
        MapOAuthConsumers();
        MapPolicies();
        MapEndpointGroups();
        MapDomainConfig();
    }

    /// <summary>The rows.</summary>
    public IdentityStore Store { get; }

    /// <summary>Token issue and validation.</summary>
    public TokenService Tokens { get; }

    private Authenticator Authenticator { get; }

    private LoginLimiter Limiter { get; }

    private IdentityOptions Options { get; }

    /// <summary>Answers one request.</summary>
    public Task HandleAsync(HttpContext context) => _router.HandleAsync(context);

    /// <summary>Writes a JSON answer (headers only for HEAD).</summary>
    public static Task WriteAsync(HttpContext context, int status, JsonNode body) => ApiResponses.WriteJsonAsync(context, status, body);

    /// <summary>An empty answer (204, or 200 for HEAD checks).</summary>
    public static Task NoContent(HttpContext context, int status = 204) => ApiResponses.NoContent(context, status);

    private void Map(string method, string template, ApiRouter<IdentityRequest>.Handler handler) => _router.Map(method, template, handler);

    private static JsonObject VersionDocument(HttpContext context) => new()
    {
        ["id"] = "v3.14",
        ["status"] = "stable",
        ["updated"] = "2020-04-07T00:00:00Z",
        ["links"] = new JsonArray(new JsonObject { ["rel"] = "self", ["href"] = $"{context.Request.Scheme}://{context.Request.Host}/v3/" }),
        ["media-types"] = new JsonArray(new JsonObject { ["base"] = "application/json", ["type"] = "application/vnd.openstack.identity-v3+json" }),
    };
}
