using System.Net;
using System.Text.Json.Nodes;

namespace StorageCloud.Identity.Tests;

/// <summary>
/// The identity API's behaviour, run once over SQLite and once over PostgreSQL (the subclasses): the same
/// requests, the same answers, whichever engine holds the rows.
/// </summary>
public abstract partial class IdentityApiSuite
{
    protected abstract Task<IdentityHost> StartAsync(int loginFailureLimit = 10);

    [Fact]
    public async Task Version_documents_are_served_at_the_root_and_v3()
    {
        await using var host = await StartAsync();
        var (status, root) = await host.JsonAsync(HttpMethod.Get, "/", null);
        Assert.Equal(HttpStatusCode.MultipleChoices, status);
        Assert.Equal("v3.14", root!["versions"]!["values"]![0]!["id"]!.GetValue<string>());
        var (status3, v3) = await host.JsonAsync(HttpMethod.Get, "/v3", null);
        Assert.Equal(HttpStatusCode.OK, status3);
        Assert.Equal("stable", v3!["version"]!["status"]!.GetValue<string>());
        Assert.EndsWith("/v3/", v3["version"]!["links"]![0]!["href"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_project_scoped_password_login_returns_Keystones_token_document()
    {
        await using var host = await StartAsync();
        var (token, body) = await host.LoginAsync("admin", IdentityHost.AdminPassword, IdentityHost.ProjectScope("admin"));
        Assert.InRange(token.Length, 100, 400);
        var t = body["token"]!;
        Assert.Equal("password", t["methods"]![0]!.GetValue<string>());
        Assert.Equal("admin", t["user"]!["name"]!.GetValue<string>());
        Assert.Equal("Default", t["user"]!["domain"]!["name"]!.GetValue<string>());
        Assert.Equal("admin", t["project"]!["name"]!.GetValue<string>());
        var projectId = t["project"]!["id"]!.GetValue<string>();
        // admin implies member implies reader, as Keystone's bootstrap sets up.
        var roles = t["roles"]!.AsArray().Select(r => r!["name"]!.GetValue<string>()).Order().ToArray();
        Assert.Equal(["admin", "member", "reader"], roles);
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$", t["expires_at"]!.GetValue<string>());
        var expires = DateTimeOffset.Parse(t["expires_at"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange((expires - host.Clock.GetUtcNow()).TotalMinutes, 59, 60.1);
        Assert.Single(t["audit_ids"]!.AsArray());
        var swift = t["catalog"]!.AsArray().Single(s => s!["type"]!.GetValue<string>() == "object-store");
        Assert.Equal(3, swift!["endpoints"]!.AsArray().Count);
        Assert.Equal($"http://127.0.0.1:8080/v1/AUTH_{projectId}", swift["endpoints"]![0]!["url"]!.GetValue<string>());

        // Validation returns the same document for the same token; HEAD answers 200 without a body.
        var (status, validated) = await host.JsonAsync(HttpMethod.Get, "/v3/auth/tokens?nocatalog", token, headers: new Dictionary<string, string> { ["X-Subject-Token"] = token });
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(projectId, validated!["token"]!["project"]!["id"]!.GetValue<string>());
        Assert.Null(validated["token"]!["catalog"]);
        using var head = await host.SendAsync(HttpMethod.Head, "/v3/auth/tokens", token, headers: new Dictionary<string, string> { ["X-Subject-Token"] = token });
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
    }

    [Fact]
    public async Task Users_log_in_by_id_and_unscoped_tokens_rescope_to_a_project_domain_or_the_system()
    {
        await using var host = await StartAsync();
        var (unscoped, body) = await host.LoginAsync("admin", IdentityHost.AdminPassword);
        Assert.Null(body["token"]!["project"]);
        Assert.Null(body["token"]!["catalog"]);
        var userId = body["token"]!["user"]!["id"]!.GetValue<string>();
        var byId = new JsonObject
        {
            ["auth"] = new JsonObject
            {
                ["identity"] = new JsonObject
                {
                    ["methods"] = new JsonArray("password"),
                    ["password"] = new JsonObject { ["user"] = new JsonObject { ["id"] = userId, ["password"] = IdentityHost.AdminPassword } },
                },
            },
        };
        var (status, _) = await host.JsonAsync(HttpMethod.Post, "/v3/auth/tokens", null, byId);
        Assert.Equal(HttpStatusCode.Created, status);

        var (projects, list) = await host.JsonAsync(HttpMethod.Get, "/v3/auth/projects", unscoped);
        Assert.Equal(HttpStatusCode.OK, projects);
        Assert.Contains(list!["projects"]!.AsArray(), p => p!["name"]!.GetValue<string>() == "admin");

        var rescope = new JsonObject
        {
            ["auth"] = new JsonObject
            {
                ["identity"] = new JsonObject { ["methods"] = new JsonArray("token"), ["token"] = new JsonObject { ["id"] = unscoped } },
                ["scope"] = IdentityHost.ProjectScope("admin"),
            },
        };
        using (var response = await host.SendAsync(HttpMethod.Post, "/v3/auth/tokens", null, rescope))
        {
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            var t = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["token"]!;
            Assert.Equal(["password", "token"], t["methods"]!.AsArray().Select(m => m!.GetValue<string>()).Order().ToArray());
            Assert.Equal(2, t["audit_ids"]!.AsArray().Count);
            Assert.Equal(body["token"]!["audit_ids"]![0]!.GetValue<string>(), t["audit_ids"]![1]!.GetValue<string>());
            Assert.Equal(body["token"]!["expires_at"]!.GetValue<string>(), t["expires_at"]!.GetValue<string>());
        }

        var system = IdentityHost.PasswordAuth("admin", IdentityHost.AdminPassword, new JsonObject { ["system"] = new JsonObject { ["all"] = true } });
        var (systemStatus, systemBody) = await host.JsonAsync(HttpMethod.Post, "/v3/auth/tokens", null, system);
        Assert.Equal(HttpStatusCode.Created, systemStatus);
        Assert.True(systemBody!["token"]!["system"]!["all"]!.GetValue<bool>());

        // A domain scope needs a role on the domain: none yet, then granted.
        var domainScope = IdentityHost.PasswordAuth("admin", IdentityHost.AdminPassword, new JsonObject { ["domain"] = new JsonObject { ["id"] = "default" } });
        Assert.Equal(HttpStatusCode.Unauthorized, (await host.JsonAsync(HttpMethod.Post, "/v3/auth/tokens", null, domainScope)).Status);
        var admin = await host.AdminTokenAsync();
        using (var grant = await host.SendAsync(HttpMethod.Put, $"/v3/domains/default/users/{userId}/roles/{await host.RoleIdAsync(admin, "reader")}", admin))
            Assert.Equal(HttpStatusCode.NoContent, grant.StatusCode);
        var (domainStatus, domainBody) = await host.JsonAsync(HttpMethod.Post, "/v3/auth/tokens", null, domainScope);
        Assert.Equal(HttpStatusCode.Created, domainStatus);
        Assert.Equal("Default", domainBody!["token"]!["domain"]!["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task Bad_logins_get_Keystones_status_and_error_json()
    {
        await using var host = await StartAsync();
        var admin = await host.AdminTokenAsync();
        var (_, userId) = await host.ProjectWithUserAsync(admin, "p1", "bob", "bobpw");
        await host.CreateAsync(admin, "projects", "project", new JsonObject { ["name"] = "other" });

        async Task Expect(HttpStatusCode expected, string body)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v3/auth/tokens") { Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json") };
            using var response = await host.Client.SendAsync(request);
            Assert.Equal(expected, response.StatusCode);
            var error = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!;
            Assert.Equal((int)expected, error["code"]!.GetValue<int>());
            Assert.False(string.IsNullOrEmpty(error["title"]!.GetValue<string>()));
            Assert.False(string.IsNullOrEmpty(error["message"]!.GetValue<string>()));
            if (expected == HttpStatusCode.Unauthorized) Assert.StartsWith("Keystone uri=", response.Headers.WwwAuthenticate.ToString());
        }

        await Expect(HttpStatusCode.BadRequest, "{not json");
        await Expect(HttpStatusCode.BadRequest, "[1,2]");
        await Expect(HttpStatusCode.BadRequest, """{"auth": {}}""");
        await Expect(HttpStatusCode.BadRequest, """{"auth": {"identity": {"methods": "password"}}}""");
        await Expect(HttpStatusCode.BadRequest, """{"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": 7}}}}}""");
        await Expect(HttpStatusCode.Unauthorized, IdentityHost.PasswordAuth("nobody", "x").ToJsonString());
        await Expect(HttpStatusCode.Unauthorized, IdentityHost.PasswordAuth("bob", "wrong").ToJsonString());
        // bob has no role on "other": the scope is refused.
        await Expect(HttpStatusCode.Unauthorized, IdentityHost.PasswordAuth("bob", "bobpw", IdentityHost.ProjectScope("other")).ToJsonString());
        await Expect(HttpStatusCode.Unauthorized, IdentityHost.PasswordAuth("bob", "bobpw", IdentityHost.ProjectScope("missing")).ToJsonString());

        // A disabled user can neither log in nor keep using a token issued before.
        var (bobToken, _) = await host.LoginAsync("bob", "bobpw", IdentityHost.ProjectScope("p1"));
        Assert.Equal(HttpStatusCode.OK, (await host.JsonAsync(HttpMethod.Get, $"/v3/users/{userId}", bobToken)).Status);
        Assert.Equal(HttpStatusCode.OK, (await host.JsonAsync(HttpMethod.Patch, $"/v3/users/{userId}", admin, new JsonObject { ["user"] = new JsonObject { ["enabled"] = false } })).Status);
        await Expect(HttpStatusCode.Unauthorized, IdentityHost.PasswordAuth("bob", "bobpw", IdentityHost.ProjectScope("p1")).ToJsonString());
        Assert.Equal(HttpStatusCode.Unauthorized, (await host.JsonAsync(HttpMethod.Get, $"/v3/users/{userId}", bobToken)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await host.JsonAsync(HttpMethod.Get, "/v3/auth/tokens", admin, headers: new Dictionary<string, string> { ["X-Subject-Token"] = bobToken })).Status);
    }

    [Fact]
    public async Task Revoked_and_expired_tokens_are_refused()
    {
        await using var host = await StartAsync();
        var admin = await host.AdminTokenAsync();
        var other = await host.AdminTokenAsync();
        using (var revoke = await host.SendAsync(HttpMethod.Delete, "/v3/auth/tokens", admin, headers: new Dictionary<string, string> { ["X-Subject-Token"] = other }))
            Assert.Equal(HttpStatusCode.NoContent, revoke.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await host.JsonAsync(HttpMethod.Get, "/v3/projects", other)).Status);
        Assert.Equal(HttpStatusCode.OK, (await host.JsonAsync(HttpMethod.Get, "/v3/projects", admin)).Status);

        // A token rescoped from a revoked one shares its audit chain: revoking the parent ends it too.
        var (unscoped, _) = await host.LoginAsync("admin", IdentityHost.AdminPassword);
        var rescope = new JsonObject
        {
            ["auth"] = new JsonObject
            {
                ["identity"] = new JsonObject { ["methods"] = new JsonArray("token"), ["token"] = new JsonObject { ["id"] = unscoped } },
                ["scope"] = IdentityHost.ProjectScope("admin"),
            },
        };
        using var rescoped = await host.SendAsync(HttpMethod.Post, "/v3/auth/tokens", null, rescope);
        var child = rescoped.Headers.GetValues("X-Subject-Token").Single();
        using (var revoke = await host.SendAsync(HttpMethod.Delete, "/v3/auth/tokens", admin, headers: new Dictionary<string, string> { ["X-Subject-Token"] = unscoped }))
            Assert.Equal(HttpStatusCode.NoContent, revoke.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await host.JsonAsync(HttpMethod.Get, "/v3/projects", child)).Status);

        host.Clock.Advance(TimeSpan.FromMinutes(61));
        Assert.Equal(HttpStatusCode.Unauthorized, (await host.JsonAsync(HttpMethod.Get, "/v3/projects", admin)).Status);
        Assert.Equal(HttpStatusCode.Created, (await host.JsonAsync(HttpMethod.Post, "/v3/auth/tokens", null,
            IdentityHost.PasswordAuth("admin", IdentityHost.AdminPassword, IdentityHost.ProjectScope("admin")))).Status);
    }

    [Fact]
    public async Task Tampered_and_foreign_tokens_are_refused()
    {
        await using var host = await StartAsync();
        var admin = await host.AdminTokenAsync();
        var chars = admin.ToCharArray();
        chars[40] = chars[40] == 'A' ? 'B' : 'A';
        Assert.Equal(HttpStatusCode.Unauthorized, (await host.JsonAsync(HttpMethod.Get, "/v3/projects", new string(chars))).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await host.JsonAsync(HttpMethod.Get, "/v3/projects", "AUTH_tk0123456789abcdef")).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await host.JsonAsync(HttpMethod.Get, "/v3/projects", new string('k', 5000))).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await host.JsonAsync(HttpMethod.Get, "/v3/projects", null)).Status);
    }

