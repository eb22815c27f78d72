using System.Net;
using System.Text.Json.Nodes;

namespace StorageCloud.Identity.Tests;

// Implied roles, domain-specific roles and OS-INHERIT grants, as tokens and role_assignments?effective see them.
public abstract partial class IdentityApiSuite
{
    private static async Task ExpectAsync(IdentityHost host, HttpStatusCode expected, HttpMethod method, string path, string? token, JsonNode? body = null)
    {
        using var response = await host.SendAsync(method, path, token, body);
        Assert.True(response.StatusCode == expected, $"{method} {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    private static JsonObject PasswordAuthById(string userId, string password, JsonNode? scope) => new()
    {
        ["auth"] = new JsonObject
        {
            ["identity"] = new JsonObject
            {
                ["methods"] = new JsonArray("password"),
                ["password"] = new JsonObject { ["user"] = new JsonObject { ["id"] = userId, ["password"] = password } },
            },
            ["scope"] = scope,
        },
    };

    private static JsonObject ProjectIdScope(string projectId) => new() { ["project"] = new JsonObject { ["id"] = projectId } };

    /// <summary>The role names of a login scoped as given, or null when the login is refused.</summary>
    private static async Task<string[]?> TokenRolesAsync(IdentityHost host, string userId, string password, JsonNode scope)
    {
        var (status, body) = await host.JsonAsync(HttpMethod.Post, "/v3/auth/tokens", null, PasswordAuthById(userId, password, scope));
        if (status == HttpStatusCode.Unauthorized) return null;
        Assert.Equal(HttpStatusCode.Created, status);
        return body!["token"]!["roles"]!.AsArray().Select(r => r!["name"]!.GetValue<string>()).Order().ToArray();
    }

    private static async Task<JsonArray> EffectiveAssignmentsAsync(IdentityHost host, string admin, string userId, string projectId)
    {
        var (status, body) = await host.JsonAsync(HttpMethod.Get, $"/v3/role_assignments?effective&user.id={userId}&scope.project.id={projectId}", admin);
        Assert.Equal(HttpStatusCode.OK, status);
        return body!["role_assignments"]!.AsArray();
    }

    [Fact]
    public async Task Implied_roles_are_rules_that_tokens_and_effective_assignments_follow()
    {
        await using var host = await StartAsync();
        var admin = await host.AdminTokenAsync();
        var auditor = await host.CreateAsync(admin, "roles", "role", new JsonObject { ["name"] = "auditor" });
        var viewer = await host.CreateAsync(admin, "roles", "role", new JsonObject { ["name"] = "viewer" });
        var observer = await host.CreateAsync(admin, "roles", "role", new JsonObject { ["name"] = "observer" });
        var (projectId, userId) = await host.ProjectWithUserAsync(admin, "imp", "ivy", "ivypw", role: "auditor");

        var (created, rule) = await host.JsonAsync(HttpMethod.Put, $"/v3/roles/{auditor}/implies/{viewer}", admin);
        Assert.Equal(HttpStatusCode.Created, created);
        Assert.Equal(auditor, rule!["role_inference"]!["prior_role"]!["id"]!.GetValue<string>());
        Assert.Equal("viewer", rule["role_inference"]!["implies"]!["name"]!.GetValue<string>());
        Assert.EndsWith($"/v3/roles/{viewer}", rule["role_inference"]!["implies"]!["links"]!["self"]!.GetValue<string>());
        await ExpectAsync(host, HttpStatusCode.Conflict, HttpMethod.Put, $"/v3/roles/{auditor}/implies/{viewer}", admin);
        await ExpectAsync(host, HttpStatusCode.Created, HttpMethod.Put, $"/v3/roles/{viewer}/implies/{observer}", admin);
        await ExpectAsync(host, HttpStatusCode.NoContent, HttpMethod.Head, $"/v3/roles/{auditor}/implies/{viewer}", admin);
        await ExpectAsync(host, HttpStatusCode.NotFound, HttpMethod.Head, $"/v3/roles/{auditor}/implies/{observer}", admin);
        // Nothing may imply admin (Keystone's prohibited_implied_role).
        await ExpectAsync(host, HttpStatusCode.Forbidden, HttpMethod.Put, $"/v3/roles/{viewer}/implies/{await host.RoleIdAsync(admin, "admin")}", admin);

        var (_, direct) = await host.JsonAsync(HttpMethod.Get, $"/v3/roles/{auditor}/implies", admin);
        Assert.Equal([viewer], direct!["role_inference"]!["implies"]!.AsArray().Select(x => x!["id"]!.GetValue<string>()).ToArray());
        var (_, all) = await host.JsonAsync(HttpMethod.Get, "/v3/role_inferences", admin);
        var priors = all!["role_inferences"]!.AsArray().Select(x => x!["prior_role"]!["name"]!.GetValue<string>()).Order().ToArray();
        Assert.Equal(["admin", "auditor", "member", "viewer"], priors);

        // Implication is transitive in tokens; the effective listing shows each implied role beside its prior role.
        Assert.Equal(["auditor", "observer", "viewer"], (await TokenRolesAsync(host, userId, "ivypw", ProjectIdScope(projectId)))!);
        var effective = await EffectiveAssignmentsAsync(host, admin, userId, projectId);
        Assert.Equal(3, effective.Count);
        var implied = effective.Single(a => a!["role"]!["id"]!.GetValue<string>() == viewer)!;
        Assert.EndsWith($"/v3/roles/{auditor}/implies/{viewer}", implied["links"]!["prior_role"]!.GetValue<string>());
        Assert.EndsWith($"/users/{userId}/roles/{auditor}", implied["links"]!["assignment"]!.GetValue<string>());

        await ExpectAsync(host, HttpStatusCode.NoContent, HttpMethod.Delete, $"/v3/roles/{auditor}/implies/{viewer}", admin);
        await ExpectAsync(host, HttpStatusCode.NotFound, HttpMethod.Delete, $"/v3/roles/{auditor}/implies/{viewer}", admin);
        await ExpectAsync(host, HttpStatusCode.NotFound, HttpMethod.Get, $"/v3/roles/{auditor}/implies/{viewer}", admin);
        Assert.Equal(["auditor"], (await TokenRolesAsync(host, userId, "ivypw", ProjectIdScope(projectId)))!);
        Assert.Single(await EffectiveAssignmentsAsync(host, admin, userId, projectId));

        // Deleting a role takes its rules with it; bootstrap's rules still hold for the admin.
        await ExpectAsync(host, HttpStatusCode.NoContent, HttpMethod.Delete, $"/v3/roles/{viewer}", admin);
        var (_, after) = await host.JsonAsync(HttpMethod.Get, "/v3/role_inferences", admin);
        Assert.DoesNotContain(after!["role_inferences"]!.AsArray(), x => x!["prior_role"]!["id"]!.GetValue<string>() == viewer);
        var (_, adminLogin) = await host.LoginAsync("admin", IdentityHost.AdminPassword, IdentityHost.ProjectScope("admin"));
        Assert.Equal(["admin", "member", "reader"], adminLogin["token"]!["roles"]!.AsArray().Select(r => r!["name"]!.GetValue<string>()).Order().ToArray());
    }

    [Fact]
    public async Task Domain_specific_roles_reach_tokens_only_through_the_global_roles_they_imply()
    {
        await using var host = await StartAsync();
        var admin = await host.AdminTokenAsync();
        var d1 = await host.CreateAsync(admin, "domains", "domain", new JsonObject { ["name"] = "d1" });
        var d2 = await host.CreateAsync(admin, "domains", "domain", new JsonObject { ["name"] = "d2" });
        var (made, madeBody) = await host.JsonAsync(HttpMethod.Post, "/v3/roles", admin, new JsonObject { ["role"] = new JsonObject { ["name"] = "dr", ["domain_id"] = d1 } });
        Assert.Equal(HttpStatusCode.Created, made);
        Assert.Equal(d1, madeBody!["role"]!["domain_id"]!.GetValue<string>());
        var local = madeBody["role"]!["id"]!.GetValue<string>();
        // Names are unique per domain, and among global roles, separately.
        var elsewhere = await host.CreateAsync(admin, "roles", "role", new JsonObject { ["name"] = "dr", ["domain_id"] = d2 });
        await ExpectAsync(host, HttpStatusCode.Conflict, HttpMethod.Post, "/v3/roles", admin, new JsonObject { ["role"] = new JsonObject { ["name"] = "dr", ["domain_id"] = d1 } });
        var global = await host.CreateAsync(admin, "roles", "role", new JsonObject { ["name"] = "dr" });
        await ExpectAsync(host, HttpStatusCode.NotFound, HttpMethod.Post, "/v3/roles", admin, new JsonObject { ["role"] = new JsonObject { ["name"] = "x", ["domain_id"] = "nope" } });

        var (_, inD1) = await host.JsonAsync(HttpMethod.Get, $"/v3/roles?domain_id={d1}", admin);
        Assert.Equal([local], inD1!["roles"]!.AsArray().Select(x => x!["id"]!.GetValue<string>()).ToArray());
        var (_, globals) = await host.JsonAsync(HttpMethod.Get, "/v3/roles", admin);
        Assert.All(globals!["roles"]!.AsArray(), x => Assert.Null(x!["domain_id"]));
        Assert.Contains(globals["roles"]!.AsArray(), x => x!["id"]!.GetValue<string>() == global);

        var project = await host.CreateAsync(admin, "projects", "project", new JsonObject { ["name"] = "dp", ["domain_id"] = d1 });
        var dan = await host.CreateAsync(admin, "users", "user", new JsonObject { ["name"] = "dan", ["password"] = "danpw", ["domain_id"] = "default" });
        await ExpectAsync(host, HttpStatusCode.NoContent, HttpMethod.Put, $"/v3/projects/{project}/users/{dan}/roles/{local}", admin);
        await ExpectAsync(host, HttpStatusCode.Forbidden, HttpMethod.Put, $"/v3/projects/{project}/users/{dan}/roles/{elsewhere}", admin);
        Assert.Empty(await EffectiveAssignmentsAsync(host, admin, dan, project));
        Assert.Null(await TokenRolesAsync(host, dan, "danpw", ProjectIdScope(project)));

        await ExpectAsync(host, HttpStatusCode.Forbidden, HttpMethod.Put, $"/v3/roles/{global}/implies/{local}", admin);
        var reader = await host.RoleIdAsync(admin, "reader");
        await ExpectAsync(host, HttpStatusCode.Created, HttpMethod.Put, $"/v3/roles/{local}/implies/{reader}", admin);
        var effective = await EffectiveAssignmentsAsync(host, admin, dan, project);
        Assert.Equal([reader], effective.Select(a => a!["role"]!["id"]!.GetValue<string>()).ToArray());
        Assert.Equal(["reader"], (await TokenRolesAsync(host, dan, "danpw", ProjectIdScope(project)))!);
    }

    [Fact]
    public async Task Inherited_grants_reach_the_projects_below_their_target_but_not_the_target()
    {
        await using var host = await StartAsync();
        var admin = await host.AdminTokenAsync();
        var domain = await host.CreateAsync(admin, "domains", "domain", new JsonObject { ["name"] = "inh" });
        var top = await host.CreateAsync(admin, "projects", "project", new JsonObject { ["name"] = "top", ["domain_id"] = domain });
        var leaf = await host.CreateAsync(admin, "projects", "project", new JsonObject { ["name"] = "leaf", ["domain_id"] = domain, ["parent_id"] = top });
        var ian = await host.CreateAsync(admin, "users", "user", new JsonObject { ["name"] = "ian", ["password"] = "ianpw", ["domain_id"] = "default" });
        var auditor = await host.CreateAsync(admin, "roles", "role", new JsonObject { ["name"] = "auditor" });
        var onDomain = $"/v3/OS-INHERIT/domains/{domain}/users/{ian}/roles";

        await ExpectAsync(host, HttpStatusCode.NotFound, HttpMethod.Head, $"{onDomain}/{auditor}/inherited_to_projects", admin);
        await ExpectAsync(host, HttpStatusCode.NoContent, HttpMethod.Put, $"{onDomain}/{auditor}/inherited_to_projects", admin);
        await ExpectAsync(host, HttpStatusCode.NoContent, HttpMethod.Head, $"{onDomain}/{auditor}/inherited_to_projects", admin);
        Assert.Equal(["auditor"], Names((await host.JsonAsync(HttpMethod.Get, $"{onDomain}/inherited_to_projects", admin)).Body, "roles"));
        Assert.Empty(Names((await host.JsonAsync(HttpMethod.Get, $"/v3/domains/{domain}/users/{ian}/roles", admin)).Body, "roles"));

        var (_, stored) = await host.JsonAsync(HttpMethod.Get, $"/v3/role_assignments?user.id={ian}", admin);
        var grant = stored!["role_assignments"]!.AsArray().Single()!;
        Assert.Equal(domain, grant["scope"]!["domain"]!["id"]!.GetValue<string>());
        Assert.Equal("projects", grant["scope"]!["OS-INHERIT:inherited_to"]!.GetValue<string>());
        Assert.EndsWith($"/v3/OS-INHERIT/domains/{domain}/users/{ian}/roles/{auditor}/inherited_to_projects", grant["links"]!["assignment"]!.GetValue<string>());

        foreach (var project in new[] { top, leaf })
        {
            var effective = (await EffectiveAssignmentsAsync(host, admin, ian, project)).Single()!;
            Assert.Equal(project, effective["scope"]!["project"]!["id"]!.GetValue<string>());
            Assert.Equal(["auditor"], (await TokenRolesAsync(host, ian, "ianpw", ProjectIdScope(project)))!);
        }
        Assert.Null(await TokenRolesAsync(host, ian, "ianpw", new JsonObject { ["domain"] = new JsonObject { ["id"] = domain } }));

        await ExpectAsync(host, HttpStatusCode.NoContent, HttpMethod.Delete, $"{onDomain}/{auditor}/inherited_to_projects", admin);
        Assert.Empty(await EffectiveAssignmentsAsync(host, admin, ian, leaf));
        Assert.Null(await TokenRolesAsync(host, ian, "ianpw", ProjectIdScope(top)));

        // On a project: its subtree, not the project itself.
        var onTop = $"/v3/OS-INHERIT/projects/{top}/users/{ian}/roles/{auditor}/inherited_to_projects";
        await ExpectAsync(host, HttpStatusCode.NoContent, HttpMethod.Put, onTop, admin);
        await ExpectAsync(host, HttpStatusCode.NoContent, HttpMethod.Head, onTop, admin);
        Assert.Equal(["auditor"], (await TokenRolesAsync(host, ian, "ianpw", ProjectIdScope(leaf)))!);
        Assert.Null(await TokenRolesAsync(host, ian, "ianpw", ProjectIdScope(top)));
        Assert.Empty(await EffectiveAssignmentsAsync(host, admin, ian, top));
        await ExpectAsync(host, HttpStatusCode.NoContent, HttpMethod.Delete, onTop, admin);
        Assert.Null(await TokenRolesAsync(host, ian, "ianpw", ProjectIdScope(leaf)));

        // Through a group: the effective listing names the membership.
        var group = await host.CreateAsync(admin, "groups", "group", new JsonObject { ["name"] = "auditors", ["domain_id"] = "default" });
        await ExpectAsync(host, HttpStatusCode.NoContent, HttpMethod.Put, $"/v3/groups/{group}/users/{ian}", admin);
        await ExpectAsync(host, HttpStatusCode.NoContent, HttpMethod.Put, $"/v3/OS-INHERIT/domains/{domain}/groups/{group}/roles/{auditor}/inherited_to_projects", admin);
        var viaGroup = (await EffectiveAssignmentsAsync(host, admin, ian, leaf)).Single()!;
        Assert.EndsWith($"/v3/groups/{group}/users/{ian}", viaGroup["links"]!["membership"]!.GetValue<string>());
        Assert.Equal(["auditor"], (await TokenRolesAsync(host, ian, "ianpw", ProjectIdScope(leaf)))!);
    }

    [Fact]
    public async Task Revoking_a_rescoped_token_leaves_the_token_it_came_from_usable()
    {
        await using var host = await StartAsync();
        var admin = await host.AdminTokenAsync();
        var (p1, user) = await host.ProjectWithUserAsync(admin, "p1", "rex", "rexpw");
        var p2 = await host.CreateAsync(admin, "projects", "project", new JsonObject { ["name"] = "p2" });
        await ExpectAsync(host, HttpStatusCode.NoContent, HttpMethod.Put, $"/v3/projects/{p2}/users/{user}/roles/{await host.RoleIdAsync(admin, "member")}", admin);
        var (unscoped, _) = await host.LoginAsync("rex", "rexpw");

        async Task<string> RescopeAsync(string project)
        {
            var body = new JsonObject
            {
                ["auth"] = new JsonObject
                {
                    ["identity"] = new JsonObject { ["methods"] = new JsonArray("token"), ["token"] = new JsonObject { ["id"] = unscoped } },
                    ["scope"] = ProjectIdScope(project),
                },
            };
            using var response = await host.SendAsync(HttpMethod.Post, "/v3/auth/tokens", null, body);
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            return response.Headers.GetValues("X-Subject-Token").Single();
        }

        var first = await RescopeAsync(p1);
        using (var revoke = await host.SendAsync(HttpMethod.Delete, "/v3/auth/tokens", admin, headers: new Dictionary<string, string> { ["X-Subject-Token"] = first }))
            Assert.Equal(HttpStatusCode.NoContent, revoke.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await host.JsonAsync(HttpMethod.Get, "/v3/auth/projects", first)).Status);
        var second = await RescopeAsync(p2);
        Assert.Equal(HttpStatusCode.OK, (await host.JsonAsync(HttpMethod.Get, "/v3/auth/projects", second)).Status);
        Assert.Equal(HttpStatusCode.OK, (await host.JsonAsync(HttpMethod.Get, "/v3/auth/projects", unscoped)).Status);
    }
}
