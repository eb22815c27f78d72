using System.Text.Json.Nodes;
using StorageCloud.Auth.Tokens;
using StorageCloud.Identity.Api;
using StorageCloud.Auth.Store;
using StorageCloud.Identity.Tokens;
using StorageCloud.Service.Api;

namespace StorageCloud.Identity.Auth;

/// <summary>
/// POST /v3/auth/tokens without the HTTP: checks the identity methods (password, token, application credential)
/// and the requested scope, and returns the payload of the token to issue. Every failure to prove who the caller is,
/// or that it may have the scope, is the same 401, as Keystone answers without insecure_debug.
/// </summary>
public sealed partial class Authenticator(IdentityStore store, TokenService tokens, IdentityOptions options)
{
    private PasswordCompliance? _compliance;

    private PasswordCompliance Compliance => _compliance ??= new(store, options, tokens);

    /// <summary>The token to issue for an auth request body ({"auth": {"identity", "scope"}}).</summary>
    public async Task<TokenPayload> AuthenticateAsync(JsonObject body)
    {
        var auth = JsonBody.Object(body, "auth", "request body");
        var identity = JsonBody.Object(auth, "identity", "auth");
        var methods = JsonBody.OptionalStrings(identity, "methods", "identity") ?? throw IdentityError.Invalid("Expecting to find methods in identity.");
        if (methods.Count == 0) throw IdentityError.Invalid("Expecting to find methods in identity.");

        UserRow? user = null;
        var used = AuthMethods.None;
        TokenPayload? fromToken = null;
        AppCredentialRow? appCredential = null;
        foreach (var method in methods)
        {
            var details = JsonBody.Object(identity, method, "identity");
            UserRow found;
            switch (method)
            {
                case "password":
                    found = await PasswordAsync(details);
                    used |= AuthMethods.Password;
                    break;
                case "token":
                    var id = JsonBody.String(details, "id", "token");
                    // Keystone answers an unknown, expired or revoked token here as a token it cannot find.
                    var validated = await tokens.ValidateAsync(id) ?? throw new IdentityError(404, "Could not find token.");
                    // Application-credential tokens cannot be traded for wider ones.
                    if (validated.Payload.ApplicationCredentialId is not null) throw IdentityError.Unauthorized();
                    if (validated.Payload.TrustId is not null)
                        throw new IdentityError(403, "Using trust-scoped token to create another token. Create a new trust-scoped token instead.");
                    fromToken = validated.Payload;
                    found = validated.User;
                    used |= AuthMethods.Token | validated.Payload.Methods;
                    break;
                case "application_credential":
                    (found, appCredential) = await ApplicationCredentialAsync(details);
                    used |= AuthMethods.ApplicationCredential;
                    break;
                default:
                    throw IdentityError.Unauthorized($"Attempted to authenticate with an unsupported method.");
            }
            if (user is not null && user.Id != found.Id) throw IdentityError.Unauthorized();
            user = found;
        }

        if (TrustScope(auth) is { } trustScope) return await TrustScopedAsync(trustScope, user!, used, fromToken, appCredential);
        var (scope, scopeId) = await ScopeAsync(auth, user!, appCredential);
        var now = tokens.Now;
        var expires = fromToken?.ExpiresAt ?? now + options.TokenExpiration;
        if (appCredential?.ExpiresAt is { } limit && DateTimeOffset.UnixEpoch.AddTicks(limit * 10) < expires) expires = DateTimeOffset.UnixEpoch.AddTicks(limit * 10);
        var audits = fromToken is null ? new[] { TokenCodec.NewAuditId() } : new[] { TokenCodec.NewAuditId(), fromToken.AuditIds[^1] };
        return new TokenPayload(user!.Id, used, scope, scopeId, now, expires, audits, appCredential?.Id);
    }

    private async Task<UserRow> PasswordAsync(JsonObject details)
    {
        var given = JsonBody.Object(details, "user", "password");
        var password = JsonBody.String(given, "password", "user");
        var user = await FindUserAsync(given, "password");
        if (await Compliance.IsLockedOutAsync(user)) throw IdentityError.Unauthorized();
        if (!PasswordHasher.Verify(password, user.PasswordHash))
        {
            await Compliance.FailedAsync(user);
            throw IdentityError.Unauthorized();
        }
        await Compliance.SucceededAsync(user);
        return user;
    }

    private async Task<UserRow> FindUserAsync(JsonObject given, string where)
    {
        UserRow? user;
        if (JsonBody.OptionalString(given, "id", where) is { } id) user = await store.GetAsync<UserRow>(id);
        else
        {
            var name = JsonBody.OptionalString(given, "name", where) ?? throw IdentityError.Invalid("Expecting to find id or name in user.");
            var domain = await FindDomainAsync(JsonBody.Object(given, "domain", "user"));
            user = domain is null ? null : (await store.ListAsync<UserRow>(("name", name), ("domain_id", domain.Id))).FirstOrDefault();
        }
        if (user is null || user.Enabled == 0) throw IdentityError.Unauthorized();
        var userDomain = await store.GetAsync<DomainRow>(user.DomainId);
        if (userDomain is null || userDomain.Enabled == 0) throw IdentityError.Unauthorized();
        return user;
    }

