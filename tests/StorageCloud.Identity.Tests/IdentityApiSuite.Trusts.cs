using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;

namespace StorageCloud.Identity.Tests;

// OS-TRUST: creating, reading and deleting trusts, and the tokens a trustee gets through them.
public abstract partial class IdentityApiSuite
{
    private sealed record TrustParties(string Admin, string ProjectId, string TrustorId, string TrustorToken, string TrusteeId, string Delegated, string Kept);

    /// <summary>tina holds "delegated" and "kept" on project tp; ted holds nothing anywhere.</summary>
    private static async Task<TrustParties> TrustPartiesAsync(IdentityHost host)
    {
        var admin = await host.AdminTokenAsync();
        var delegated = await host.CreateAsync(admin, "roles", "role", new JsonObject { ["name"] = "delegated" });
        var kept = await host.CreateAsync(admin, "roles", "role", new JsonObject { ["name"] = "kept" });
        var (projectId, trustorId) = await host.ProjectWithUserAsync(admin, "tp", "tina", "tinapw", role: "delegated");
        await ExpectAsync(host, HttpStatusCode.NoContent, HttpMethod.Put, $"/v3/projects/{projectId}/users/{trustorId}/roles/{kept}", admin);
        var trusteeId = await host.CreateAsync(admin, "users", "user", new JsonObject { ["name"] = "ted", ["password"] = "tedpw", ["domain_id"] = "default" });
        var (trustorToken, _) = await host.LoginAsync("tina", "tinapw", IdentityHost.ProjectScope("tp"));
        return new TrustParties(admin, projectId, trustorId, trustorToken, trusteeId, delegated, kept);
    }

    private static JsonObject TrustRequest(TrustParties p, bool impersonation, string? expiresAt = null, long? remainingUses = null, string? trustor = null) => new()
    {
        ["trust"] = new JsonObject
        {
            ["trustor_user_id"] = trustor ?? p.TrustorId, ["trustee_user_id"] = p.TrusteeId, ["project_id"] = p.ProjectId,
            ["roles"] = new JsonArray(new JsonObject { ["name"] = "delegated" }), ["impersonation"] = impersonation,
            ["expires_at"] = expiresAt, ["remaining_uses"] = remainingUses,
        },
    };

    private static JsonObject TrustLogin(string trustId) =>
        IdentityHost.PasswordAuth("ted", "tedpw", new JsonObject { ["OS-TRUST:trust"] = new JsonObject { ["id"] = trustId } });

    private static async Task<HttpStatusCode> ValidationStatusAsync(IdentityHost host, string admin, string token) =>
        (await host.JsonAsync(HttpMethod.Get, "/v3/auth/tokens", admin, headers: new Dictionary<string, string> { ["X-Subject-Token"] = token })).Status;

