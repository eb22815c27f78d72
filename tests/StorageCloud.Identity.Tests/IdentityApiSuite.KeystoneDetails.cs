using System.Net;
using System.Text.Json.Nodes;

namespace StorageCloud.Identity.Tests;

// Smaller points where Keystone's behaviour is what clients (Tempest among them) rely on: project tags, projects
// acting as domains, name lengths, chosen region ids, legacy endpoint regions, credential and password updates.
public abstract partial class IdentityApiSuite
{
    [Fact]
    public async Task Project_tags_are_listed_replaced_checked_and_removed()
    {
        await using var host = await StartAsync();
        var admin = await host.AdminTokenAsync();
        var project = await host.CreateAsync(admin, "projects", "project", new JsonObject { ["name"] = "tagged", ["tags"] = new JsonArray("a", "b") });
        var tags = $"/v3/projects/{project}/tags";
        var (_, shown) = await host.JsonAsync(HttpMethod.Get, $"/v3/projects/{project}", admin);
        var (_, listed) = await host.JsonAsync(HttpMethod.Get, "/v3/projects?name=tagged", admin);
        Assert.True(JsonNode.DeepEquals(shown!["project"], listed!["projects"]![0]));
        Assert.Equal(["a", "b"], shown["project"]!["tags"]!.AsArray().Select(t => t!.GetValue<string>()).ToArray());

        using (var added = await host.SendAsync(HttpMethod.Put, $"{tags}/c", admin, new JsonObject()))
        {
            Assert.Equal(HttpStatusCode.Created, added.StatusCode);
            Assert.EndsWith($"/v3/projects/{project}/tags/c", added.Headers.Location!.ToString());
        }
        Assert.Equal(HttpStatusCode.NoContent, (await host.JsonAsync(HttpMethod.Get, $"{tags}/c", admin)).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await host.JsonAsync(HttpMethod.Put, $"{tags}/c", admin, new JsonObject())).Status);