    private async Task<DomainRow?> FindDomainAsync(JsonObject given)
    {
        if (JsonBody.OptionalString(given, "id", "domain") is { } id) return await store.GetAsync<DomainRow>(id);
        var name = JsonBody.OptionalString(given, "name", "domain") ?? throw IdentityError.Invalid("Expecting to find id or name in domain.");
        return (await store.ListAsync<DomainRow>(("name", name))).FirstOrDefault();
    }

    private async Task<(UserRow, AppCredentialRow)> ApplicationCredentialAsync(JsonObject details)
    {
        var secret = JsonBody.String(details, "secret", "application_credential");
        AppCredentialRow? credential;
        if (JsonBody.OptionalString(details, "id", "application_credential") is { } id) credential = await store.GetAsync<AppCredentialRow>(id);
        else
        {
            var name = JsonBody.String(details, "name", "application_credential");
            var owner = await FindUserAsync(JsonBody.Object(details, "user", "application_credential"), "application_credential");
            credential = (await store.ListAsync<AppCredentialRow>(("name", name), ("user_id", owner.Id))).FirstOrDefault();
        }
        if (credential is null || !PasswordHasher.Verify(secret, credential.SecretHash)) throw IdentityError.Unauthorized();
        if (credential.ExpiresAt is { } at && at <= TokenCodec.Micros(tokens.Now)) throw IdentityError.Unauthorized();
        var user = await store.GetAsync<UserRow>(credential.UserId);
        if (user is null || user.Enabled == 0) throw IdentityError.Unauthorized();
        return (user, credential);
    }

    private async Task<(ScopeKind, string?)> ScopeAsync(JsonObject auth, UserRow user, AppCredentialRow? appCredential)
    {
        var node = auth["scope"];
        if (appCredential is not null)
        {
            if (node is not null) throw IdentityError.Unauthorized("Application credentials cannot request a scope.");
            return (ScopeKind.Project, appCredential.ProjectId);
        }
        if (node is JsonValue v && v.TryGetValue<string>(out var word) && word == "unscoped") return (ScopeKind.Unscoped, null);
        if (node is null)
        {
            // Keystone scopes to the default project when the user may use it, and leaves the token unscoped otherwise.
            if (user.DefaultProjectId is { } defaultProject && (await tokens.EffectiveRolesAsync(user.Id, "Project", defaultProject)).Count > 0
                && await store.GetAsync<ProjectRow>(defaultProject) is { Enabled: 1 })
                return (ScopeKind.Project, defaultProject);
            return (ScopeKind.Unscoped, null);
        }
        if (node is not JsonObject scope || scope.Count != 1) throw IdentityError.Invalid("Expecting to find one of project, domain or system in scope.");
        if (JsonBody.OptionalObject(scope, "project", "scope") is { } given)
        {
            ProjectRow? project;
            if (JsonBody.OptionalString(given, "id", "project") is { } id) project = await store.GetAsync<ProjectRow>(id);
            else
            {
                var name = JsonBody.OptionalString(given, "name", "project") ?? throw IdentityError.Invalid("Expecting to find id or name in project.");
                var domain = await FindDomainAsync(JsonBody.Object(given, "domain", "project"));
                project = domain is null ? null : (await store.ListAsync<ProjectRow>(("name", name), ("domain_id", domain.Id))).FirstOrDefault();
            }
            if (project is null || project.Enabled == 0 || (await tokens.EffectiveRolesAsync(user.Id, "Project", project.Id)).Count == 0)
                throw IdentityError.Unauthorized();
            return (ScopeKind.Project, project.Id);
        }
        if (JsonBody.OptionalObject(scope, "domain", "scope") is { } domainGiven)
        {
            var domain = await FindDomainAsync(domainGiven);
            if (domain is null || domain.Enabled == 0 || (await tokens.EffectiveRolesAsync(user.Id, "Domain", domain.Id)).Count == 0)
                throw IdentityError.Unauthorized();
            return (ScopeKind.Domain, domain.Id);
        }
        if (JsonBody.OptionalObject(scope, "system", "scope") is { } system)
        {
            if (JsonBody.OptionalBool(system, "all", "system") != true) throw IdentityError.Invalid("Expecting to find all in system.");
            if ((await tokens.EffectiveRolesAsync(user.Id, "System", "all")).Count == 0) throw IdentityError.Unauthorized();
            return (ScopeKind.System, "all");
        }
        throw IdentityError.Invalid("Expecting to find one of project, domain or system in scope.");
    }
}
