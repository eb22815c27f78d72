using System.Text.Json.Nodes;
using StorageCloud.Auth.Store;
using StorageCloud.Auth.Tokens;
using StorageCloud.Service.Api;

namespace StorageCloud.Identity.Auth;

// Trust-scoped tokens: {"scope": {"OS-TRUST:trust": {"id": ...}}}, asked for by the trustee.
public sealed partial class Authenticator
{
    private static JsonObject? TrustScope(JsonObject auth) =>
        auth["scope"] is JsonObject scope && scope.ContainsKey("OS-TRUST:trust") ? scope : null;

    /// <summary>
    /// The payload of a token scoped by a trust. The token names the trustee and the trust; what it may do (the
    /// trustor's roles, the user it shows) is decided at each validation, so a deleted trust ends it at once.
    /// </summary>
    private async Task<TokenPayload> TrustScopedAsync(JsonObject scope, UserRow trustee, AuthMethods used, TokenPayload? fromToken, AppCredentialRow? appCredential)
    {
        if (appCredential is not null) throw IdentityError.Unauthorized("Application credentials cannot request a scope.");
        if (scope.Count != 1) throw IdentityError.Invalid("Scoping to both a trust and a project, domain or system is not allowed.");
        var given = JsonBody.Object(scope, "OS-TRUST:trust", "scope");
        var trustId = JsonBody.OptionalString(given, "id", "OS-TRUST:trust") ?? throw IdentityError.Invalid("Expecting to find trust_id in trust.");
        var now = tokens.Now;
        var trust = await store.GetAsync<TrustRow>(trustId);
        if (trust is null || trust.HasExpired(now) || trust.RemainingUses is <= 0) throw IdentityError.NotFound("trust", trustId);
        if (trust.TrusteeUserId != trustee.Id) throw new IdentityError(403, "User is not a trustee.");
        // One statement both checks and spends a use, so two logins racing for the last use cannot both get it.
        if (trust.RemainingUses is not null
            && await store.ExecuteAsync("UPDATE trusts SET remaining_uses = remaining_uses - 1 WHERE id = @id AND remaining_uses > 0", new { id = trust.Id }) == 0)
            throw IdentityError.NotFound("trust", trustId);

        var expires = fromToken?.ExpiresAt ?? now + options.TokenExpiration;
        if (trust.ExpiresAt is { } limit)
        {
            var trustEnds = DateTimeOffset.FromUnixTimeMilliseconds(limit / 1000);
            if (trustEnds < expires) expires = trustEnds;
        }
        var audits = fromToken is null ? new[] { TokenCodec.NewAuditId() } : new[] { TokenCodec.NewAuditId(), fromToken.AuditIds[^1] };
        var kind = trust.ProjectId is null ? ScopeKind.Unscoped : ScopeKind.Project;
        return new TokenPayload(trustee.Id, used, kind, trust.ProjectId, now, expires, audits, null, trust.Id);
    }
}
