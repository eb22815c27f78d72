using System.Net;
using System.Text.Json.Nodes;

namespace StorageCloud.Identity.Tests;

// Keystone's extension APIs: OS-OAUTH1 consumers, policies, OS-EP-FILTER endpoint groups and domain configurations.
public abstract partial class IdentityApiSuite
{
    private static JsonObject Wrap(string kind, JsonObject fields) => new() { [kind] = fields };

    [Fact]
    public async Task Oauth_consumers_show_their_secret_once_and_are_admin_only()
    {
        await using var host = await StartAsync();
        var admin = await host.AdminTokenAsync();
        var (status, created) = await host.JsonAsync(HttpMethod.Post, "/v3/OS-OAUTH1/consumers", admin,
            Wrap("consumer", new JsonObject { ["description"] = "ci bot", ["owner"] = "ops" }));
        Assert.Equal(HttpStatusCode.Created, status);
        var consumer = created!["consumer"]!;
        var id = consumer["id"]!.GetValue<string>();
        Assert.Equal(64, consumer["secret"]!.GetValue<string>().Length);
        Assert.Equal("ops", consumer["owner"]!.GetValue<string>());
        Assert.EndsWith($"/v3/OS-OAUTH1/consumers/{id}", consumer["links"]!["self"]!.GetValue<string>());

        var (_, shown) = await host.JsonAsync(HttpMethod.Get, $"/v3/OS-OAUTH1/consumers/{id}", admin);
        Assert.Equal("ci bot", shown!["consumer"]!["description"]!.GetValue<string>());
        Assert.Null(shown["consumer"]!["secret"]);
        var (_, list) = await host.JsonAsync(HttpMethod.Get, "/v3/OS-OAUTH1/consumers", admin);
        Assert.Contains(list!["consumers"]!.AsArray(), c => c!["id"]!.GetValue<string>() == id && c["secret"] is null);

        var (patched, patchedBody) = await host.JsonAsync(HttpMethod.Patch, $"/v3/OS-OAUTH1/consumers/{id}", admin, Wrap("consumer", new JsonObject { ["description"] = "renamed" }));
        Assert.Equal(HttpStatusCode.OK, patched);
        Assert.Equal("renamed", patchedBody!["consumer"]!["description"]!.GetValue<string>());
        // The secret is the server's: an update may not set it.
        Assert.Equal(HttpStatusCode.BadRequest, (await host.JsonAsync(HttpMethod.Patch, $"/v3/OS-OAUTH1/consumers/{id}", admin,
            Wrap("consumer", new JsonObject { ["secret"] = "mine" }))).Status);

        await host.ProjectWithUserAsync(admin, "p", "mallory", "mallorypw");
        var (mallory, _) = await host.LoginAsync("mallory", "mallorypw", IdentityHost.ProjectScope("p"));
        Assert.Equal(HttpStatusCode.Forbidden, (await host.JsonAsync(HttpMethod.Get, "/v3/OS-OAUTH1/consumers", mallory)).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await host.JsonAsync(HttpMethod.Post, "/v3/OS-OAUTH1/consumers", mallory, Wrap("consumer", new JsonObject()))).Status);

