using StorageCloud.Auth;
using StorageCloud.Auth.Store;
using StorageCloud.Auth.Tokens;

namespace StorageCloud.Identity.Tokens;

/// <summary>
/// Issues and revokes tokens; validation is the auth library's (<see cref="TokenValidator"/>), which any node can
/// do. A revocation drops this process's cached validations at once.
/// </summary>
public sealed class TokenService(IdentityStore store, TokenCodec codec, TokenValidator validator, IdentityOptions options)
{
    /// <summary>The current time (tests move it).</summary>
    public DateTimeOffset Now => validator.Now;

    /// <summary>Seals a new token for the payload.</summary>
    public string Issue(TokenPayload payload) => codec.Encode(payload);

    /// <summary>The token's validated meaning, or null.</summary>
    public Task<ValidatedToken?> ValidateAsync(string token) => validator.ValidateAsync(token);

    /// <summary>The roles a user holds on a target, directly or through groups, with the implied roles added.</summary>
    public Task<IReadOnlyList<RoleRef>> EffectiveRolesAsync(string userId, string targetKind, string targetId) => validator.EffectiveRolesAsync(userId, targetKind, targetId);

    /// <summary>
    /// Revokes one token by its own audit id. Every token rescoped from an original token carries the original's id
    /// as its audit chain, so revoking the original ends them all; revoking a rescoped token leaves the token it came
    /// from valid, to be rescoped again, as in Keystone.
    /// </summary>
    public async Task RevokeAsync(TokenPayload payload)
    {
        await store.InsertAsync(new RevocationRow
        {
            AuditId = payload.AuditIds[0], IssuedBefore = TokenCodec.Micros(Now) + 1, ExpiresAt = payload.ExpiresAt.ToUnixTimeSeconds(),
        });
        validator.Forget();
    }

    /// <summary>Revokes every token of a user issued until now (password change, disabling).</summary>
    public Task RevokeUserAsync(string userId) => RevokeAsync(userId, null);

    /// <summary>Revokes every token scoped to a project issued until now.</summary>
    public Task RevokeProjectAsync(string projectId) => RevokeAsync(null, projectId);

    private async Task RevokeAsync(string? userId, string? projectId)
    {
        var expires = (Now + options.TokenExpiration).ToUnixTimeSeconds();
        await store.InsertAsync(new RevocationRow { UserId = userId, ProjectId = projectId, IssuedBefore = TokenCodec.Micros(Now) + 1, ExpiresAt = expires });
        await store.ExecuteAsync("DELETE FROM revocations WHERE expires_at < @now", new { now = Now.ToUnixTimeSeconds() - 60 });
        validator.Forget();
    }
}