    [Fact]
    public async Task Repeated_failed_logins_from_one_address_are_rate_limited()
    {
        await using var host = await StartAsync(loginFailureLimit: 3);
        for (var i = 0; i < 3; i++)
            Assert.Equal(HttpStatusCode.Unauthorized, (await host.JsonAsync(HttpMethod.Post, "/v3/auth/tokens", null, IdentityHost.PasswordAuth("admin", "guess" + i))).Status);
        // Even the right password waits now.
        using (var limited = await host.SendAsync(HttpMethod.Post, "/v3/auth/tokens", null, IdentityHost.PasswordAuth("admin", IdentityHost.AdminPassword)))
        {
            Assert.Equal((HttpStatusCode)429, limited.StatusCode);
            Assert.NotNull(limited.Headers.RetryAfter);
            var error = JsonNode.Parse(await limited.Content.ReadAsStringAsync())!["error"]!;
            Assert.Equal(429, error["code"]!.GetValue<int>());
        }
        host.Clock.Advance(TimeSpan.FromSeconds(61));
        Assert.Equal(HttpStatusCode.Created, (await host.JsonAsync(HttpMethod.Post, "/v3/auth/tokens", null, IdentityHost.PasswordAuth("admin", IdentityHost.AdminPassword))).Status);
    }

