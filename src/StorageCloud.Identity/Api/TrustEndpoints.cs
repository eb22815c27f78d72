using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using StorageCloud.Auth;
using StorageCloud.Auth.Store;
using StorageCloud.Auth.Tokens;
using StorageCloud.Service.Api;

namespace StorageCloud.Identity.Api;

// OS-TRUST: /v3/OS-TRUST/trusts. A trustor delegates some of its roles on one project to a trustee, who then asks
// for tokens scoped by the trust (see Authenticator.Trusts). Relations are checked against the user who
// authenticated, so a trustee impersonating its trustor still cannot manage the trustor's trusts.
public sealed partial class IdentityApi
{
    // ISO 8601 as Keystone's clients send it: date, time, optional fraction and offset.
    private static readonly Regex IsoTime = new(@"^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d{1,9})?)?([Zz]|[+-]\d\d:\d\d)?$", RegexOptions.CultureInvariant);

    private void MapTrusts()
    {
        Map("POST", "/v3/OS-TRUST/trusts", CreateTrustAsync);
        Map("GET", "/v3/OS-TRUST/trusts", ListTrustsAsync);
        Map("GET", "/v3/OS-TRUST/trusts/{id}", async r =>
        {
            var (caller, trust) = await UsableTrustAsync(r);
            RequireTrustParty(caller, "get_trust", trust.TrustorUserId, trust.TrusteeUserId);
            await WriteAsync(r.Context, 200, new JsonObject { ["trust"] = TrustView(trust, r.BaseUrl, await TrustRolesAsync(trust)) });
        });
        Map("DELETE", "/v3/OS-TRUST/trusts/{id}", async r =>
        {
            var caller = await r.CallerAsync();
            RefuseDelegatedCaller(caller, "delete_trust");
            var trust = await Store.GetAsync<TrustRow>(r.Args[0]) ?? throw IdentityError.NotFound("trust", r.Args[0]);
            RequireTrustParty(caller, "delete_trust", trust.TrustorUserId);
            // Validation reads the trust, so its tokens stop working as soon as the row is gone.
            await Store.DeleteAsync<TrustRow>(trust.Id);
            await NoContent(r.Context);
        });
        Map("GET", "/v3/OS-TRUST/trusts/{id}/roles", async r =>
        {
            var (caller, trust) = await UsableTrustAsync(r);
            RequireTrustParty(caller, "list_roles_for_trust", trust.TrustorUserId, trust.TrusteeUserId);
            var roles = await TrustRolesAsync(trust);
            await WriteAsync(r.Context, 200, Views.List("roles", $"{r.BaseUrl}/OS-TRUST/trusts/{trust.Id}/roles", roles.Select(x => Views.Role(x, r.BaseUrl))));
        });
        Map("GET", "/v3/OS-TRUST/trusts/{id}/roles/{role}", async r =>
        {
            var (caller, trust) = await UsableTrustAsync(r);
            RequireTrustParty(caller, "get_role_for_trust", trust.TrustorUserId, trust.TrusteeUserId);
            var role = (await TrustRolesAsync(trust)).FirstOrDefault(x => x.Id == r.Args[1]) ?? throw IdentityError.NotFound("role", r.Args[1]);
            await WriteAsync(r.Context, 200, new JsonObject { ["role"] = Views.Role(role, r.BaseUrl) });
        });
    }

