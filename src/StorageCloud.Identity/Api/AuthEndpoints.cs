using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using StorageCloud.Auth.Store;
using StorageCloud.Auth.Tokens;
using StorageCloud.Auth;
using StorageCloud.Identity.Tokens;
using StorageCloud.Service.Api;

namespace StorageCloud.Identity.Api;

// /v3/auth/...: issuing, validating and revoking tokens, and what a token may be scoped to.
public sealed partial class IdentityApi
{
    private void MapAuth()
    {
        Map("POST", "/v3/auth/tokens", IssueTokenAsync);
        Map("GET", "/v3/auth/tokens", ValidateTokenAsync);
        Map("DELETE", "/v3/auth/tokens", RevokeTokenAsync);
        Map("GET", "/v3/auth/projects", async r =>
        {
            var caller = await r.CallerAsync();
            var rows = await Store.QueryAsync<ProjectRow>(
                """
                SELECT * FROM projects WHERE enabled = 1 AND id IN (SELECT target_id FROM assignments WHERE inherited = 0 AND
                  ((type = 'UserProject' AND actor_id = @user) OR (type = 'GroupProject' AND actor_id IN (SELECT group_id FROM group_members WHERE user_id = @user))))
                ORDER BY id
                """, new { user = caller.User.Id });
            await WriteAsync(r.Context, 200, Views.List("projects", $"{r.BaseUrl}/auth/projects", rows.Select(p => Views.Project(p, r.BaseUrl))));
        });
        Map("GET", "/v3/auth/domains", async r =>
        {
            var caller = await r.CallerAsync();
            var rows = await Store.QueryAsync<DomainRow>(
                """
                SELECT * FROM domains WHERE enabled = 1 AND id IN (SELECT target_id FROM assignments WHERE inherited = 0 AND
                  ((type = 'UserDomain' AND actor_id = @user) OR (type = 'GroupDomain' AND actor_id IN (SELECT group_id FROM group_members WHERE user_id = @user))))
                ORDER BY id
                """, new { user = caller.User.Id });
            await WriteAsync(r.Context, 200, Views.List("domains", $"{r.BaseUrl}/auth/domains", rows.Select(d => Views.Domain(d, r.BaseUrl))));
        });
        Map("GET", "/v3/auth/system", async r =>
        {
            var caller = await r.CallerAsync();
            var roles = await Tokens.EffectiveRolesAsync(caller.User.Id, "System", "all");
            var system = new JsonArray();
            if (roles.Count > 0) system.Add(new JsonObject { ["all"] = true });
            await WriteAsync(r.Context, 200, new JsonObject { ["system"] = system, ["links"] = Views.Links($"{r.BaseUrl}/auth/system") });
        });
        Map("GET", "/v3/auth/catalog", async r =>
        {
            var caller = await r.CallerAsync();
            if (caller.Payload.Scope == ScopeKind.Unscoped) throw new IdentityError(403, "A scoped token is required to get the catalog.");
            await WriteAsync(r.Context, 200, new JsonObject { ["catalog"] = await CatalogAsync(caller), ["links"] = Views.Links($"{r.BaseUrl}/auth/catalog") });
        });
    }

    private async Task IssueTokenAsync(IdentityRequest r)
    {
        var address = AddressOf(r.Context);
        if (Limiter.RetryAfterSeconds(address) is > 0 and var wait)
        {
            r.Context.Response.Headers.RetryAfter = wait.ToString(System.Globalization.CultureInfo.InvariantCulture);
            throw new IdentityError(429, "Too many failed authentication attempts from this address; try again later.");
        }
        var body = await JsonBody.ReadAsync(r.Context);
        TokenPayload payload;
        try
        {
            payload = await Authenticator.AuthenticateAsync(body);
        }
        catch (ApiError e) when (e.Status == 401)
        {
            Limiter.Failed(address);
            throw;
        }
        var token = Tokens.Issue(payload);
        var validated = await Tokens.ValidateAsync(token) ?? throw IdentityError.Unauthorized();
        r.Context.Response.Headers["X-Subject-Token"] = token;
        await WriteAsync(r.Context, 201, await TokenBodyAsync(validated, r.Query("nocatalog") is null));
    }

    private async Task ValidateTokenAsync(IdentityRequest r)
    {
        var caller = await r.CallerAsync();
        var subjectToken = r.Context.Request.Headers["X-Subject-Token"].ToString();
        if (subjectToken.Length == 0) throw IdentityError.Invalid("Expecting to find X-Subject-Token in request headers.");
        var subject = await Tokens.ValidateAsync(subjectToken) ?? throw new IdentityError(404, "Could not find token.");
        if (subject.User.Id != caller.User.Id && !caller.HasRole("admin") && !caller.HasRole("service"))
            throw IdentityError.Forbidden("identity:validate_token");
        r.Context.Response.Headers["X-Subject-Token"] = subjectToken;
        await WriteAsync(r.Context, 200, await TokenBodyAsync(subject, r.Query("nocatalog") is null));
    }