        var (replaced, replacedBody) = await host.JsonAsync(HttpMethod.Put, tags, admin, new JsonObject { ["tags"] = new JsonArray("x", "y") });
        Assert.Equal(HttpStatusCode.OK, replaced);
        Assert.Equal(["x", "y"], replacedBody!["tags"]!.AsArray().Select(t => t!.GetValue<string>()).ToArray());
        Assert.Equal(HttpStatusCode.NotFound, (await host.JsonAsync(HttpMethod.Get, $"{tags}/a", admin)).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await host.JsonAsync(HttpMethod.Put, tags, admin, new JsonObject { ["tags"] = new JsonArray("x", "x") })).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await host.JsonAsync(HttpMethod.Put, tags, admin, new JsonObject { ["tags"] = new JsonArray("a,b") })).Status);

        Assert.Equal(HttpStatusCode.NoContent, (await host.JsonAsync(HttpMethod.Delete, $"{tags}/x", admin)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await host.JsonAsync(HttpMethod.Delete, $"{tags}/x", admin)).Status);
        Assert.Equal(HttpStatusCode.NoContent, (await host.JsonAsync(HttpMethod.Delete, tags, admin)).Status);
        var (_, empty) = await host.JsonAsync(HttpMethod.Get, tags, admin);
        Assert.Empty(empty!["tags"]!.AsArray());
        Assert.Equal(HttpStatusCode.NotFound, (await host.JsonAsync(HttpMethod.Get, "/v3/projects/nosuch/tags", admin)).Status);
    }

    [Fact]
    public async Task A_project_acting_as_a_domain_is_a_domain()
    {
        await using var host = await StartAsync();
        var admin = await host.AdminTokenAsync();
        var (status, created) = await host.JsonAsync(HttpMethod.Post, "/v3/projects", admin,
            new JsonObject { ["project"] = new JsonObject { ["name"] = "acme", ["domain_id"] = null, ["is_domain"] = true } });
        Assert.Equal(HttpStatusCode.Created, status);
        var id = created!["project"]!["id"]!.GetValue<string>();
        Assert.True(created["project"]!["is_domain"]!.GetValue<bool>());
        Assert.Contains(id, (await host.JsonAsync(HttpMethod.Get, "/v3/domains", admin)).Body!["domains"]!.AsArray().Select(d => d!["id"]!.GetValue<string>()));
        Assert.Contains(id, (await host.JsonAsync(HttpMethod.Get, "/v3/projects?is_domain=True", admin)).Body!["projects"]!.AsArray().Select(p => p!["id"]!.GetValue<string>()));
        Assert.DoesNotContain(id, (await host.JsonAsync(HttpMethod.Get, "/v3/projects", admin)).Body!["projects"]!.AsArray().Select(p => p!["id"]!.GetValue<string>()));

        Assert.Equal(HttpStatusCode.Forbidden, (await host.JsonAsync(HttpMethod.Delete, $"/v3/projects/{id}", admin)).Status);
        Assert.Equal(HttpStatusCode.OK, (await host.JsonAsync(HttpMethod.Patch, $"/v3/projects/{id}", admin, new JsonObject { ["project"] = new JsonObject { ["enabled"] = false } })).Status);
        Assert.False((await host.JsonAsync(HttpMethod.Get, $"/v3/domains/{id}", admin)).Body!["domain"]!["enabled"]!.GetValue<bool>());
        Assert.Equal(HttpStatusCode.NoContent, (await host.JsonAsync(HttpMethod.Delete, $"/v3/projects/{id}", admin)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await host.JsonAsync(HttpMethod.Get, $"/v3/domains/{id}", admin)).Status);
    }

    [Fact]
    public async Task Names_are_checked_as_Keystone_checks_them()
    {
        await using var host = await StartAsync();
        var admin = await host.AdminTokenAsync();
        var longName = new string('a', 65);
        Assert.Equal(HttpStatusCode.BadRequest, (await host.JsonAsync(HttpMethod.Post, "/v3/projects", admin, new JsonObject { ["project"] = new JsonObject { ["name"] = longName } })).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await host.JsonAsync(HttpMethod.Post, "/v3/domains", admin, new JsonObject { ["domain"] = new JsonObject { ["name"] = longName } })).Status);
        await host.CreateAsync(admin, "projects", "project", new JsonObject { ["name"] = new string('a', 64) });
        // A user in a domain that does not exist: the domain is not found.
        Assert.Equal(HttpStatusCode.NotFound, (await host.JsonAsync(HttpMethod.Post, "/v3/users", admin,
            new JsonObject { ["user"] = new JsonObject { ["name"] = "u", ["password"] = "p", ["domain_id"] = "nosuch" } })).Status);
    }

    [Fact]
    public async Task Regions_take_chosen_ids_parents_and_endpoints_legacy_region_names()
    {
        await using var host = await StartAsync();
        var admin = await host.AdminTokenAsync();
        var (put, putBody) = await host.JsonAsync(HttpMethod.Put, "/v3/regions/east", admin, new JsonObject { ["region"] = new JsonObject { ["description"] = "e" } });
        Assert.Equal(HttpStatusCode.Created, put);
        Assert.Equal("east", putBody!["region"]!["id"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.Conflict, (await host.JsonAsync(HttpMethod.Put, "/v3/regions/east", admin, new JsonObject { ["region"] = new JsonObject() })).Status);
        var child = await host.CreateAsync(admin, "regions", "region", new JsonObject { ["parent_region_id"] = "east" });
        var (moved, movedBody) = await host.JsonAsync(HttpMethod.Patch, $"/v3/regions/{child}", admin,
            new JsonObject { ["region"] = new JsonObject { ["parent_region_id"] = "RegionOne" } });
        Assert.Equal(HttpStatusCode.OK, moved);
        Assert.Equal("RegionOne", movedBody!["region"]!["parent_region_id"]!.GetValue<string>());
        // A region cannot sit below itself.
        Assert.Equal(HttpStatusCode.BadRequest, (await host.JsonAsync(HttpMethod.Patch, "/v3/regions/RegionOne", admin,
            new JsonObject { ["region"] = new JsonObject { ["parent_region_id"] = child } })).Status);

        var service = await host.CreateAsync(admin, "services", "service", new JsonObject { ["type"] = "metric" });
        // "region" (not region_id) names a region to create when missing, as v2-era clients expect; a bad request makes none.
        Assert.Equal(HttpStatusCode.BadRequest, (await host.JsonAsync(HttpMethod.Post, "/v3/endpoints", admin, new JsonObject
        {
            ["endpoint"] = new JsonObject { ["service_id"] = service, ["interface"] = "public", ["url"] = "http://x", ["region"] = "west", ["enabled"] = "True" },
        })).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await host.JsonAsync(HttpMethod.Get, "/v3/regions/west", admin)).Status);
        var endpoint = await host.CreateAsync(admin, "endpoints", "endpoint",
            new JsonObject { ["service_id"] = service, ["interface"] = "public", ["url"] = "http://x", ["region"] = "west", ["enabled"] = true });
        Assert.Equal(HttpStatusCode.OK, (await host.JsonAsync(HttpMethod.Get, "/v3/regions/west", admin)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await host.JsonAsync(HttpMethod.Post, "/v3/endpoints", admin, new JsonObject
        {
            ["endpoint"] = new JsonObject { ["service_id"] = service, ["interface"] = "public", ["url"] = "http://x", ["region_id"] = "north" },
        })).Status);

        // A region with an endpoint stays; without it, it goes with its subregions.
        Assert.Equal(HttpStatusCode.Forbidden, (await host.JsonAsync(HttpMethod.Delete, "/v3/regions/west", admin)).Status);
        Assert.Equal(HttpStatusCode.NoContent, (await host.JsonAsync(HttpMethod.Delete, $"/v3/endpoints/{endpoint}", admin)).Status);
        Assert.Equal(HttpStatusCode.NoContent, (await host.JsonAsync(HttpMethod.Delete, "/v3/regions/west", admin)).Status);
        await host.CreateAsync(admin, "regions", "region", new JsonObject { ["id"] = "east-1", ["parent_region_id"] = "east" });
        Assert.Equal(HttpStatusCode.NoContent, (await host.JsonAsync(HttpMethod.Delete, "/v3/regions/east", admin)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await host.JsonAsync(HttpMethod.Get, "/v3/regions/east-1", admin)).Status);
    }

    [Fact]
    public async Task Credentials_passwords_and_application_credential_expiry_follow_keystone()
    {
        await using var host = await StartAsync();
        var admin = await host.AdminTokenAsync();
        var (projectId, userId) = await host.ProjectWithUserAsync(admin, "p", "ivy", "ivypw");

        // An ec2 credential's blob, access key included, can be replaced; its id stays.
        var credential = await host.CreateAsync(admin, "credentials", "credential", new JsonObject
        {
            ["user_id"] = userId, ["project_id"] = projectId, ["type"] = "ec2", ["blob"] = "{\"access\": \"a1\", \"secret\": \"s1\"}",
        });
        var (updated, updatedBody) = await host.JsonAsync(HttpMethod.Patch, $"/v3/credentials/{credential}", admin, new JsonObject
        {
            ["credential"] = new JsonObject { ["blob"] = "{\"access\": \"a2\", \"secret\": \"s2\"}", ["project_id"] = projectId, ["type"] = "ec2" },
        });
        Assert.Equal(HttpStatusCode.OK, updated);
        Assert.Equal(credential, updatedBody!["credential"]!["id"]!.GetValue<string>());
        Assert.Equal("a2", JsonNode.Parse(updatedBody["credential"]!["blob"]!.GetValue<string>())!["access"]!.GetValue<string>());

        // Anyone holding the original password may change it, an admin's token or none at all.
        Assert.Equal(HttpStatusCode.NoContent, (await host.JsonAsync(HttpMethod.Post, $"/v3/users/{userId}/password", admin,
            new JsonObject { ["user"] = new JsonObject { ["original_password"] = "ivypw", ["password"] = "ivypw2" } })).Status);
        Assert.Equal(HttpStatusCode.NoContent, (await host.JsonAsync(HttpMethod.Post, $"/v3/users/{userId}/password", null,
            new JsonObject { ["user"] = new JsonObject { ["original_password"] = "ivypw2", ["password"] = "ivypw3" } })).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await host.JsonAsync(HttpMethod.Post, "/v3/users/nosuch/password", null,
            new JsonObject { ["user"] = new JsonObject { ["original_password"] = "x", ["password"] = "y" } })).Status);
        // Past the revocation the password change made, which ends tokens issued up to that instant.
        host.Clock.Advance(TimeSpan.FromMilliseconds(5));
        var (ivy, _) = await host.LoginAsync("ivy", "ivypw3", IdentityHost.ProjectScope("p"));

        // The expiry is echoed as it was given, to the microsecond.
        var expires = DateTime.UtcNow.AddHours(1).ToString("yyyy-MM-dd'T'HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture) + ".123456";
        var (status, created) = await host.JsonAsync(HttpMethod.Post, $"/v3/users/{userId}/application_credentials", ivy,
            new JsonObject { ["application_credential"] = new JsonObject { ["name"] = "timed", ["expires_at"] = expires } });
        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Equal(expires, created!["application_credential"]!["expires_at"]!.GetValue<string>());
        var id = created["application_credential"]!["id"]!.GetValue<string>();
        var (_, shown) = await host.JsonAsync(HttpMethod.Get, $"/v3/users/{userId}/application_credentials/{id}", ivy);
        Assert.Equal(expires, shown!["application_credential"]!["expires_at"]!.GetValue<string>());
    }
}