    private async Task CreateTrustAsync(IdentityRequest r)
    {
        var caller = await r.CallerAsync();
        RefuseDelegatedCaller(caller, "create_trust");
        var given = JsonBody.Object(await JsonBody.ReadAsync(r.Context), "trust", "request body");
        var trustorId = JsonBody.String(given, "trustor_user_id", "trust");
        var trusteeId = JsonBody.String(given, "trustee_user_id", "trust");
        var impersonation = JsonBody.OptionalBool(given, "impersonation", "trust") ?? throw IdentityError.Invalid("Expecting to find impersonation in trust.");
        var projectId = JsonBody.OptionalString(given, "project_id", "trust");
        var expiresAt = TrustExpiry(JsonBody.OptionalString(given, "expires_at", "trust"));
        var remainingUses = given["remaining_uses"] switch
        {
            null => (long?)null,
            JsonValue v when v.TryGetValue<long>(out var uses) && uses >= 1 => uses,
            _ => throw IdentityError.Invalid("remaining_uses must be a positive integer or null."),
        };
        // Keystone's allow_redelegation is off by default: a trust never lets its trustee delegate further.
        if (JsonBody.OptionalBool(given, "allow_redelegation", "trust") == true) throw new IdentityError(403, "Redelegation is not allowed.");

        if (caller.AuthenticatedUserId != trustorId) throw IdentityError.Forbidden("identity:create_trust");
        var requested = await RequestedTrustRolesAsync(given);
        if (projectId is not null && requested.Count == 0) throw new IdentityError(403, "At least one role should be specified.");
        if (await Store.GetAsync<UserRow>(trusteeId) is null) throw IdentityError.NotFound("user", trusteeId);
        if (projectId is not null && await Store.GetAsync<ProjectRow>(projectId) is null) throw IdentityError.NotFound("project", projectId);
        // The trustor can delegate only roles it holds on the project now.
        var held = projectId is null ? new HashSet<string>() : (await Tokens.EffectiveRolesAsync(trustorId, "Project", projectId)).Select(x => x.Id).ToHashSet(StringComparer.Ordinal);
        foreach (var role in requested)
            if (!held.Contains(role.Id)) throw IdentityError.NotFound("role", role.Id);

        var row = new TrustRow
        {
            Id = NewId(), TrustorUserId = trustorId, TrusteeUserId = trusteeId, ProjectId = projectId, Impersonation = impersonation ? 1 : 0,
            ExpiresAt = expiresAt, RemainingUses = remainingUses, Roles = JsonSerializer.Serialize(requested.Select(x => x.Id).ToArray()),
            CreatedAt = TokenCodec.Micros(Tokens.Now),
        };
        await Store.InsertAsync(row);
        await WriteAsync(r.Context, 201, new JsonObject { ["trust"] = TrustView(row, r.BaseUrl, requested) });
    }

    private async Task ListTrustsAsync(IdentityRequest r)
    {
        var caller = await r.CallerAsync();
        RefuseDelegatedCaller(caller, "list_trusts", allowTrustTokens: true);
        List<TrustRow> rows;
        if (r.Query("trustor_user_id") is { } trustor)
        {
            RequireTrustParty(caller, "list_trusts_for_trustor", trustor);
            rows = await Store.ListAsync<TrustRow>(("trustor_user_id", trustor));
        }
        else if (r.Query("trustee_user_id") is { } trustee)
        {
            RequireTrustParty(caller, "list_trusts_for_trustee", trustee);
            rows = await Store.ListAsync<TrustRow>(("trustee_user_id", trustee));
        }
        else
        {
            await r.EnforceAsync("list_trusts");
            rows = await Store.ListAsync<TrustRow>();
        }
        await WriteAsync(r.Context, 200, Views.List("trusts", $"{r.BaseUrl}/OS-TRUST/trusts", rows.Select(t => TrustView(t, r.BaseUrl, null))));
    }

    /// <summary>The trust named by the route, as long as it can still be used (not expired, uses left); 404 otherwise, as Keystone.</summary>
    private async Task<(ValidatedToken Caller, TrustRow Trust)> UsableTrustAsync(IdentityRequest r)
    {
        var caller = await r.CallerAsync();
        RefuseDelegatedCaller(caller, "get_trust", allowTrustTokens: true);
        var trust = await Store.GetAsync<TrustRow>(r.Args[0]);
        if (trust is null || trust.HasExpired(Tokens.Now) || trust.RemainingUses is <= 0) throw IdentityError.NotFound("trust", r.Args[0]);
        return (caller, trust);
    }

    /// <summary>
    /// Application-credential tokens never manage trusts (Keystone refuses them outright), and trust-scoped tokens
    /// may read trusts but not create or delete them: that would be redelegation, which is off.
    /// </summary>
    private static void RefuseDelegatedCaller(ValidatedToken caller, string action, bool allowTrustTokens = false)
    {
        if (caller.Payload.ApplicationCredentialId is not null || (!allowTrustTokens && caller.Trust is not null))
            throw IdentityError.Forbidden($"identity:{action}");
    }

    /// <summary>Admins, and the users the trust names (by who authenticated, not who is impersonated).</summary>
    private static void RequireTrustParty(ValidatedToken caller, string action, params string[] parties)
    {
        if (caller.HasRole("admin") || parties.Contains(caller.AuthenticatedUserId)) return;
        throw IdentityError.Forbidden($"identity:{action}");
    }