        Assert.Equal(HttpStatusCode.NoContent, (await host.JsonAsync(HttpMethod.Delete, $"/v3/OS-OAUTH1/consumers/{id}", admin)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await host.JsonAsync(HttpMethod.Get, $"/v3/OS-OAUTH1/consumers/{id}", admin)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await host.JsonAsync(HttpMethod.Delete, $"/v3/OS-OAUTH1/consumers/{id}", admin)).Status);
    }

    [Fact]
    public async Task Policies_keep_their_blob_and_type()
    {
        await using var host = await StartAsync();
        var admin = await host.AdminTokenAsync();
        var id = await host.CreateAsync(admin, "policies", "policy", new JsonObject { ["blob"] = "{\"rule\": \"role:admin\"}", ["type"] = "application/json" });
        await host.CreateAsync(admin, "policies", "policy", new JsonObject { ["blob"] = "x", ["type"] = "text/plain" });
        Assert.Equal(HttpStatusCode.BadRequest, (await host.JsonAsync(HttpMethod.Post, "/v3/policies", admin, Wrap("policy", new JsonObject { ["type"] = "t" }))).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await host.JsonAsync(HttpMethod.Post, "/v3/policies", admin,
            Wrap("policy", new JsonObject { ["type"] = new string('t', 256), ["blob"] = "b" }))).Status);

        var (_, byType) = await host.JsonAsync(HttpMethod.Get, "/v3/policies?type=application/json", admin);
        Assert.Equal(id, byType!["policies"]!.AsArray().Single()!["id"]!.GetValue<string>());
        var (patched, patchedBody) = await host.JsonAsync(HttpMethod.Patch, $"/v3/policies/{id}", admin, Wrap("policy", new JsonObject { ["type"] = "application/yaml" }));
        Assert.Equal(HttpStatusCode.OK, patched);
        Assert.Equal("application/yaml", patchedBody!["policy"]!["type"]!.GetValue<string>());
        var (_, shown) = await host.JsonAsync(HttpMethod.Get, $"/v3/policies/{id}", admin);
        Assert.Equal("{\"rule\": \"role:admin\"}", shown!["policy"]!["blob"]!.GetValue<string>());
        Assert.Equal("application/yaml", shown["policy"]!["type"]!.GetValue<string>());

        Assert.Equal(HttpStatusCode.NoContent, (await host.JsonAsync(HttpMethod.Delete, $"/v3/policies/{id}", admin)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await host.JsonAsync(HttpMethod.Get, $"/v3/policies/{id}", admin)).Status);
    }

    [Fact]
    public async Task Endpoint_groups_filter_the_catalogs_endpoints()
    {
        await using var host = await StartAsync();
        var admin = await host.AdminTokenAsync();
        var service = await host.CreateAsync(admin, "services", "service", new JsonObject { ["type"] = "metric", ["name"] = "gnocchi" });
        var endpoint = await host.CreateAsync(admin, "endpoints", "endpoint",
            new JsonObject { ["service_id"] = service, ["interface"] = "internal", ["url"] = "http://127.0.0.1:8041", ["region_id"] = "RegionOne" });
        const string Groups = "/v3/OS-EP-FILTER/endpoint_groups";

        var (status, created) = await host.JsonAsync(HttpMethod.Post, Groups, admin,
            Wrap("endpoint_group", new JsonObject { ["name"] = "metrics", ["description"] = "d", ["filters"] = new JsonObject { ["service_id"] = service } }));
        Assert.Equal(HttpStatusCode.Created, status);
        var group = created!["endpoint_group"]!;
        var id = group["id"]!.GetValue<string>();
        // The listing shows each group exactly as it was created.
        var (_, list) = await host.JsonAsync(HttpMethod.Get, Groups, admin);
        Assert.Contains(list!["endpoint_groups"]!.AsArray(), g => JsonNode.DeepEquals(g, group));
        using (var head = await host.SendAsync(HttpMethod.Head, $"{Groups}/{id}", admin)) Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        var (_, endpoints) = await host.JsonAsync(HttpMethod.Get, $"{Groups}/{id}/endpoints", admin);
        Assert.Equal(endpoint, endpoints!["endpoints"]!.AsArray().Single()!["id"]!.GetValue<string>());

        var (patched, patchedBody) = await host.JsonAsync(HttpMethod.Patch, $"{Groups}/{id}", admin,
            Wrap("endpoint_group", new JsonObject { ["name"] = "public-ones", ["filters"] = new JsonObject { ["interface"] = "public" } }));
        Assert.Equal(HttpStatusCode.OK, patched);
        Assert.Equal("public", patchedBody!["endpoint_group"]!["filters"]!["interface"]!.GetValue<string>());
        Assert.Null(patchedBody["endpoint_group"]!["filters"]!["service_id"]);
        var (_, publicOnes) = await host.JsonAsync(HttpMethod.Get, $"{Groups}/{id}/endpoints", admin);
        Assert.DoesNotContain(publicOnes!["endpoints"]!.AsArray(), e => e!["id"]!.GetValue<string>() == endpoint);

        // Filters are required, and only on what an endpoint has.
        Assert.Equal(HttpStatusCode.BadRequest, (await host.JsonAsync(HttpMethod.Post, Groups, admin, Wrap("endpoint_group", new JsonObject { ["name"] = "n" }))).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await host.JsonAsync(HttpMethod.Post, Groups, admin,
            Wrap("endpoint_group", new JsonObject { ["name"] = "n", ["filters"] = new JsonObject { ["url"] = "x" } }))).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await host.JsonAsync(HttpMethod.Post, Groups, admin,
            Wrap("endpoint_group", new JsonObject { ["name"] = "n", ["filters"] = new JsonObject { ["interface"] = "sideways" } }))).Status);

        Assert.Equal(HttpStatusCode.NoContent, (await host.JsonAsync(HttpMethod.Delete, $"{Groups}/{id}", admin)).Status);
        using (var gone = await host.SendAsync(HttpMethod.Head, $"{Groups}/{id}", admin)) Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
    }

    [Fact]
    public async Task Domain_configurations_have_groups_options_and_defaults()
    {
        await using var host = await StartAsync();
        var admin = await host.AdminTokenAsync();
        var domain = await host.CreateAsync(admin, "domains", "domain", new JsonObject { ["name"] = "ldapland" });
        var config = $"/v3/domains/{domain}/config";

        var (_, defaults) = await host.JsonAsync(HttpMethod.Get, "/v3/domains/config/default", admin);
        Assert.Equal("sql", defaults!["config"]!["identity"]!["driver"]!.GetValue<string>());
        Assert.True(defaults["config"]!["identity"]!.AsObject().ContainsKey("list_limit"));
        var (_, ldapDefaults) = await host.JsonAsync(HttpMethod.Get, "/v3/domains/config/ldap/default", admin);
        Assert.False(ldapDefaults!["config"]!["ldap"]!.AsObject().ContainsKey("password"));
        var (_, urlDefault) = await host.JsonAsync(HttpMethod.Get, "/v3/domains/config/ldap/url/default", admin);
        Assert.Equal("ldap://localhost", urlDefault!["config"]!["url"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.Forbidden, (await host.JsonAsync(HttpMethod.Get, "/v3/domains/config/ldap/password/default", admin)).Status);

        Assert.Equal(HttpStatusCode.NotFound, (await host.JsonAsync(HttpMethod.Get, config, admin)).Status);
        var body = new JsonObject
        {
            ["identity"] = new JsonObject { ["driver"] = "ldap" },
            ["ldap"] = new JsonObject { ["url"] = "ldap://ldap.example:389/", ["password"] = "bind-secret" },
        };
        var (created, createdBody) = await host.JsonAsync(HttpMethod.Put, config, admin, Wrap("config", body));
        Assert.Equal(HttpStatusCode.Created, created);
        // The bind password is kept but never shown.
        Assert.Null(createdBody!["config"]!["ldap"]!["password"]);
        Assert.Equal(HttpStatusCode.OK, (await host.JsonAsync(HttpMethod.Put, config, admin, Wrap("config", body.DeepClone().AsObject()))).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await host.JsonAsync(HttpMethod.Get, $"{config}/ldap/password", admin)).Status);

        var (_, group) = await host.JsonAsync(HttpMethod.Get, $"{config}/identity", admin);
        Assert.Equal("ldap", group!["config"]!["identity"]!["driver"]!.GetValue<string>());
        var (_, option) = await host.JsonAsync(HttpMethod.Get, $"{config}/ldap/url", admin);
        Assert.Equal("ldap://ldap.example:389/", option!["config"]!["url"]!.GetValue<string>());

        var (groupPatched, groupBody) = await host.JsonAsync(HttpMethod.Patch, $"{config}/identity", admin,
            Wrap("config", new JsonObject { ["identity"] = new JsonObject { ["driver"] = "sql", ["list_limit"] = 25 } }));
        Assert.Equal(HttpStatusCode.OK, groupPatched);
        Assert.Equal(25, groupBody!["config"]!["identity"]!["list_limit"]!.GetValue<int>());
        var (optionPatched, optionBody) = await host.JsonAsync(HttpMethod.Patch, $"{config}/identity/driver", admin, Wrap("config", new JsonObject { ["driver"] = "ldap" }));
        Assert.Equal(HttpStatusCode.OK, optionPatched);
        Assert.Equal("ldap", optionBody!["config"]!["identity"]!["driver"]!.GetValue<string>());
        // An update names what is there; a group, or another group's option, is refused.
        Assert.Equal(HttpStatusCode.NotFound, (await host.JsonAsync(HttpMethod.Patch, $"{config}/ldap/user_tree_dn", admin,
            Wrap("config", new JsonObject { ["user_tree_dn"] = "ou=x" }))).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await host.JsonAsync(HttpMethod.Patch, $"{config}/identity", admin,
            Wrap("config", new JsonObject { ["ldap"] = new JsonObject { ["url"] = "ldap://x" } }))).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await host.JsonAsync(HttpMethod.Put, config, admin,
            Wrap("config", new JsonObject { ["assignment"] = new JsonObject { ["driver"] = "sql" } }))).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await host.JsonAsync(HttpMethod.Get, $"{config}/identity/nosuch", admin)).Status);

        Assert.Equal(HttpStatusCode.NoContent, (await host.JsonAsync(HttpMethod.Delete, $"{config}/identity/driver", admin)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await host.JsonAsync(HttpMethod.Get, $"{config}/identity/driver", admin)).Status);
        Assert.Equal(HttpStatusCode.NoContent, (await host.JsonAsync(HttpMethod.Delete, $"{config}/identity", admin)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await host.JsonAsync(HttpMethod.Get, $"{config}/identity", admin)).Status);
        Assert.Equal(HttpStatusCode.NoContent, (await host.JsonAsync(HttpMethod.Delete, config, admin)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await host.JsonAsync(HttpMethod.Get, config, admin)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await host.JsonAsync(HttpMethod.Get, "/v3/domains/nosuch/config", admin)).Status);
    }
}
