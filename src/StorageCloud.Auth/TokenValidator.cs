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
public sealed partial class TokenValidator(IdentityStore store, TokenCodec codec, AuthOptions options, TimeProvider? clock = null)
{
    private const int MaxCached = 20_000;
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;
    private readonly ConcurrentDictionary<string, (ValidatedToken Token, long Generation, long At)> _cache = new(StringComparer.Ordinal);
    private (List<RevocationRow> Rows, long Generation, long At) _revocations = ([], -1, 0);
    private (Dictionary<string, List<RoleInference>> ByPrior, long Generation, long At) _inferences = (new(StringComparer.Ordinal), -1, 0);

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
        // Revoking the trustor's tokens (a password change, disabling) ends what the trustor delegated as well.
        if (validated.Trust is { } trust && await IsRevokedAsync(payload, trust.TrustorUserId)) return null;
        if (_cache.Count >= MaxCached) _cache.Clear();
        _cache[token] = (validated, generation, now);
        return validated;
    }

    /// <summary>Forgets every cached answer (after a revocation this process made).</summary>
    public void Forget() => _cache.Clear();

    private async Task<bool> IsRevokedAsync(TokenPayload payload, string? trustorId = null)
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
            if (e.UserId is not null && (e.UserId == payload.UserId || e.UserId == trustorId)) return true;
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
        if (payload.TrustId is not null) return await ResolveTrustAsync(payload, user, userDomain);
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
            if (credential is null || credential.UserId != user.Id || (credential.ExpiresAt is { } at && at <= TokenCodec.Micros(Now))) return null;
            var allowed = System.Text.Json.JsonSerializer.Deserialize<string[]>(credential.Roles) ?? [];
            roles = roles.Where(r => allowed.Contains(r.Id)).ToList();
        }
        // A scoped token whose user no longer holds any role there is no longer valid (Keystone: "no roles").
        if (payload.Scope != ScopeKind.Unscoped && roles.Count == 0) return null;
        return new ValidatedToken(payload, user, userDomain, project, projectDomain, domain, roles);
    }

    /// <summary>
    /// The roles a user holds on a target, directly or through groups, with the implied roles added. On a project,
    /// OS-INHERIT grants on its domain and on its ancestors count too. Domain-specific roles never appear themselves,
    /// only the global roles they imply (as Keystone's tokens and effective assignments).
    /// </summary>
    public async Task<IReadOnlyList<RoleRef>> EffectiveRolesAsync(string userId, string targetKind, string targetId)
    {
        var granted = targetKind == "Project"
            ? await store.QueryAsync<RoleRow>(ProjectGrantsSql, new { targetId, userId })
            : await store.QueryAsync<RoleRow>(
                """
                SELECT r.id, r.name, r.description, r.domain_id FROM assignments a JOIN roles r ON r.id = a.role_id
                WHERE a.target_id = @targetId AND a.inherited = 0 AND ((a.type = @userType AND a.actor_id = @userId)
                   OR (a.type = @groupType AND a.actor_id IN (SELECT group_id FROM group_members WHERE user_id = @userId)))
                """,
                new { targetId, userId, userType = "User" + targetKind, groupType = "Group" + targetKind });
        if (granted.Count == 0) return [];
        return await WithImpliedRolesAsync(granted.Select(r => (r.Id, r.Name, r.DomainId)));
    }

    /// <summary>The roles with every role they imply, transitively, less the domain-specific ones, ordered by name.</summary>
    public async Task<IReadOnlyList<RoleRef>> WithImpliedRolesAsync(IEnumerable<(string Id, string Name, string? DomainId)> roles)
    {
        var rules = await InferencesAsync();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Queue<(string Id, string Name, string? DomainId)>();
        foreach (var role in roles)
            if (seen.Add(role.Id)) pending.Enqueue(role);
        var result = new List<RoleRef>();
        while (pending.TryDequeue(out var role))
        {
            if (role.DomainId is null) result.Add(new RoleRef(role.Id, role.Name));
            if (!rules.TryGetValue(role.Id, out var implied)) continue;
            foreach (var rule in implied)
                if (seen.Add(rule.ImpliedRoleId)) pending.Enqueue((rule.ImpliedRoleId, rule.ImpliedName, rule.ImpliedDomainId));
        }
        result.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        return result;
    }

    /// <summary>The inference rules by prior role, read again when this process writes or the cache lifetime passes.</summary>
    public async Task<IReadOnlyDictionary<string, List<RoleInference>>> InferencesAsync()
    {
        var cached = _inferences;
        var now = Environment.TickCount64;
        if (cached.Generation == store.Generation && now - cached.At < (long)options.ValidationCacheLifetime.TotalMilliseconds) return cached.ByPrior;
        var generation = store.Generation;
        var rows = await store.QueryAsync<RoleInference>(
            """
            SELECT i.prior_role_id, i.implied_role_id, r.name AS implied_name, r.domain_id AS implied_domain_id
            FROM implied_roles i JOIN roles r ON r.id = i.implied_role_id
            """);
        var byPrior = new Dictionary<string, List<RoleInference>>(StringComparer.Ordinal);
        foreach (var row in rows)
        {
            if (!byPrior.TryGetValue(row.PriorRoleId, out var list)) byPrior[row.PriorRoleId] = list = [];
            list.Add(row);
        }
        _inferences = (byPrior, generation, now);
        return byPrior;
    }

    // One statement, so that validating a project token costs no more queries than before inheritance: the user's
    // and their groups' direct grants on the project, inherited grants on its ancestors, and inherited grants on
    // its domain. The depth bound only guards against a corrupt parent cycle.
    private const string ProjectGrantsSql =
        """
        WITH RECURSIVE ancestors (id, parent_id, depth) AS (
            SELECT id, parent_id, 0 FROM projects WHERE id = @targetId
            UNION ALL
            SELECT p.id, p.parent_id, a.depth + 1 FROM projects p JOIN ancestors a ON p.id = a.parent_id WHERE a.depth < 64)
        SELECT r.id, r.name, r.description, r.domain_id FROM assignments a JOIN roles r ON r.id = a.role_id
        WHERE ((a.type = 'UserProject' AND a.actor_id = @userId)
               OR (a.type = 'GroupProject' AND a.actor_id IN (SELECT group_id FROM group_members WHERE user_id = @userId)))
          AND ((a.inherited = 0 AND a.target_id = @targetId)
               OR (a.inherited = 1 AND a.target_id IN (SELECT id FROM ancestors WHERE depth > 0)))
        UNION
        SELECT r.id, r.name, r.description, r.domain_id FROM assignments a JOIN roles r ON r.id = a.role_id
        WHERE a.inherited = 1 AND a.target_id = (SELECT domain_id FROM projects WHERE id = @targetId)
          AND ((a.type = 'UserDomain' AND a.actor_id = @userId)
               OR (a.type = 'GroupDomain' AND a.actor_id IN (SELECT group_id FROM group_members WHERE user_id = @userId)))
        """;
}