    /// <summary>The roles a trust request names, by id or by (global) name; 404 for one that does not exist.</summary>
    private async Task<List<RoleRow>> RequestedTrustRolesAsync(JsonObject given)
    {
        var roles = new List<RoleRow>();
        switch (given["roles"])
        {
            case null:
                return roles;
            case JsonArray array:
                foreach (var item in array)
                {
                    if (item is not JsonObject reference) throw IdentityError.Invalid("Invalid input for field 'roles' in trust: expected objects.");
                    RoleRow role;
                    if (JsonBody.OptionalString(reference, "id", "role") is { } id) role = await Store.GetAsync<RoleRow>(id) ?? throw IdentityError.NotFound("role", id);
                    else
                    {
                        var name = JsonBody.OptionalString(reference, "name", "role") ?? throw IdentityError.Invalid("Expecting to find id or name in role.");
                        role = (await Store.ListAsync<RoleRow>(("name", name))).FirstOrDefault(x => x.DomainId is null) ?? throw IdentityError.NotFound("role", name);
                    }
                    if (!roles.Any(x => x.Id == role.Id)) roles.Add(role);
                }
                return roles;
            default:
                throw IdentityError.Invalid("Invalid input for field 'roles' in trust: expected a list.");
        }
    }

    /// <summary>The trust's roles that still exist (a deleted role drops out, as in Keystone).</summary>
    private async Task<List<RoleRow>> TrustRolesAsync(TrustRow trust)
    {
        var ids = trust.RoleIds();
        return ids.Count == 0 ? new List<RoleRow>() : await Store.QueryAsync<RoleRow>($"SELECT * FROM roles WHERE {Store.Database.InList("id", "ids")} ORDER BY id", new { ids = ids.ToArray() });
    }

    /// <summary>expires_at in microseconds, or null; 400 for a time that is not ISO 8601 or already past.</summary>
    private long? TrustExpiry(string? text)
    {
        if (text is null) return null;
        if (!IsoTime.IsMatch(text) || !DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at))
            throw IdentityError.Invalid($"Invalid input for field 'expires_at': '{text}' is not a valid ISO 8601 time.");
        if (at <= Tokens.Now) throw IdentityError.Invalid("The 'expires_at' must not be before now.");
        return TokenCodec.Micros(at);
    }

    /// <summary>A trust as OS-TRUST shows it; lists leave the roles out, as Keystone's.</summary>
    private static JsonObject TrustView(TrustRow t, string baseUrl, IReadOnlyList<RoleRow>? roles)
    {
        var json = new JsonObject
        {
            ["id"] = t.Id, ["trustor_user_id"] = t.TrustorUserId, ["trustee_user_id"] = t.TrusteeUserId, ["project_id"] = t.ProjectId,
            ["impersonation"] = t.Impersonation != 0,
            ["expires_at"] = t.ExpiresAt is { } at ? Views.Time(DateTimeOffset.FromUnixTimeMilliseconds(at / 1000).AddTicks(at % 1000 * 10)) : null,
            ["remaining_uses"] = t.RemainingUses, ["allow_redelegation"] = false, ["redelegation_count"] = 0, ["redelegated_trust_id"] = null,
            ["links"] = Views.Links($"{baseUrl}/OS-TRUST/trusts/{t.Id}"),
        };
        if (roles is not null)
        {
            var array = new JsonArray();
            foreach (var role in roles) array.Add(Views.Role(role, baseUrl));
            json["roles"] = array;
            json["roles_links"] = new JsonObject { ["self"] = $"{baseUrl}/OS-TRUST/trusts/{t.Id}/roles", ["previous"] = null, ["next"] = null };
        }
        return json;
    }

    /// <summary>The "OS-TRUST:trust" member of a trust-scoped token's document.</summary>
    private static JsonObject TrustTokenReference(TrustRow trust) => new()
    {
        ["id"] = trust.Id, ["impersonation"] = trust.Impersonation != 0,
        ["trustee_user"] = new JsonObject { ["id"] = trust.TrusteeUserId },
        ["trustor_user"] = new JsonObject { ["id"] = trust.TrustorUserId },
    };
}
