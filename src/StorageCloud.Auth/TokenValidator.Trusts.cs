using StorageCloud.Auth.Store;
using StorageCloud.Auth.Tokens;

namespace StorageCloud.Auth;

// Trust-scoped tokens: only they pay for reading the trust, which is what makes deleting a trust end its tokens.
public sealed partial class TokenValidator
{
    private async Task<ValidatedToken?> ResolveTrustAsync(TokenPayload payload, UserRow trustee, DomainRow trusteeDomain)
    {
        if (payload.ApplicationCredentialId is not null) return null;
        var trust = await Store.GetAsync<TrustRow>(payload.TrustId!);
        if (trust is null || trust.TrusteeUserId != trustee.Id || trust.HasExpired(Now)) return null;
        var trustor = await Store.GetAsync<UserRow>(trust.TrustorUserId);
        if (trustor is null || trustor.Enabled == 0) return null;
        var trustorDomain = await Store.GetAsync<DomainRow>(trustor.DomainId);
        if (trustorDomain is null || trustorDomain.Enabled == 0) return null;

        ProjectRow? project = null;
        DomainRow? projectDomain = null;
        IReadOnlyList<RoleRef> roles = [];
        if (trust.ProjectId is null)
        {
            if (payload.Scope != ScopeKind.Unscoped) return null;
        }
        else
        {
            if (payload.Scope != ScopeKind.Project || payload.ScopeId != trust.ProjectId) return null;
            project = await Store.GetAsync<ProjectRow>(trust.ProjectId);
            if (project is null || project.Enabled == 0) return null;
            projectDomain = await Store.GetAsync<DomainRow>(project.DomainId);
            if (projectDomain is null || projectDomain.Enabled == 0) return null;
            var delegated = await DelegatedRolesAsync(trust);
            if (delegated is null || delegated.Count == 0) return null;
            roles = delegated;
        }
        var impersonating = trust.Impersonation != 0;
        return new ValidatedToken(payload, impersonating ? trustor : trustee, impersonating ? trustorDomain : trusteeDomain,
            project, projectDomain, null, roles, trust);
    }

    /// <summary>
    /// The trust's roles with the roles they imply, or null once the trustor no longer holds all of them on the
    /// trust's project: a trust never hands on more than its trustor has now (Keystone: "Trustee has no delegated roles").
    /// </summary>
    public async Task<IReadOnlyList<RoleRef>?> DelegatedRolesAsync(TrustRow trust)
    {
        if (trust.ProjectId is null) return [];
        var ids = trust.RoleIds();
        var rows = ids.Count == 0 ? new List<RoleRow>() : await Store.QueryAsync<RoleRow>($"SELECT * FROM roles WHERE {Store.Database.InList("id", "ids")}", new { ids = ids.ToArray() });
        var delegated = await WithImpliedRolesAsync(rows.Select(r => (r.Id, r.Name, r.DomainId)));
        var held = (await EffectiveRolesAsync(trust.TrustorUserId, "Project", trust.ProjectId)).Select(r => r.Id).ToHashSet(StringComparer.Ordinal);
        foreach (var role in delegated)
            if (!held.Contains(role.Id)) return null;
        return delegated;
    }
}