    private async Task RevokeTokenAsync(IdentityRequest r)
    {
        var caller = await r.CallerAsync();
        var subjectToken = r.Context.Request.Headers["X-Subject-Token"].ToString();
        if (subjectToken.Length == 0) throw IdentityError.Invalid("Expecting to find X-Subject-Token in request headers.");
        var subject = await Tokens.ValidateAsync(subjectToken) ?? throw new IdentityError(404, "Could not find token.");
        if (subject.User.Id != caller.User.Id && !caller.HasRole("admin")) throw IdentityError.Forbidden("identity:revoke_token");
        await Tokens.RevokeAsync(subject.Payload);
        await NoContent(r.Context);
    }

    /// <summary>The token document ({"token": {...}}) Keystone returns when issuing and validating.</summary>
    private async Task<JsonObject> TokenBodyAsync(ValidatedToken t, bool withCatalog)
    {
        var methods = new JsonArray();
        if (t.Payload.Methods.HasFlag(AuthMethods.Password)) methods.Add("password");
        if (t.Payload.Methods.HasFlag(AuthMethods.Token)) methods.Add("token");
        if (t.Payload.Methods.HasFlag(AuthMethods.ApplicationCredential)) methods.Add("application_credential");
        var audits = new JsonArray();
        foreach (var id in t.Payload.AuditIds) audits.Add(id);
        var token = new JsonObject
        {
            ["methods"] = methods,
            ["user"] = new JsonObject
            {
                ["domain"] = new JsonObject { ["id"] = t.UserDomain.Id, ["name"] = t.UserDomain.Name },
                ["id"] = t.User.Id, ["name"] = t.User.Name, ["password_expires_at"] = null,
            },
            ["audit_ids"] = audits,
            ["expires_at"] = Views.Time(t.Payload.ExpiresAt),
            ["issued_at"] = Views.Time(t.Payload.IssuedAt),
        };
        if (t.Project is not null)
        {
            token["project"] = new JsonObject
            {
                ["domain"] = new JsonObject { ["id"] = t.ProjectDomain!.Id, ["name"] = t.ProjectDomain.Name },
                ["id"] = t.Project.Id, ["name"] = t.Project.Name,
            };
            token["is_domain"] = false;
        }
        if (t.Domain is not null) token["domain"] = new JsonObject { ["id"] = t.Domain.Id, ["name"] = t.Domain.Name };
        if (t.IsSystem) token["system"] = new JsonObject { ["all"] = true };
        if (t.Payload.ApplicationCredentialId is { } appCredential)
        {
            var row = await Store.GetAsync<AppCredentialRow>(appCredential);
            token["application_credential"] = new JsonObject { ["id"] = appCredential, ["name"] = row?.Name, ["restricted"] = row?.Unrestricted == 0 };
        }
        if (t.Trust is { } trust) token["OS-TRUST:trust"] = TrustTokenReference(trust);
        if (t.Payload.Scope != ScopeKind.Unscoped)
        {
            var roles = new JsonArray();
            foreach (var role in t.Roles) roles.Add(new JsonObject { ["id"] = role.Id, ["name"] = role.Name });
            token["roles"] = roles;
            if (withCatalog) token["catalog"] = await CatalogAsync(t);
        }
        return new JsonObject { ["token"] = token };
    }

    /// <summary>The service catalog as the token sees it: project-templated URLs filled in, or left out when unscoped to a project.</summary>
    private async Task<JsonArray> CatalogAsync(ValidatedToken t)
    {
        var services = await Store.ListAsync<ServiceRow>(("enabled", 1L));
        var endpoints = await Store.ListAsync<EndpointRow>(("enabled", 1L));
        var catalog = new JsonArray();
        foreach (var service in services)
        {
            var list = new JsonArray();
            foreach (var e in endpoints)
            {
                if (e.ServiceId != service.Id) continue;
                var url = e.Url;
                if (url.Contains("%(project_id)s") || url.Contains("%(tenant_id)s") || url.Contains("$(project_id)s") || url.Contains("$(tenant_id)s"))
                {
                    if (t.Project is null) continue;
                    url = url.Replace("%(project_id)s", t.Project.Id).Replace("%(tenant_id)s", t.Project.Id)
                        .Replace("$(project_id)s", t.Project.Id).Replace("$(tenant_id)s", t.Project.Id);
                }
                list.Add(new JsonObject { ["id"] = e.Id, ["interface"] = e.Interface, ["region_id"] = e.RegionId, ["url"] = url, ["region"] = e.RegionId });
            }
            catalog.Add(new JsonObject { ["endpoints"] = list, ["id"] = service.Id, ["type"] = service.Type, ["name"] = service.Name });
        }
        return catalog;
    }

    /// <summary>A new resource id: a UUID in hex, as Keystone's.</summary>
    private static string NewId() => Guid.NewGuid().ToString("N");

    /// <summary>The caller's address, for the login limiter.</summary>
    private static string AddressOf(HttpContext context) => context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
}
