using System.Net;
using System.Text.Json.Nodes;
using StorageCloud.Auth;

namespace StorageCloud.Identity.Tests;

public abstract partial class IdentityApiSuite
{
    private static string[] Names(JsonObject? list, string plural) => list![plural]!.AsArray().Select(x => x!["name"]!.GetValue<string>()).Order().ToArray();

    [Fact]
    public async Task Projects_have_crud_filters_and_conflicts()
    {
        await using var host = await StartAsync();
        var admin = await host.AdminTokenAsync();
        var parent = await host.CreateAsync(admin, "projects", "project", new JsonObject { ["name"] = "parent", ["description"] = "top" });
        var child = await host.CreateAsync(admin, "projects", "project", new JsonObject { ["name"] = "child", ["parent_id"] = parent, ["enabled"] = false });
        var (dup, dupBody) = await host.JsonAsync(HttpMethod.Post, "/v3/projects", admin, new JsonObject { ["project"] = new JsonObject { ["name"] = "parent" } });
        Assert.Equal(HttpStatusCode.Conflict, dup);
        Assert.Equal("Conflict", dupBody!["error"]!["title"]!.GetValue<string>());

        var (_, shown) = await host.JsonAsync(HttpMethod.Get, $"/v3/projects/{child}", admin);
        Assert.Equal(parent, shown!["project"]!["parent_id"]!.GetValue<string>());
        Assert.False(shown["project"]!["enabled"]!.GetValue<bool>());
        Assert.Equal("default", shown["project"]!["domain_id"]!.GetValue<string>());
        Assert.EndsWith($"/v3/projects/{child}", shown["project"]!["links"]!["self"]!.GetValue<string>());

        Assert.Equal(["child"], Names((await host.JsonAsync(HttpMethod.Get, "/v3/projects?enabled=false", admin)).Body, "projects"));
        Assert.Equal(["child"], Names((await host.JsonAsync(HttpMethod.Get, $"/v3/projects?parent_id={parent}", admin)).Body, "projects"));
        Assert.Equal(["parent"], Names((await host.JsonAsync(HttpMethod.Get, "/v3/projects?name=parent", admin)).Body, "projects"));
        Assert.Equal(["admin", "child", "parent", "service"], Names((await host.JsonAsync(HttpMethod.Get, "/v3/projects?domain_id=default", admin)).Body, "projects"));

        var (patched, patchedBody) = await host.JsonAsync(HttpMethod.Patch, $"/v3/projects/{parent}", admin, new JsonObject { ["project"] = new JsonObject { ["description"] = "changed" } });
        Assert.Equal(HttpStatusCode.OK, patched);
        Assert.Equal("changed", patchedBody!["project"]!["description"]!.GetValue<string>());
        // A parent with children cannot go; its leaf can, then it can.
        Assert.Equal(HttpStatusCode.Forbidden, (await host.JsonAsync(HttpMethod.Delete, $"/v3/projects/{parent}", admin)).Status);
        Assert.Equal(HttpStatusCode.NoContent, (await host.JsonAsync(HttpMethod.Delete, $"/v3/projects/{child}", admin)).Status);
        Assert.Equal(HttpStatusCode.NoContent, (await host.JsonAsync(HttpMethod.Delete, $"/v3/projects/{parent}", admin)).Status);
        var (missing, missingBody) = await host.JsonAsync(HttpMethod.Get, $"/v3/projects/{parent}", admin);
        Assert.Equal(HttpStatusCode.NotFound, missing);
        Assert.Equal($"Could not find project: {parent}.", missingBody!["error"]!["message"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.BadRequest, (await host.JsonAsync(HttpMethod.Post, "/v3/projects", admin, new JsonObject { ["project"] = new JsonObject { ["name"] = "" } })).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await host.JsonAsync(HttpMethod.Post, "/v3/projects", admin, new JsonObject { ["project"] = new JsonObject { ["name"] = new string('x', 256) } })).Status);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, (await host.JsonAsync(HttpMethod.Put, "/v3/projects", admin, new JsonObject())).Status);
    }

    [Fact]
    public async Task Deleting_a_project_ends_the_tokens_scoped_to_it()
    {
        await using var host = await StartAsync();
        var admin = await host.AdminTokenAsync();
        var (projectId, userId) = await host.ProjectWithUserAsync(admin, "doomed", "dave", "davepw");
        var (dave, _) = await host.LoginAsync("dave", "davepw", IdentityHost.ProjectScope("doomed"));
        Assert.Equal(HttpStatusCode.OK, (await host.JsonAsync(HttpMethod.Get, $"/v3/projects/{projectId}", dave)).Status);
        Assert.Equal(HttpStatusCode.NoContent, (await host.JsonAsync(HttpMethod.Delete, $"/v3/projects/{projectId}", admin)).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await host.JsonAsync(HttpMethod.Get, $"/v3/users/{userId}", dave)).Status);
    }

    [Fact]
    public async Task Users_keep_extra_attributes_and_a_new_password_revokes_old_tokens()
    {
        await using var host = await StartAsync();
        var admin = await host.AdminTokenAsync();
        var (_, userId) = await host.ProjectWithUserAsync(admin, "p", "erin", "first");
        var (status, user) = await host.JsonAsync(HttpMethod.Patch, $"/v3/users/{userId}", admin,
            new JsonObject { ["user"] = new JsonObject { ["email"] = "erin@example.com", ["description"] = "ops" } });
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("erin@example.com", user!["user"]!["email"]!.GetValue<string>());
        Assert.Null(user["user"]!["password"]);
        var (old, _) = await host.LoginAsync("erin", "first", IdentityHost.ProjectScope("p"));
        host.Clock.Advance(TimeSpan.FromMilliseconds(5));

        // Self-service change needs the original password.
        Assert.Equal(HttpStatusCode.Unauthorized, (await host.JsonAsync(HttpMethod.Post, $"/v3/users/{userId}/password", old,
            new JsonObject { ["user"] = new JsonObject { ["original_password"] = "nope", ["password"] = "second" } })).Status);
        Assert.Equal(HttpStatusCode.NoContent, (await host.JsonAsync(HttpMethod.Post, $"/v3/users/{userId}/password", old,
            new JsonObject { ["user"] = new JsonObject { ["original_password"] = "first", ["password"] = "second" } })).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await host.JsonAsync(HttpMethod.Get, $"/v3/users/{userId}", old)).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await host.JsonAsync(HttpMethod.Post, "/v3/auth/tokens", null, IdentityHost.PasswordAuth("erin", "first"))).Status);
        host.Clock.Advance(TimeSpan.FromMilliseconds(5));
        var (fresh, _) = await host.LoginAsync("erin", "second", IdentityHost.ProjectScope("p"));
        Assert.Equal(HttpStatusCode.OK, (await host.JsonAsync(HttpMethod.Get, $"/v3/users/{userId}", fresh)).Status);

        Assert.Equal(["admin", "erin"], Names((await host.JsonAsync(HttpMethod.Get, "/v3/users", admin)).Body, "users"));
        Assert.Equal(HttpStatusCode.NoContent, (await host.JsonAsync(HttpMethod.Delete, $"/v3/users/{userId}", admin)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await host.JsonAsync(HttpMethod.Get, $"/v3/users/{userId}", admin)).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await host.JsonAsync(HttpMethod.Get, "/v3/auth/projects", fresh)).Status);
    }

    [Fact]
    public async Task Group_membership_carries_the_groups_roles_into_tokens_and_assignment_listings()
    {
        await using var host = await StartAsync();
        var admin = await host.AdminTokenAsync();
        var project = await host.CreateAsync(admin, "projects", "project", new JsonObject { ["name"] = "team" });
        var user = await host.CreateAsync(admin, "users", "user", new JsonObject { ["name"] = "frank", ["password"] = "frankpw" });
        var group = await host.CreateAsync(admin, "groups", "group", new JsonObject { ["name"] = "devs", ["description"] = "developers" });
        var member = await host.RoleIdAsync(admin, "member");
        Assert.Equal(HttpStatusCode.NoContent, (await host.JsonAsync(HttpMethod.Put, $"/v3/projects/{project}/groups/{group}/roles/{member}", admin)).Status);
        // No membership yet: no scope.
        Assert.Equal(HttpStatusCode.Unauthorized, (await host.JsonAsync(HttpMethod.Post, "/v3/auth/tokens", null, IdentityHost.PasswordAuth("frank", "frankpw", IdentityHost.ProjectScope("team")))).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await host.JsonAsync(HttpMethod.Head, $"/v3/groups/{group}/users/{user}", admin)).Status);
        Assert.Equal(HttpStatusCode.NoContent, (await host.JsonAsync(HttpMethod.Put, $"/v3/groups/{group}/users/{user}", admin)).Status);
        Assert.Equal(HttpStatusCode.NoContent, (await host.JsonAsync(HttpMethod.Head, $"/v3/groups/{group}/users/{user}", admin)).Status);
        Assert.Equal(["frank"], Names((await host.JsonAsync(HttpMethod.Get, $"/v3/groups/{group}/users", admin)).Body, "users"));
        var (_, token) = await host.LoginAsync("frank", "frankpw", IdentityHost.ProjectScope("team"));
        Assert.Equal(["member", "reader"], token["token"]!["roles"]!.AsArray().Select(r => r!["name"]!.GetValue<string>()).Order().ToArray());

        var (_, direct) = await host.JsonAsync(HttpMethod.Get, $"/v3/role_assignments?scope.project.id={project}&include_names=True", admin);
        var only = direct!["role_assignments"]!.AsArray().Single()!;
        Assert.Equal("devs", only["group"]!["name"]!.GetValue<string>());
        Assert.Equal("team", only["scope"]!["project"]!["name"]!.GetValue<string>());
        Assert.Equal("Default", only["scope"]!["project"]!["domain"]!["name"]!.GetValue<string>());
        var (_, effective) = await host.JsonAsync(HttpMethod.Get, $"/v3/role_assignments?effective&user.id={user}", admin);
        var rows = effective!["role_assignments"]!.AsArray();
        Assert.Equal(2, rows.Count);
        Assert.All(rows, r => Assert.EndsWith($"/groups/{group}/users/{user}", r!["links"]!["membership"]!.GetValue<string>()));

        Assert.Equal(HttpStatusCode.NoContent, (await host.JsonAsync(HttpMethod.Delete, $"/v3/groups/{group}/users/{user}", admin)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await host.JsonAsync(HttpMethod.Delete, $"/v3/groups/{group}/users/{user}", admin)).Status);
        Assert.Equal(HttpStatusCode.NoContent, (await host.JsonAsync(HttpMethod.Delete, $"/v3/projects/{project}/groups/{group}/roles/{member}", admin)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await host.JsonAsync(HttpMethod.Head, $"/v3/projects/{project}/groups/{group}/roles/{member}", admin)).Status);
        Assert.Equal(HttpStatusCode.NoContent, (await host.JsonAsync(HttpMethod.Delete, $"/v3/groups/{group}", admin)).Status);
    }

    [Fact]
    public async Task Roles_and_grants_have_crud_and_user_assignments_filter()
    {
        await using var host = await StartAsync();
        var admin = await host.AdminTokenAsync();
        var (projectId, userId) = await host.ProjectWithUserAsync(admin, "p", "gina", "ginapw", role: "reader");
        var role = await host.CreateAsync(admin, "roles", "role", new JsonObject { ["name"] = "auditor", ["description"] = "reads logs" });
        Assert.Equal(HttpStatusCode.Conflict, (await host.JsonAsync(HttpMethod.Post, "/v3/roles", admin, new JsonObject { ["role"] = new JsonObject { ["name"] = "auditor" } })).Status);
        Assert.Equal(HttpStatusCode.NoContent, (await host.JsonAsync(HttpMethod.Put, $"/v3/projects/{projectId}/users/{userId}/roles/{role}", admin)).Status);
        Assert.Equal(HttpStatusCode.NoContent, (await host.JsonAsync(HttpMethod.Head, $"/v3/projects/{projectId}/users/{userId}/roles/{role}", admin)).Status);
        Assert.Equal(["auditor", "reader"], Names((await host.JsonAsync(HttpMethod.Get, $"/v3/projects/{projectId}/users/{userId}/roles", admin)).Body, "roles"));
        var (_, mine) = await host.JsonAsync(HttpMethod.Get, $"/v3/role_assignments?user.id={userId}", admin);
        Assert.Equal(2, mine!["role_assignments"]!.AsArray().Count);
        Assert.Equal(HttpStatusCode.NotFound, (await host.JsonAsync(HttpMethod.Put, $"/v3/projects/{projectId}/users/{userId}/roles/nosuchrole", admin)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await host.JsonAsync(HttpMethod.Put, $"/v3/projects/nosuch/users/{userId}/roles/{role}", admin)).Status);
        var (_, renamed) = await host.JsonAsync(HttpMethod.Patch, $"/v3/roles/{role}", admin, new JsonObject { ["role"] = new JsonObject { ["name"] = "auditors" } });
        Assert.Equal("auditors", renamed!["role"]!["name"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.NoContent, (await host.JsonAsync(HttpMethod.Delete, $"/v3/roles/{role}", admin)).Status);
        Assert.Equal(["reader"], Names((await host.JsonAsync(HttpMethod.Get, $"/v3/projects/{projectId}/users/{userId}/roles", admin)).Body, "roles"));
    }

    [Fact]
    public async Task Members_see_only_their_own_scope()
    {
        await using var host = await StartAsync();
        var admin = await host.AdminTokenAsync();
        var (projectA, userA) = await host.ProjectWithUserAsync(admin, "A", "amy", "amypw");
        var (projectB, userB) = await host.ProjectWithUserAsync(admin, "B", "ben", "benpw");
        var (amy, _) = await host.LoginAsync("amy", "amypw", IdentityHost.ProjectScope("A"));
        Assert.Equal(HttpStatusCode.OK, (await host.JsonAsync(HttpMethod.Get, $"/v3/projects/{projectA}", amy)).Status);
        var (forbidden, body) = await host.JsonAsync(HttpMethod.Get, $"/v3/projects/{projectB}", amy);
        Assert.Equal(HttpStatusCode.Forbidden, forbidden);
        Assert.Equal("You are not authorized to perform the requested action: identity:get_project.", body!["error"]!["message"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.Forbidden, (await host.JsonAsync(HttpMethod.Get, "/v3/projects", amy)).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await host.JsonAsync(HttpMethod.Get, "/v3/users", amy)).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await host.JsonAsync(HttpMethod.Get, $"/v3/users/{userB}", amy)).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await host.JsonAsync(HttpMethod.Get, $"/v3/users/{userB}/projects", amy)).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await host.JsonAsync(HttpMethod.Post, "/v3/projects", amy, new JsonObject { ["project"] = new JsonObject { ["name"] = "mine" } })).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await host.JsonAsync(HttpMethod.Get, "/v3/role_assignments", amy)).Status);
        Assert.Equal(HttpStatusCode.OK, (await host.JsonAsync(HttpMethod.Get, $"/v3/users/{userA}", amy)).Status);
        Assert.Equal(["A"], Names((await host.JsonAsync(HttpMethod.Get, $"/v3/users/{userA}/projects", amy)).Body, "projects"));
        Assert.Equal(["A"], Names((await host.JsonAsync(HttpMethod.Get, "/v3/auth/projects", amy)).Body, "projects"));
        // amy may not validate ben's token, nor revoke it.
        var (ben, _) = await host.LoginAsync("ben", "benpw", IdentityHost.ProjectScope("B"));
        var subject = new Dictionary<string, string> { ["X-Subject-Token"] = ben };
        Assert.Equal(HttpStatusCode.Forbidden, (await host.JsonAsync(HttpMethod.Get, "/v3/auth/tokens", amy, headers: subject)).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await host.JsonAsync(HttpMethod.Delete, "/v3/auth/tokens", amy, headers: subject)).Status);
        Assert.Equal(HttpStatusCode.OK, (await host.JsonAsync(HttpMethod.Get, "/v3/auth/tokens", ben, headers: subject)).Status);
    }

    [Fact]
    public async Task The_catalog_has_crud_and_validates_endpoints()
    {
        await using var host = await StartAsync();
        var admin = await host.AdminTokenAsync();
        Assert.Equal(["RegionOne"], (await host.JsonAsync(HttpMethod.Get, "/v3/regions", admin)).Body!["regions"]!.AsArray().Select(r => r!["id"]!.GetValue<string>()).ToArray());
        var region = await host.CreateAsync(admin, "regions", "region", new JsonObject { ["id"] = "RegionTwo", ["description"] = "second" });
        Assert.Equal("RegionTwo", region);
        Assert.Equal(HttpStatusCode.Conflict, (await host.JsonAsync(HttpMethod.Post, "/v3/regions", admin, new JsonObject { ["region"] = new JsonObject { ["id"] = "RegionTwo" } })).Status);
        var service = await host.CreateAsync(admin, "services", "service", new JsonObject { ["type"] = "metric", ["name"] = "gnocchi" });
        var endpoint = await host.CreateAsync(admin, "endpoints", "endpoint",
            new JsonObject { ["service_id"] = service, ["interface"] = "public", ["url"] = "http://127.0.0.1:8041", ["region_id"] = "RegionTwo" });
        Assert.Equal(HttpStatusCode.BadRequest, (await host.JsonAsync(HttpMethod.Post, "/v3/endpoints", admin,
            new JsonObject { ["endpoint"] = new JsonObject { ["service_id"] = service, ["interface"] = "sideways", ["url"] = "http://x" } })).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await host.JsonAsync(HttpMethod.Post, "/v3/endpoints", admin,
            new JsonObject { ["endpoint"] = new JsonObject { ["service_id"] = service, ["interface"] = "public", ["url"] = "ftp://x" } })).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await host.JsonAsync(HttpMethod.Post, "/v3/endpoints", admin,
            new JsonObject { ["endpoint"] = new JsonObject { ["service_id"] = "nosuch", ["interface"] = "public", ["url"] = "http://x" } })).Status);
        var (_, filtered) = await host.JsonAsync(HttpMethod.Get, $"/v3/endpoints?service_id={service}", admin);
        Assert.Equal(endpoint, filtered!["endpoints"]!.AsArray().Single()!["id"]!.GetValue<string>());
        Assert.Equal(["gnocchi"], Names((await host.JsonAsync(HttpMethod.Get, "/v3/services?type=metric", admin)).Body, "services"));

        // The new service is in the next token's catalog, and gone once deleted.
        var (_, token) = await host.LoginAsync("admin", IdentityHost.AdminPassword, IdentityHost.ProjectScope("admin"));
        Assert.Contains(token["token"]!["catalog"]!.AsArray(), s => s!["type"]!.GetValue<string>() == "metric");
        Assert.Equal(HttpStatusCode.NoContent, (await host.JsonAsync(HttpMethod.Delete, $"/v3/services/{service}", admin)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await host.JsonAsync(HttpMethod.Get, $"/v3/endpoints/{endpoint}", admin)).Status);
        var (_, catalog) = await host.JsonAsync(HttpMethod.Get, "/v3/auth/catalog", admin);
        Assert.DoesNotContain(catalog!["catalog"]!.AsArray(), s => s!["type"]!.GetValue<string>() == "metric");
    }

    [Fact]
    public async Task Ec2_credentials_are_created_listed_resolved_and_deleted()
    {
        await using var host = await StartAsync();
        var admin = await host.AdminTokenAsync();
        var (projectId, userId) = await host.ProjectWithUserAsync(admin, "s3", "hank", "hankpw");
        var other = await host.CreateAsync(admin, "projects", "project", new JsonObject { ["name"] = "notmine" });
        var (hank, _) = await host.LoginAsync("hank", "hankpw", IdentityHost.ProjectScope("s3"));
        var (status, created) = await host.JsonAsync(HttpMethod.Post, $"/v3/users/{userId}/credentials/OS-EC2", hank, new JsonObject { ["tenant_id"] = projectId });
        Assert.Equal(HttpStatusCode.Created, status);
        var access = created!["credential"]!["access"]!.GetValue<string>();
        var secret = created["credential"]!["secret"]!.GetValue<string>();
        Assert.Equal(projectId, created["credential"]!["tenant_id"]!.GetValue<string>());
        // Keys for a project hank has no role on are refused.
        Assert.Equal(HttpStatusCode.Forbidden, (await host.JsonAsync(HttpMethod.Post, $"/v3/users/{userId}/credentials/OS-EC2", hank, new JsonObject { ["tenant_id"] = other })).Status);

        var (_, list) = await host.JsonAsync(HttpMethod.Get, $"/v3/users/{userId}/credentials/OS-EC2", hank);
        Assert.Equal(access, list!["credentials"]![0]!["access"]!.GetValue<string>());
        var (_, generic) = await host.JsonAsync(HttpMethod.Get, "/v3/credentials?type=ec2", hank);
        var blob = JsonNode.Parse(generic!["credentials"]![0]!["blob"]!.GetValue<string>())!;
        Assert.Equal(secret, blob["secret"]!.GetValue<string>());

        var resolver = (StorageCloud.Auth.Ec2Credentials)host.Services.GetService(typeof(StorageCloud.Auth.Ec2Credentials))!;
        var resolved = await resolver.ResolveAsync(access);
        Assert.NotNull(resolved);
        Assert.Equal(secret, resolved.Secret);
        Assert.Equal(projectId, resolved.Project.Id);
        Assert.Null(await resolver.ResolveAsync("nosuchkey"));

        // Nobody else's credentials are visible to hank.
        var adminUserId = (await host.JsonAsync(HttpMethod.Get, "/v3/users?name=admin", admin)).Body!["users"]![0]!["id"]!.GetValue<string>();
        Assert.Equal(HttpStatusCode.Forbidden, (await host.JsonAsync(HttpMethod.Get, $"/v3/users/{adminUserId}/credentials/OS-EC2", hank)).Status);

        Assert.Equal(HttpStatusCode.NoContent, (await host.JsonAsync(HttpMethod.Delete, $"/v3/users/{userId}/credentials/OS-EC2/{access}", hank)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await host.JsonAsync(HttpMethod.Get, $"/v3/users/{userId}/credentials/OS-EC2/{access}", hank)).Status);
        Assert.Null(await resolver.ResolveAsync(access));
        Assert.Equal(HttpStatusCode.BadRequest, (await host.JsonAsync(HttpMethod.Post, "/v3/credentials", admin, new JsonObject
        {
            ["credential"] = new JsonObject { ["user_id"] = userId, ["project_id"] = projectId, ["type"] = "ec2", ["blob"] = "not json" },
        })).Status);
    }

    [Fact]
    public async Task Domains_must_be_disabled_before_they_are_deleted()
    {
        await using var host = await StartAsync();
        var admin = await host.AdminTokenAsync();
        var domain = await host.CreateAsync(admin, "domains", "domain", new JsonObject { ["name"] = "acme" });
        var project = await host.CreateAsync(admin, "projects", "project", new JsonObject { ["name"] = "web", ["domain_id"] = domain });
        Assert.Equal(HttpStatusCode.Conflict, (await host.JsonAsync(HttpMethod.Post, "/v3/domains", admin, new JsonObject { ["domain"] = new JsonObject { ["name"] = "acme" } })).Status);
        Assert.Equal(["Default", "acme"], Names((await host.JsonAsync(HttpMethod.Get, "/v3/domains", admin)).Body, "domains"));
        Assert.Equal(HttpStatusCode.Forbidden, (await host.JsonAsync(HttpMethod.Delete, $"/v3/domains/{domain}", admin)).Status);
        Assert.Equal(HttpStatusCode.OK, (await host.JsonAsync(HttpMethod.Patch, $"/v3/domains/{domain}", admin, new JsonObject { ["domain"] = new JsonObject { ["enabled"] = false } })).Status);
        Assert.Equal(HttpStatusCode.NoContent, (await host.JsonAsync(HttpMethod.Delete, $"/v3/domains/{domain}", admin)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await host.JsonAsync(HttpMethod.Get, $"/v3/projects/{project}", admin)).Status);
    }
}
