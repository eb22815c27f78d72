using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using StorageCloud.Service.Api;

namespace StorageCloud.Auth;

/// <summary>Settings of <see cref="KeystoneAuthMiddleware"/> (keystonemiddleware's auth_token options).</summary>
public sealed record KeystoneAuthOptions
{
    /// <summary>The identity endpoint a 401 points clients to (www_authenticate_uri), "http://host:5000/v3".</summary>
    public required string AuthUri { get; init; }

    /// <summary>Let requests without a valid token through (X-Identity-Status: Invalid) and let the service decide.</summary>
    public bool DelayAuthDecision { get; init; }

    /// <summary>A service token counts only when it holds one of these roles.</summary>
    public IReadOnlyList<string> ServiceTokenRoles { get; init; } = ["service"];

    /// <summary>Requests that need no token at all (version documents, the healthcheck).</summary>
    public Func<HttpContext, bool>? Anonymous { get; init; }
}

/// <summary>The validated caller of a request, as the auth middleware found it.</summary>
public static class Caller
{
    private const string UserKey = "storagecloud.caller", ServiceKey = "storagecloud.service_caller";

    /// <summary>The caller's validated token, or null.</summary>
    public static ValidatedToken? Of(HttpContext context) => context.Items[UserKey] as ValidatedToken;

    /// <summary>The caller's validated token; 401 when there is none.</summary>
    public static ValidatedToken Require(HttpContext context) => Of(context) ?? throw ApiError.Unauthorized();

    /// <summary>The validated service token sent with the request (X-Service-Token), or null.</summary>
    public static ValidatedToken? ServiceOf(HttpContext context) => context.Items[ServiceKey] as ValidatedToken;

    internal static void Set(HttpContext context, ValidatedToken? user, ValidatedToken? service)
    {
        context.Items[UserKey] = user;
        context.Items[ServiceKey] = service;
    }
}

/// <summary>
/// keystonemiddleware's auth_token for StorageCloud's services: the X-Auth-Token (or X-Storage-Token) is validated
/// locally by the auth library; a missing or invalid one is refused with 401, Keystone's error body and
/// <c>WWW-Authenticate: Keystone uri="..."</c>. Identity headers a client sent are removed, then set from the token
/// (X-Identity-Status, X-User-Id, X-Project-Id, X-Roles, ...), so a service can trust them; <see cref="Caller"/>
/// gives the validated token itself. A service token (X-Service-Token) must hold a service role.
/// </summary>
public sealed class KeystoneAuthMiddleware(RequestDelegate next, TokenValidator tokens, KeystoneAuthOptions options)
{
    private static readonly string[] IdentityHeaders =
    [
        "X-Identity-Status", "X-Service-Identity-Status", "X-Domain-Id", "X-Domain-Name", "X-Project-Id", "X-Project-Name",
        "X-Project-Domain-Id", "X-Project-Domain-Name", "X-User-Id", "X-User-Name", "X-User-Domain-Id", "X-User-Domain-Name",
        "X-Roles", "X-Is-Admin-Project", "OpenStack-System-Scope", "X-Service-Catalog", "X-Service-User-Id", "X-Service-User-Name",
        "X-Service-Project-Id", "X-Service-Project-Name", "X-Service-Roles", "X-User", "X-Tenant-Id", "X-Tenant-Name", "X-Tenant", "X-Role",
    ];

    private static readonly StorageCloud.Common.Metrics.Counter TokenValidations = StorageCloud.Common.Metrics.MetricsRegistry.Default.Counter(
        "storagecloud_token_validations_total", "tokens checked by the services' auth middleware (cached or asked of the identity service), by result", "result");

    /// <summary>Authenticates the request, then passes it on.</summary>
    public async Task InvokeAsync(HttpContext context)
    {
        var headers = context.Request.Headers;
        foreach (var name in IdentityHeaders) headers.Remove(name);
        if (options.Anonymous?.Invoke(context) == true)
        {
            await next(context);
            return;
        }
        var token = headers["X-Auth-Token"].ToString() is { Length: > 0 } t ? t : headers["X-Storage-Token"].ToString();
        var user = token.Length == 0 ? null : await tokens.ValidateAsync(token);
        if (token.Length > 0) TokenValidations.Inc(user is null ? "invalid" : "valid");
        var serviceToken = headers["X-Service-Token"].ToString();
        ValidatedToken? service = null;
        var serviceValid = true;
        if (serviceToken.Length > 0)
        {
            service = await tokens.ValidateAsync(serviceToken);
            serviceValid = service is not null && options.ServiceTokenRoles.Any(service.HasRole);
            if (!serviceValid) service = null;
            headers["X-Service-Identity-Status"] = serviceValid ? "Confirmed" : "Invalid";
        }
        if ((user is null || !serviceValid) && !options.DelayAuthDecision)
        {
            await RejectAsync(context);
            return;
        }
        headers["X-Identity-Status"] = user is null ? "Invalid" : "Confirmed";
        if (user is not null) SetIdentityHeaders(headers, user, "X-");
        if (service is not null) SetIdentityHeaders(headers, service, "X-Service-");
        Caller.Set(context, user, service);
        context.Response.OnStarting(() =>
        {
            if (context.Response.StatusCode == 401) context.Response.Headers.WWWAuthenticate = $"Keystone uri=\"{options.AuthUri}\"";
            return Task.CompletedTask;
        });
        await next(context);
    }

    private Task RejectAsync(HttpContext context)
    {
        context.Response.Headers.WWWAuthenticate = $"Keystone uri=\"{options.AuthUri}\"";
        return ApiResponses.WriteJsonAsync(context, 401, new JsonObject
        {
            ["error"] = new JsonObject { ["code"] = 401, ["title"] = "Unauthorized", ["message"] = ApiError.AuthRequired },
        });
    }

    private static void SetIdentityHeaders(IHeaderDictionary headers, ValidatedToken token, string prefix)
    {
        headers[prefix + "User-Id"] = token.User.Id;
        headers[prefix + "User-Name"] = token.User.Name;
        headers[prefix + "User-Domain-Id"] = token.UserDomain.Id;
        headers[prefix + "User-Domain-Name"] = token.UserDomain.Name;
        if (token.Project is { } project)
        {
            headers[prefix + "Project-Id"] = project.Id;
            headers[prefix + "Project-Name"] = project.Name;
            headers[prefix + "Project-Domain-Id"] = project.DomainId;
            headers[prefix + "Project-Domain-Name"] = token.ProjectDomain?.Name ?? "";
        }
        if (prefix == "X-")
        {
            if (token.Domain is { } domain)
            {
                headers["X-Domain-Id"] = domain.Id;
                headers["X-Domain-Name"] = domain.Name;
            }
            if (token.IsSystem) headers["OpenStack-System-Scope"] = "all";
        }
        headers[prefix + "Roles"] = string.Join(",", token.Roles.Select(r => r.Name));
    }
}
