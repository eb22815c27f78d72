using System.Collections.Concurrent;
using StorageCloud.Auth.Store;
using StorageCloud.Auth.Tokens;

namespace StorageCloud.Auth;

/// <summary>
/// Validates tokens locally: decrypt with the shared keys, check expiry and revocation events, then look up the user,
/// the scope and the roles there. Any node that shares the key repository and the identity database validates without
/// a round trip to the identity service. Answers are cached for a few seconds, and dropped at once when this process
/// writes anything to the identity database.
/// </summary>
public sealed class TokenValidator(IdentityStore store, TokenCodec codec, AuthOptions options, TimeProvider? clock = null)
{
    private const int MaxCached = 20_000;
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;
    private readonly ConcurrentDictionary<string, (ValidatedToken Token, long Generation, long At)> _cache = new(StringComparer.Ordinal);
    private (List<RevocationRow> Rows, long Generation, long At) _revocations = ([], -1, 0);

    /// <summary>Implied roles, as Keystone's bootstrap defines them: admin implies member, member implies reader.</summary>
    public static readonly (string Prior, string Implied)[] ImpliedRoles = [("admin", "member"), ("member", "reader")];

    /// <summary>The current time (tests move it).</summary>
    public DateTimeOffset Now => _clock.GetUtcNow();

    /// <summary>The identity database's rows.</summary>
    public IdentityStore Store => store;

    /// <summary>The token's validated meaning, or null when it is invalid, expired, revoked or no longer backed by an enabled user and scope.</summary>
    public async Task<ValidatedToken?> ValidateAsync(string token)
    {
        if (token.Length == 0 || token.Length > TokenCodec.MaxTokenLength) return null;
        var generation = store.Generation;
        var now = Environment.TickCount64;
        if (_cache.TryGetValue(token, out var hit) && hit.Generation == generation
            && now - hit.At < (long)options.ValidationCacheLifetime.TotalMilliseconds && hit.Token.Payload.ExpiresAt > Now)
            return hit.Token;
        var payload = codec.Decode(token);
        if (payload is null || payload.ExpiresAt <= Now) return null;
        if (await IsRevokedAsync(payload)) return null;
        var validated = await ResolveAsync(payload);
        if (validated is null) return null;
        if (_cache.Count >= MaxCached) _cache.Clear();
        _cache[token] = (validated, generation, now);
        return validated;
    }

    /// <summary>Forgets every cached answer (after a revocation this process made).</summary>
    public void Forget() => _cache.Clear();

    private async Task<bool> IsRevokedAsync(TokenPayload payload)
    {
        var events = _revocations;
        var now = Environment.TickCount64;
        if (events.Generation != store.Generation || now - events.At >= (long)options.ValidationCacheLifetime.TotalMilliseconds)
        {
            var generation = store.Generation;
            events = (await store.ListAsync<RevocationRow>(), generation, now);
            _revocations = events;
        }
        var issued = TokenCodec.Micros(payload.IssuedAt);
        foreach (var e in events.Rows)
        {
            if (issued >= e.IssuedBefore) continue;
            if (e.AuditId is not null && payload.AuditIds.Contains(e.AuditId)) return true;
            if (e.UserId is not null && e.UserId == payload.UserId) return true;
            if (e.ProjectId is not null && payload.Scope == ScopeKind.Project && e.ProjectId == payload.ScopeId) return true;
        }
        return false;
    }

    private async Task<ValidatedToken?> ResolveAsync(TokenPayload payload)
    {
        var user = await store.GetAsync<UserRow>(payload.UserId);
        if (user is null || user.Enabled == 0) return null;
        var userDomain = await store.GetAsync<DomainRow>(user.DomainId);
        if (userDomain is null || userDomain.Enabled == 0) return null;
        ProjectRow? project = null;
        DomainRow? projectDomain = null, domain = null;
        IReadOnlyList<RoleRef> roles = [];
        switch (payload.Scope)
        {
            case ScopeKind.Project:
                project = await store.GetAsync<ProjectRow>(payload.ScopeId!);
                if (project is null || project.Enabled == 0) return null;
                projectDomain = await store.GetAsync<DomainRow>(project.DomainId);
                if (projectDomain is null || projectDomain.Enabled == 0) return null;
                roles = await EffectiveRolesAsync(user.Id, "Project", project.Id);
                break;
            case ScopeKind.Domain:
                domain = await store.GetAsync<DomainRow>(payload.ScopeId!);
                if (domain is null || domain.Enabled == 0) return null;
                roles = await EffectiveRolesAsync(user.Id, "Domain", domain.Id);
                break;
            case ScopeKind.System:
                roles = await EffectiveRolesAsync(user.Id, "System", "all");
                break;
        }
        if (payload.ApplicationCredentialId is { } appCredentialId)
        {
            var credential = await store.GetAsync<AppCredentialRow>(appCredentialId);
            if (credential is null || credential.UserId != user.Id || (credential.ExpiresAt is { } at && at <= Now.ToUnixTimeSeconds())) return null;
            var allowed = System.Text.Json.JsonSerializer.Deserialize<string[]>(credential.Roles) ?? [];
            roles = roles.Where(r => allowed.Contains(r.Id)).ToList();
        }
        // A scoped token whose user no longer holds any role there is no longer valid (Keystone: "no roles").
        if (payload.Scope != ScopeKind.Unscoped && roles.Count == 0) return null;
        return new ValidatedToken(payload, user, userDomain, project, projectDomain, domain, roles);
    }

    /// <summary>The roles a user holds on a target, directly or through groups, with the implied roles added.</summary>
    public async Task<IReadOnlyList<RoleRef>> EffectiveRolesAsync(string userId, string targetKind, string targetId)
    {
        var direct = await store.QueryAsync<RoleRow>(
            """
            SELECT DISTINCT r.id, r.name, r.description FROM assignments a JOIN roles r ON r.id = a.role_id
            WHERE a.target_id = @targetId AND ((a.type = @userType AND a.actor_id = @userId)
               OR (a.type = @groupType AND a.actor_id IN (SELECT group_id FROM group_members WHERE user_id = @userId)))
            ORDER BY r.name
            """,
            new { targetId, userId, userType = "User" + targetKind, groupType = "Group" + targetKind });
        var roles = new List<RoleRef>(direct.Count);
        foreach (var r in direct) roles.Add(new RoleRef(r.Id, r.Name));
        if (roles.Count == 0) return roles;
        var added = true;
        while (added)
        {
            added = false;
            foreach (var (prior, implied) in ImpliedRoles)
            {
                if (!roles.Any(r => r.Name == prior) || roles.Any(r => r.Name == implied)) continue;
                var row = (await store.ListAsync<RoleRow>(("name", implied))).FirstOrDefault();
                if (row is null) continue;
                roles.Add(new RoleRef(row.Id, row.Name));
                added = true;
            }
        }
        return roles;
    }
}