    [Fact]
    public async Task Application_credentials_authenticate_with_only_their_roles()
    {
        await using var host = await StartAsync();
        var admin = await host.AdminTokenAsync();
        var (projectId, userId) = await host.ProjectWithUserAsync(admin, "apps", "carol", "carolpw");
        var (carol, _) = await host.LoginAsync("carol", "carolpw", IdentityHost.ProjectScope("apps"));
        var (status, created) = await host.JsonAsync(HttpMethod.Post, $"/v3/users/{userId}/application_credentials", carol,
            new JsonObject { ["application_credential"] = new JsonObject { ["name"] = "ci", ["roles"] = new JsonArray(new JsonObject { ["name"] = "reader" }) } });
        Assert.Equal(HttpStatusCode.Created, status);
        var credential = created!["application_credential"]!;
        var secret = credential["secret"]!.GetValue<string>();
        Assert.Equal(projectId, credential["project_id"]!.GetValue<string>());

        var auth = new JsonObject
        {
            ["auth"] = new JsonObject
            {
                ["identity"] = new JsonObject
                {
                    ["methods"] = new JsonArray("application_credential"),
                    ["application_credential"] = new JsonObject { ["id"] = credential["id"]!.GetValue<string>(), ["secret"] = secret },
                },
            },
        };
        var (loginStatus, token) = await host.JsonAsync(HttpMethod.Post, "/v3/auth/tokens", null, auth);
        Assert.Equal(HttpStatusCode.Created, loginStatus);
        Assert.Equal(projectId, token!["token"]!["project"]!["id"]!.GetValue<string>());
        Assert.Equal(["reader"], token["token"]!["roles"]!.AsArray().Select(r => r!["name"]!.GetValue<string>()).ToArray());
        Assert.Equal("ci", token["token"]!["application_credential"]!["name"]!.GetValue<string>());

        auth["auth"]!["identity"]!["application_credential"]!["secret"] = "wrong";
        Assert.Equal(HttpStatusCode.Unauthorized, (await host.JsonAsync(HttpMethod.Post, "/v3/auth/tokens", null, auth)).Status);
        // Listing shows it without the secret; deleting it ends its use.
        var (_, list) = await host.JsonAsync(HttpMethod.Get, $"/v3/users/{userId}/application_credentials", carol);
        Assert.Null(list!["application_credentials"]![0]!["secret"]);
        Assert.Equal(HttpStatusCode.NoContent, (await host.JsonAsync(HttpMethod.Delete, $"/v3/users/{userId}/application_credentials/{credential["id"]}", carol)).Status);
        auth["auth"]!["identity"]!["application_credential"]!["secret"] = secret;
        Assert.Equal(HttpStatusCode.Unauthorized, (await host.JsonAsync(HttpMethod.Post, "/v3/auth/tokens", null, auth)).Status);
    }
}