    private static string Iso(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    [Fact]
    public async Task A_trustor_delegates_some_roles_and_the_trustee_acts_as_the_trustor_until_the_trust_is_deleted()
    {
        await using var host = await StartAsync();
        var p = await TrustPartiesAsync(host);
        var expires = Iso(host.Clock.GetUtcNow() + TimeSpan.FromHours(1));

        // Only the trustor creates a trust for itself, with roles it holds, at a valid time.
        await ExpectAsync(host, HttpStatusCode.Forbidden, HttpMethod.Post, "/v3/OS-TRUST/trusts", p.Admin, TrustRequest(p, true));
        await ExpectAsync(host, HttpStatusCode.Forbidden, HttpMethod.Post, "/v3/OS-TRUST/trusts", p.TrustorToken, TrustRequest(p, true, trustor: p.TrusteeId));
        await ExpectAsync(host, HttpStatusCode.BadRequest, HttpMethod.Post, "/v3/OS-TRUST/trusts", p.TrustorToken, TrustRequest(p, true, expiresAt: "bad.123Z"));
        var notHeld = TrustRequest(p, true);
        notHeld["trust"]!["roles"] = new JsonArray(new JsonObject { ["name"] = "admin" });
        await ExpectAsync(host, HttpStatusCode.NotFound, HttpMethod.Post, "/v3/OS-TRUST/trusts", p.TrustorToken, notHeld);

        var (created, body) = await host.JsonAsync(HttpMethod.Post, "/v3/OS-TRUST/trusts", p.TrustorToken, TrustRequest(p, true, expiresAt: expires));
        Assert.Equal(HttpStatusCode.Created, created);
        var trust = body!["trust"]!;
        var trustId = trust["id"]!.GetValue<string>();
        Assert.True(trust["impersonation"]!.GetValue<bool>());
        Assert.Equal(expires, System.Text.RegularExpressions.Regex.Replace(trust["expires_at"]!.GetValue<string>(), @"\.\d{6}", ""));
        Assert.Equal(p.ProjectId, trust["project_id"]!.GetValue<string>());
        Assert.Equal(["delegated"], trust["roles"]!.AsArray().Select(r => r!["name"]!.GetValue<string>()).ToArray());
        Assert.Contains("/v3/OS-TRUST/trusts/", trust["links"]!["self"]!.GetValue<string>());

        // The trustor, the trustee and admins read it; anyone else is refused.
        await host.CreateAsync(p.Admin, "users", "user", new JsonObject { ["name"] = "otto", ["password"] = "ottopw", ["domain_id"] = "default" });
        var (outsider, _) = await host.LoginAsync("otto", "ottopw");
        var (trustee, _) = await host.LoginAsync("ted", "tedpw");
        foreach (var reader in new[] { p.TrustorToken, trustee, p.Admin })
            await ExpectAsync(host, HttpStatusCode.OK, HttpMethod.Get, $"/v3/OS-TRUST/trusts/{trustId}", reader);
        await ExpectAsync(host, HttpStatusCode.Forbidden, HttpMethod.Get, $"/v3/OS-TRUST/trusts/{trustId}", outsider);
        await ExpectAsync(host, HttpStatusCode.Forbidden, HttpMethod.Get, $"/v3/OS-TRUST/trusts?trustor_user_id={p.TrustorId}", outsider);
        await ExpectAsync(host, HttpStatusCode.Forbidden, HttpMethod.Get, "/v3/OS-TRUST/trusts", p.TrustorToken);
        var (_, mine) = await host.JsonAsync(HttpMethod.Get, $"/v3/OS-TRUST/trusts/?trustor_user_id={p.TrustorId}", p.TrustorToken);
        Assert.Equal(trustId, mine!["trusts"]!.AsArray().Single()!["id"]!.GetValue<string>());
        Assert.Null(mine["trusts"]![0]!["roles"]);
        var (_, every) = await host.JsonAsync(HttpMethod.Get, "/v3/OS-TRUST/trusts", p.Admin);
        Assert.Contains(every!["trusts"]!.AsArray(), t => t!["id"]!.GetValue<string>() == trustId);

        Assert.Equal(["delegated"], Names((await host.JsonAsync(HttpMethod.Get, $"/v3/OS-TRUST/trusts/{trustId}/roles", trustee)).Body, "roles"));
        await ExpectAsync(host, HttpStatusCode.OK, HttpMethod.Get, $"/v3/OS-TRUST/trusts/{trustId}/roles/{p.Delegated}", p.TrustorToken);
        await ExpectAsync(host, HttpStatusCode.OK, HttpMethod.Head, $"/v3/OS-TRUST/trusts/{trustId}/roles/{p.Delegated}", p.TrustorToken);
        await ExpectAsync(host, HttpStatusCode.NotFound, HttpMethod.Head, $"/v3/OS-TRUST/trusts/{trustId}/roles/{p.Kept}", p.TrustorToken);

        // The trustee's trust-scoped token: the trustor's name (impersonation), the trust's project, only the delegated role.
        await ExpectAsync(host, HttpStatusCode.Forbidden, HttpMethod.Post, "/v3/auth/tokens", null,
            IdentityHost.PasswordAuth("otto", "ottopw", new JsonObject { ["OS-TRUST:trust"] = new JsonObject { ["id"] = trustId } }));
        var (issued, tokenBody) = await host.JsonAsync(HttpMethod.Post, "/v3/auth/tokens", null, TrustLogin(trustId));
        Assert.Equal(HttpStatusCode.Created, issued);
        using (var again = await host.SendAsync(HttpMethod.Post, "/v3/auth/tokens", null, TrustLogin(trustId)))
            Assert.Equal(HttpStatusCode.Created, again.StatusCode);
        var t = tokenBody!["token"]!;
        Assert.Equal(p.TrustorId, t["user"]!["id"]!.GetValue<string>());
        Assert.Equal(p.ProjectId, t["project"]!["id"]!.GetValue<string>());
        Assert.Equal(["delegated"], t["roles"]!.AsArray().Select(r => r!["name"]!.GetValue<string>()).ToArray());
        Assert.Equal(trustId, t["OS-TRUST:trust"]!["id"]!.GetValue<string>());
        Assert.True(t["OS-TRUST:trust"]!["impersonation"]!.GetValue<bool>());
        Assert.Equal(p.TrusteeId, t["OS-TRUST:trust"]!["trustee_user"]!["id"]!.GetValue<string>());
        Assert.Equal(p.TrustorId, t["OS-TRUST:trust"]!["trustor_user"]!["id"]!.GetValue<string>());
        using var login = await host.SendAsync(HttpMethod.Post, "/v3/auth/tokens", null, TrustLogin(trustId));
        var trustToken = login.Headers.GetValues("X-Subject-Token").Single();

        // A delegation cannot be stretched: no new trust, no rescoping, no credentials that would outlive it.
        await ExpectAsync(host, HttpStatusCode.Forbidden, HttpMethod.Post, "/v3/OS-TRUST/trusts", trustToken, TrustRequest(p, true));
        await ExpectAsync(host, HttpStatusCode.Forbidden, HttpMethod.Post, $"/v3/users/{p.TrustorId}/credentials/OS-EC2", trustToken, new JsonObject { ["tenant_id"] = p.ProjectId });
        await ExpectAsync(host, HttpStatusCode.Forbidden, HttpMethod.Get, $"/v3/users/{p.TrustorId}/credentials/OS-EC2", trustToken);
        await ExpectAsync(host, HttpStatusCode.Forbidden, HttpMethod.Delete, $"/v3/OS-TRUST/trusts/{trustId}", trustToken);
        var rescope = new JsonObject
        {
            ["auth"] = new JsonObject
            {
                ["identity"] = new JsonObject { ["methods"] = new JsonArray("token"), ["token"] = new JsonObject { ["id"] = trustToken } },
                ["scope"] = ProjectIdScope(p.ProjectId),
            },
        };
        await ExpectAsync(host, HttpStatusCode.Forbidden, HttpMethod.Post, "/v3/auth/tokens", null, rescope);

        // The token never carries more than the trustor holds now.
        await ExpectAsync(host, HttpStatusCode.NoContent, HttpMethod.Delete, $"/v3/projects/{p.ProjectId}/users/{p.TrustorId}/roles/{p.Delegated}", p.Admin);
        Assert.Equal(HttpStatusCode.NotFound, await ValidationStatusAsync(host, p.Admin, trustToken));
        await ExpectAsync(host, HttpStatusCode.NoContent, HttpMethod.Put, $"/v3/projects/{p.ProjectId}/users/{p.TrustorId}/roles/{p.Delegated}", p.Admin);
        Assert.Equal(HttpStatusCode.OK, await ValidationStatusAsync(host, p.Admin, trustToken));

        // Only the trustor (or an admin) deletes it, and its tokens end with it.
        await ExpectAsync(host, HttpStatusCode.Forbidden, HttpMethod.Delete, $"/v3/OS-TRUST/trusts/{trustId}", trustee);
        await ExpectAsync(host, HttpStatusCode.NoContent, HttpMethod.Delete, $"/v3/OS-TRUST/trusts/{trustId}", p.TrustorToken);
        await ExpectAsync(host, HttpStatusCode.NotFound, HttpMethod.Get, $"/v3/OS-TRUST/trusts/{trustId}", p.TrustorToken);
        Assert.Equal(HttpStatusCode.NotFound, await ValidationStatusAsync(host, p.Admin, trustToken));
        Assert.Equal(HttpStatusCode.Unauthorized, (await host.JsonAsync(HttpMethod.Get, $"/v3/OS-TRUST/trusts?trustee_user_id={p.TrusteeId}", trustToken)).Status);
    }

    [Fact]
    public async Task Trusts_without_impersonation_show_the_trustee_and_end_with_their_uses_or_expiry()
    {
        await using var host = await StartAsync();
        var p = await TrustPartiesAsync(host);

        var (_, once) = await host.JsonAsync(HttpMethod.Post, "/v3/OS-TRUST/trusts", p.TrustorToken, TrustRequest(p, false, remainingUses: 1));
        var onceId = once!["trust"]!["id"]!.GetValue<string>();
        Assert.False(once["trust"]!["impersonation"]!.GetValue<bool>());
        Assert.Null(once["trust"]!["expires_at"]);
        var (issued, tokenBody) = await host.JsonAsync(HttpMethod.Post, "/v3/auth/tokens", null, TrustLogin(onceId));
        Assert.Equal(HttpStatusCode.Created, issued);
        Assert.Equal(p.TrusteeId, tokenBody!["token"]!["user"]!["id"]!.GetValue<string>());
        Assert.False(tokenBody["token"]!["OS-TRUST:trust"]!["impersonation"]!.GetValue<bool>());
        // Its only use is spent: no second token, and the trust reads as gone.
        await ExpectAsync(host, HttpStatusCode.NotFound, HttpMethod.Post, "/v3/auth/tokens", null, TrustLogin(onceId));
        await ExpectAsync(host, HttpStatusCode.NotFound, HttpMethod.Get, $"/v3/OS-TRUST/trusts/{onceId}", p.TrustorToken);
        await ExpectAsync(host, HttpStatusCode.BadRequest, HttpMethod.Post, "/v3/OS-TRUST/trusts", p.TrustorToken, TrustRequest(p, false, remainingUses: 0));
        await ExpectAsync(host, HttpStatusCode.BadRequest, HttpMethod.Post, "/v3/OS-TRUST/trusts", p.TrustorToken,
            TrustRequest(p, false, expiresAt: Iso(host.Clock.GetUtcNow() - TimeSpan.FromMinutes(1))));

        // A trust's tokens end no later than the trust.
        var expires = host.Clock.GetUtcNow() + TimeSpan.FromMinutes(30);
        var (_, brief) = await host.JsonAsync(HttpMethod.Post, "/v3/OS-TRUST/trusts", p.TrustorToken, TrustRequest(p, false, expiresAt: Iso(expires)));
        var briefId = brief!["trust"]!["id"]!.GetValue<string>();
        using var login = await host.SendAsync(HttpMethod.Post, "/v3/auth/tokens", null, TrustLogin(briefId));
        Assert.Equal(HttpStatusCode.Created, login.StatusCode);
        var token = login.Headers.GetValues("X-Subject-Token").Single();
        var body = JsonNode.Parse(await login.Content.ReadAsStringAsync())!;
        var tokenExpires = DateTimeOffset.Parse(body["token"]!["expires_at"]!.GetValue<string>(), CultureInfo.InvariantCulture);
        Assert.True(tokenExpires <= expires, $"token expires {tokenExpires}, trust {expires}");

        host.Clock.Advance(TimeSpan.FromMinutes(31));
        await ExpectAsync(host, HttpStatusCode.NotFound, HttpMethod.Get, $"/v3/OS-TRUST/trusts/{briefId}", p.Admin);
        await ExpectAsync(host, HttpStatusCode.NotFound, HttpMethod.Post, "/v3/auth/tokens", null, TrustLogin(briefId));
        Assert.Equal(HttpStatusCode.NotFound, await ValidationStatusAsync(host, p.Admin, token));
    }
}
