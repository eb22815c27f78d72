using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using System.Security.Cryptography;
using System.Text;
using StorageCloud.Auth.Store;

namespace StorageCloud.Auth;

/// <summary>Who an EC2 access key stands for: its secret (to check the signature with), user, project and roles there.</summary>
public sealed record Ec2Identity(string Secret, UserRow User, ProjectRow Project, IReadOnlyList<RoleRef> Roles);

/// <summary>
/// Resolves EC2 access keys for the S3 API, with the same checks a token gets: an enabled user in an enabled
/// domain, an enabled project, and at least one role there. Answers are cached like validated tokens.
/// </summary>
public sealed class Ec2Credentials(IdentityStore store, TokenValidator tokens, AuthOptions options)
{
    /// <summary>Keystone's id for an EC2 credential: the SHA-256 of its access key, in hex.</summary>
    public static string CredentialId(string access) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(access)));

    private readonly ConcurrentDictionary<string, (Ec2Identity? Identity, long Generation, long At)> _cache = new(StringComparer.Ordinal);

    /// <summary>The identity behind the access key, or null when there is none (or it may no longer be used).</summary>
    public async Task<Ec2Identity?> ResolveAsync(string access)
    {
        if (access.Length is 0 or > 255) return null;
        var now = Environment.TickCount64;
        var generation = store.Generation;
        if (_cache.TryGetValue(access, out var hit) && hit.Generation == generation && now - hit.At < (long)options.ValidationCacheLifetime.TotalMilliseconds)
            return hit.Identity;
        var identity = await LoadAsync(access);
        if (_cache.Count > 10_000) _cache.Clear();
        _cache[access] = (identity, generation, now);
        return identity;
    }

    private async Task<Ec2Identity?> LoadAsync(string access)
    {
        var row = await store.GetAsync<CredentialRow>(CredentialId(access));
        if (row is null || row.Type != "ec2" || row.AccessKey != access || row.ProjectId is null) return null;
        if (JsonNode.Parse(row.Blob) is not JsonObject blob || blob["secret"] is not JsonValue s || !s.TryGetValue<string>(out var secret)) return null;
        var user = await store.GetAsync<UserRow>(row.UserId);
        if (user is null || user.Enabled == 0 || await store.GetAsync<DomainRow>(user.DomainId) is not { Enabled: 1 }) return null;
        var project = await store.GetAsync<ProjectRow>(row.ProjectId);
        if (project is null || project.Enabled == 0 || await store.GetAsync<DomainRow>(project.DomainId) is not { Enabled: 1 }) return null;
        var roles = await tokens.EffectiveRolesAsync(user.Id, "Project", project.Id);
        return roles.Count == 0 ? null : new Ec2Identity(secret, user, project, roles);
    }
}
