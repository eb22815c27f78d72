using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;

namespace StorageCloud.Host.Tests.Compute;

/// <summary>
/// Nova's proxy APIs over real HTTP on the all-in-one appliance (images, security groups and rules, volumes and
/// snapshots, answered from the image, network and volume services in Nova's shapes, and gone from 2.36), the default
/// quota class, and the smaller points of Nova's contract: canonical access addresses, strict changes-since, the
/// console tail, the /v2 version document, the short answer of update.
/// </summary>
public sealed class NovaProxyTests(CloudFixture cloud) : IClassFixture<CloudFixture>
{
    private const string Legacy = "compute 2.1";

    private async Task<JsonNode> CallAsync(string token, HttpMethod method, string path, JsonObject? body = null, HttpStatusCode expected = HttpStatusCode.OK,
        string version = Legacy)
    {
        var (status, reply) = await cloud.SendToAsync(cloud.ComputeUrl, method, "/v2.1" + path, token, body, version);
        Assert.True(status == expected, $"{method} {path}: {(int)status} {reply?.ToJsonString()}");
        return reply ?? new JsonObject();
    }

    [Fact]
    public async Task Images_are_the_image_services_in_novas_shape_with_metadata_as_properties()
    {
        var (token, _) = cloud.A;
        var (_, created) = await cloud.SendToAsync(cloud.ImageUrl, HttpMethod.Post, "/v2/images", token,
            new JsonObject { ["name"] = "proxied", ["disk_format"] = "raw", ["container_format"] = "bare", ["min_disk"] = 2, ["os_distro"] = "cirros" });
        var id = created!["id"]!.GetValue<string>();
        var queued = (await CallAsync(token, HttpMethod.Get, $"/images/{id}"))["image"]!;
        Assert.Equal("SAVING", queued["status"]!.GetValue<string>());
        Assert.Equal(25, queued["progress"]!.GetValue<int>());
        using (var upload = new HttpRequestMessage(HttpMethod.Put, $"{cloud.ImageUrl}/v2/images/{id}/file") { Content = new ByteArrayContent(new byte[4096]) })
        {
            upload.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            upload.Headers.Add("X-Auth-Token", token);
            Assert.Equal(HttpStatusCode.NoContent, (await cloud.Http.SendAsync(upload)).StatusCode);
        }
        var image = (await CallAsync(token, HttpMethod.Get, $"/images/{id}"))["image"]!;
        Assert.Equal("ACTIVE", image["status"]!.GetValue<string>());
        Assert.Equal(2, image["minDisk"]!.GetValue<int>());
        Assert.Equal(4096, image["OS-EXT-IMG-SIZE:size"]!.GetValue<long>());
        Assert.Equal("""{"os_distro":"cirros"}""", image["metadata"]!.ToJsonString());
        var listed = (await CallAsync(token, HttpMethod.Get, "/images?name=proxied"))["images"]!.AsArray();
        Assert.Equal(id, listed.Single()!["id"]!.GetValue<string>());
        Assert.Equal(3, listed[0]!.AsObject().Count);
        Assert.Empty((await CallAsync(token, HttpMethod.Get, "/images/detail?name=proxied&status=SAVING"))["images"]!.AsArray());

        // Metadata: merge, one key, replace all, delete a key; all stored as the image's properties.
        await CallAsync(token, HttpMethod.Post, $"/images/{id}/metadata", new JsonObject { ["metadata"] = new JsonObject { ["purpose"] = "test" } });
        Assert.Equal("test", (await CallAsync(token, HttpMethod.Get, $"/images/{id}/metadata/purpose"))["meta"]!["purpose"]!.GetValue<string>());
        await CallAsync(token, HttpMethod.Put, $"/images/{id}/metadata/purpose", new JsonObject { ["meta"] = new JsonObject { ["other"] = "x" } }, HttpStatusCode.BadRequest);
        await CallAsync(token, HttpMethod.Put, $"/images/{id}/metadata", new JsonObject { ["metadata"] = new JsonObject { ["only"] = "this" } });
        Assert.Equal("""{"only":"this"}""", (await CallAsync(token, HttpMethod.Get, $"/images/{id}/metadata"))["metadata"]!.ToJsonString());
        var (_, glance) = await cloud.SendToAsync(cloud.ImageUrl, HttpMethod.Get, $"/v2/images/{id}", token);
        Assert.Equal("this", glance!["only"]!.GetValue<string>());
        Assert.Null(glance["os_distro"]);
        await CallAsync(token, HttpMethod.Delete, $"/images/{id}/metadata/only", expected: HttpStatusCode.NoContent);
        await CallAsync(token, HttpMethod.Delete, $"/images/{id}/metadata/only", expected: HttpStatusCode.NotFound);

        // Another project's private image, a malformed id, the proxy at 2.36, a blank id: 404.
        await CallAsync(cloud.B.Token, HttpMethod.Get, $"/images/{id}", expected: HttpStatusCode.NotFound);
        await CallAsync(cloud.B.Token, HttpMethod.Delete, $"/images/{id}", expected: HttpStatusCode.NotFound);
        await CallAsync(token, HttpMethod.Get, "/images/not-a-uuid", expected: HttpStatusCode.NotFound);
        await CallAsync(token, HttpMethod.Get, $"/images/{id}", expected: HttpStatusCode.NotFound, version: "compute 2.36");
        await CallAsync(token, HttpMethod.Delete, "/images/", expected: HttpStatusCode.NotFound);
        await CallAsync(token, HttpMethod.Delete, $"/images/{id}", expected: HttpStatusCode.NoContent);
        var (gone, _) = await cloud.SendToAsync(cloud.ImageUrl, HttpMethod.Get, $"/v2/images/{id}", token);
        Assert.Equal(HttpStatusCode.NotFound, gone);
    }

    [Fact]
    public async Task Security_groups_and_rules_are_the_network_services_in_novas_shape()
    {
        var (token, project) = cloud.A;
        var group = (await CallAsync(token, HttpMethod.Post, "/os-security-groups",
            new JsonObject { ["security_group"] = new JsonObject { ["name"] = " web ", ["description"] = "web servers" } }))["security_group"]!;
        var id = group["id"]!.GetValue<string>();
        Assert.Equal(" web ", group["name"]!.GetValue<string>());
        Assert.Equal(project, group["tenant_id"]!.GetValue<string>());
        Assert.Empty(group["rules"]!.AsArray());
        Assert.Contains((await CallAsync(token, HttpMethod.Get, "/os-security-groups"))["security_groups"]!.AsArray(), g => g!["id"]!.GetValue<string>() == id);

        JsonObject Rule(string protocol, object from, object to, string? cidr = null) => new()
        {
            ["security_group_rule"] = new JsonObject
            {
                ["parent_group_id"] = id, ["ip_protocol"] = protocol, ["from_port"] = JsonValue.Create(from), ["to_port"] = JsonValue.Create(to), ["cidr"] = cidr,
            },
        };
        var ssh = (await CallAsync(token, HttpMethod.Post, "/os-security-group-rules", Rule("tcp", 22, 22, "10.2.3.124/24")))["security_group_rule"]!;
        Assert.Equal("10.2.3.124/24", ssh["ip_range"]!["cidr"]!.GetValue<string>());
        Assert.Equal(22, ssh["from_port"]!.GetValue<int>());
        var ping = (await CallAsync(token, HttpMethod.Post, "/os-security-group-rules", Rule("icmp", -1, -1)))["security_group_rule"]!;
        Assert.Equal("0.0.0.0/0", ping["ip_range"]!["cidr"]!.GetValue<string>());
        Assert.Equal(-1, ping["to_port"]!.GetValue<int>());
        await CallAsync(token, HttpMethod.Post, "/os-security-group-rules", Rule("tcp", 22, 22, "10.2.3.124/24"), HttpStatusCode.BadRequest);
        await CallAsync(token, HttpMethod.Post, "/os-security-group-rules", Rule("gre", 1, 2), HttpStatusCode.BadRequest);
        await CallAsync(token, HttpMethod.Post, "/os-security-group-rules", Rule("tcp", 22, 21), HttpStatusCode.BadRequest);
        await CallAsync(token, HttpMethod.Post, "/os-security-group-rules", Rule("udp", 1, 65536), HttpStatusCode.BadRequest);
        var shown = (await CallAsync(token, HttpMethod.Get, $"/os-security-groups/{id}"))["security_group"]!;
        Assert.Equal(2, shown["rules"]!.AsArray().Count);

        await CallAsync(cloud.B.Token, HttpMethod.Get, $"/os-security-groups/{id}", expected: HttpStatusCode.NotFound);
        await CallAsync(token, HttpMethod.Get, "/os-security-groups/not-a-uuid", expected: HttpStatusCode.BadRequest);
        await CallAsync(token, HttpMethod.Get, $"/os-security-groups/{Guid.NewGuid()}", expected: HttpStatusCode.NotFound);
        var renamed = (await CallAsync(token, HttpMethod.Put, $"/os-security-groups/{id}",
            new JsonObject { ["security_group"] = new JsonObject { ["name"] = "web2", ["description"] = "d" } }))["security_group"]!;
        Assert.Equal("web2", renamed["name"]!.GetValue<string>());
        var defaultGroup = (await CallAsync(token, HttpMethod.Get, "/os-security-groups"))["security_groups"]!.AsArray().Single(g => g!["name"]!.GetValue<string>() == "default")!;
        await CallAsync(token, HttpMethod.Delete, $"/os-security-groups/{defaultGroup["id"]}", expected: HttpStatusCode.BadRequest);
        await CallAsync(token, HttpMethod.Delete, $"/os-security-group-rules/{ssh["id"]}", expected: HttpStatusCode.Accepted);
        await CallAsync(token, HttpMethod.Delete, $"/os-security-groups/{id}", expected: HttpStatusCode.Accepted);
        await CallAsync(token, HttpMethod.Get, $"/os-security-groups/{id}", expected: HttpStatusCode.NotFound);
        await CallAsync(token, HttpMethod.Get, "/os-security-groups", expected: HttpStatusCode.NotFound, version: "compute 2.36");
    }

    [Fact]
    public async Task Volumes_and_snapshots_are_the_volume_services_in_novas_shape()
    {
        var (token, _) = cloud.A;
        foreach (var size in new JsonNode?[] { "#$%", "0", "", null })
            await CallAsync(token, HttpMethod.Post, "/os-volumes", new JsonObject { ["volume"] = new JsonObject { ["size"] = size?.DeepClone() } }, HttpStatusCode.BadRequest);
        var volume = (await CallAsync(token, HttpMethod.Post, "/os-volumes",
            new JsonObject { ["volume"] = new JsonObject { ["size"] = "1", ["display_name"] = "legacy", ["metadata"] = new JsonObject { ["k"] = "v" } } }))["volume"]!;
        var id = volume["id"]!.GetValue<string>();
        Assert.Equal("legacy", volume["displayName"]!.GetValue<string>());
        Assert.Equal(1, volume["size"]!.GetValue<int>());
        Assert.Equal("[{}]", volume["attachments"]!.ToJsonString());
        for (var i = 0; i < 100 && (await CallAsync(token, HttpMethod.Get, $"/os-volumes/{id}"))["volume"]!["status"]!.GetValue<string>() != "available"; i++)
            await Task.Delay(100);
        Assert.Equal("v", (await CallAsync(token, HttpMethod.Get, $"/os-volumes/{id}"))["volume"]!["metadata"]!["k"]!.GetValue<string>());
        Assert.Single((await CallAsync(token, HttpMethod.Get, "/os-volumes/detail?limit=1"))["volumes"]!.AsArray());
        Assert.Contains((await CallAsync(token, HttpMethod.Get, "/os-volumes"))["volumes"]!.AsArray(), v => v!["id"]!.GetValue<string>() == id);

        var snapshot = (await CallAsync(token, HttpMethod.Post, "/os-snapshots",
            new JsonObject { ["snapshot"] = new JsonObject { ["volume_id"] = id, ["display_name"] = "snap" } }))["snapshot"]!;
        var snapshotId = snapshot["id"]!.GetValue<string>();
        Assert.Equal(id, snapshot["volumeId"]!.GetValue<string>());
        for (var i = 0; i < 100 && (await CallAsync(token, HttpMethod.Get, $"/os-snapshots/{snapshotId}"))["snapshot"]!["status"]!.GetValue<string>() != "available"; i++)
            await Task.Delay(100);
        Assert.Contains((await CallAsync(token, HttpMethod.Get, "/os-snapshots/detail"))["snapshots"]!.AsArray(), s => s!["displayName"]!.GetValue<string>() == "snap");
        await CallAsync(cloud.B.Token, HttpMethod.Get, $"/os-volumes/{id}", expected: HttpStatusCode.NotFound);
        await CallAsync(token, HttpMethod.Delete, "/os-volumes/not-a-uuid", expected: HttpStatusCode.NotFound);
        await CallAsync(token, HttpMethod.Get, "/os-volumes/", expected: HttpStatusCode.NotFound);
        await CallAsync(token, HttpMethod.Delete, $"/os-snapshots/{snapshotId}", expected: HttpStatusCode.Accepted);
        for (var i = 0; i < 100 && (await cloud.SendToAsync(cloud.ComputeUrl, HttpMethod.Get, $"/v2.1/os-snapshots/{snapshotId}", token, null, Legacy)).Status != HttpStatusCode.NotFound; i++)
            await Task.Delay(100);
        await CallAsync(token, HttpMethod.Delete, $"/os-volumes/{id}", expected: HttpStatusCode.Accepted);
    }

    [Fact]
    public async Task Floating_ips_are_the_network_services_allocated_and_associated_through_nova()
    {
        var (admin, _) = cloud.Admin;
        var (token, _) = cloud.A;
        async Task<JsonNode> Network(string t, HttpMethod method, string path, JsonObject? body = null)
        {
            var (status, reply) = await cloud.SendToAsync(cloud.NetworkUrl, method, "/v2.0" + path, t, body);
            Assert.True((int)status < 300, $"{method} {path}: {(int)status} {reply?.ToJsonString()}");
            return reply ?? new JsonObject();
        }
        var external = (await Network(admin, HttpMethod.Post, "/networks", new JsonObject { ["network"] = new JsonObject { ["name"] = "fip-pool", ["router:external"] = true } }))["network"]!["id"]!.GetValue<string>();
        await Network(admin, HttpMethod.Post, "/subnets", new JsonObject { ["subnet"] = new JsonObject { ["network_id"] = external, ["cidr"] = "172.30.0.0/24", ["ip_version"] = 4 } });
        var inside = (await Network(token, HttpMethod.Post, "/networks", new JsonObject { ["network"] = new JsonObject { ["name"] = "fip-inside" } }))["network"]!["id"]!.GetValue<string>();
        var subnet = (await Network(token, HttpMethod.Post, "/subnets", new JsonObject { ["subnet"] = new JsonObject { ["network_id"] = inside, ["cidr"] = "10.44.0.0/24", ["ip_version"] = 4 } }))["subnet"]!["id"]!.GetValue<string>();
        var router = (await Network(token, HttpMethod.Post, "/routers", new JsonObject { ["router"] = new JsonObject { ["name"] = "fip-r", ["external_gateway_info"] = new JsonObject { ["network_id"] = external } } }))["router"]!["id"]!.GetValue<string>();
        await Network(token, HttpMethod.Put, $"/routers/{router}/add_router_interface", new JsonObject { ["subnet_id"] = subnet });

        var imageId = await cloud.ImageAsync(token, new byte[4096], "f");
        var server = (await CallAsync(token, HttpMethod.Post, "/servers", new JsonObject
        {
            ["server"] = new JsonObject { ["name"] = "fip", ["flavorRef"] = "1", ["imageRef"] = imageId, ["networks"] = new JsonArray(new JsonObject { ["uuid"] = inside }) },
        }, HttpStatusCode.Accepted))["server"]!["id"]!.GetValue<string>();
        for (var i = 0; i < 100 && (await CallAsync(token, HttpMethod.Get, $"/servers/{server}"))["server"]!["status"]!.GetValue<string>() != "ACTIVE"; i++)
            await Task.Delay(100);

        Assert.Contains((await CallAsync(token, HttpMethod.Get, "/os-floating-ip-pools"))["floating_ip_pools"]!.AsArray(), p => p!["name"]!.GetValue<string>() == "fip-pool");
        await CallAsync(token, HttpMethod.Post, "/os-floating-ips", new JsonObject { ["pool"] = "no-such-pool" }, HttpStatusCode.NotFound);
        var ip = (await CallAsync(token, HttpMethod.Post, "/os-floating-ips", new JsonObject { ["pool"] = "fip-pool" }))["floating_ip"]!;
        var (id, address) = (ip["id"]!.GetValue<string>(), ip["ip"]!.GetValue<string>());
        Assert.StartsWith("172.30.0.", address);
        Assert.Null(ip["instance_id"]);
        Assert.Equal(ip.ToJsonString(), (await CallAsync(token, HttpMethod.Get, "/os-floating-ips"))["floating_ips"]!.AsArray().Single(f => f!["id"]!.GetValue<string>() == id)!.ToJsonString());

        await CallAsync(token, HttpMethod.Post, $"/servers/{server}/action", new JsonObject { ["addFloatingIp"] = new JsonObject { ["address"] = "0.0.0.0" } }, HttpStatusCode.NotFound);
        await CallAsync(token, HttpMethod.Post, $"/servers/{server}/action", new JsonObject { ["addFloatingIp"] = new JsonObject { ["address"] = address } }, HttpStatusCode.Accepted);
        var associated = (await CallAsync(token, HttpMethod.Get, $"/os-floating-ips/{id}"))["floating_ip"]!;
        Assert.Equal(server, associated["instance_id"]!.GetValue<string>());
        Assert.StartsWith("10.44.0.", associated["fixed_ip"]!.GetValue<string>());
        Assert.Contains((await CallAsync(token, HttpMethod.Get, $"/servers/{server}"))["server"]!["addresses"]!["fip-inside"]!.AsArray(), a => a!["addr"]!.GetValue<string>() == address);
        await CallAsync(token, HttpMethod.Post, $"/servers/{server}/action", new JsonObject { ["removeFloatingIp"] = new JsonObject { ["address"] = address } }, HttpStatusCode.Accepted);
        await CallAsync(token, HttpMethod.Post, $"/servers/{server}/action", new JsonObject { ["removeFloatingIp"] = new JsonObject { ["address"] = address } }, HttpStatusCode.Conflict);
        await CallAsync(token, HttpMethod.Post, $"/servers/{server}/action", new JsonObject { ["addFloatingIp"] = new JsonObject { ["address"] = address } }, HttpStatusCode.BadRequest, "compute 2.44");
        await CallAsync(cloud.B.Token, HttpMethod.Get, $"/os-floating-ips/{id}", expected: HttpStatusCode.NotFound);
        await CallAsync(token, HttpMethod.Delete, $"/os-floating-ips/{id}", expected: HttpStatusCode.Accepted);
        await CallAsync(token, HttpMethod.Get, $"/os-floating-ips/{id}", expected: HttpStatusCode.NotFound);
        await CallAsync(token, HttpMethod.Delete, $"/servers/{server}", expected: HttpStatusCode.NoContent);
    }

    [Fact]
    public async Task The_default_quota_class_sets_every_projects_defaults_and_smaller_points_hold()
    {
        var (admin, _) = cloud.Admin;
        var (token, project) = cloud.B;
        await CallAsync(token, HttpMethod.Put, "/os-quota-class-sets/default", new JsonObject { ["quota_class_set"] = new JsonObject { ["key_pairs"] = 7 } }, HttpStatusCode.Forbidden);
        var updated = (await CallAsync(admin, HttpMethod.Put, "/os-quota-class-sets/default",
            new JsonObject { ["quota_class_set"] = new JsonObject { ["key_pairs"] = 7, ["floating_ips"] = 3 } }))["quota_class_set"]!;
        Assert.Null(updated["id"]);
        Assert.Equal(7, updated["key_pairs"]!.GetValue<int>());
        try
        {
            Assert.Equal(7, (await CallAsync(admin, HttpMethod.Get, "/os-quota-class-sets/default"))["quota_class_set"]!["key_pairs"]!.GetValue<int>());
            Assert.Equal(7, (await CallAsync(token, HttpMethod.Get, $"/os-quota-sets/{project}"))["quota_set"]!["key_pairs"]!.GetValue<int>());
            Assert.Equal(7, (await CallAsync(token, HttpMethod.Get, $"/os-quota-sets/{project}/defaults"))["quota_set"]!["key_pairs"]!.GetValue<int>());
            await CallAsync(admin, HttpMethod.Put, "/os-quota-class-sets/default",
                new JsonObject { ["quota_class_set"] = new JsonObject { ["floating_ips"] = 3 } }, HttpStatusCode.BadRequest, "compute 2.50");
        }
        finally
        {
            await CallAsync(admin, HttpMethod.Put, "/os-quota-class-sets/default", new JsonObject { ["quota_class_set"] = new JsonObject { ["key_pairs"] = 100, ["floating_ips"] = 10 } });
        }

        // Canonical access addresses, Nova's 400s for the others; a strict changes-since; /v2's document.
        var server = new JsonObject { ["name"] = "addr", ["flavorRef"] = "1", ["networks"] = "none", ["accessIPv6"] = "0000:0000:0000:0000:0000:babe:220.12.22.2" };
        server["imageRef"] = await cloud.ImageAsync(token, new byte[4096], "i");
        foreach (var (field, value) in new[] { ("accessIPv4", "1.1.1.1.1.1"), ("accessIPv4", "1.1.1"), ("accessIPv6", "notvalid") })
        {
            var bad = (JsonObject)server.DeepClone();
            bad[field] = value;
            var refused = await CallAsync(token, HttpMethod.Post, "/servers", new JsonObject { ["server"] = bad }, HttpStatusCode.BadRequest);
            Assert.Contains(field, refused.ToJsonString());
        }
        var id = (await CallAsync(token, HttpMethod.Post, "/servers", new JsonObject { ["server"] = server }, HttpStatusCode.Accepted))["server"]!["id"]!.GetValue<string>();
        for (var i = 0; i < 100 && (await CallAsync(token, HttpMethod.Get, $"/servers/{id}"))["server"]!["status"]!.GetValue<string>() != "ACTIVE"; i++)
            await Task.Delay(100);
        Assert.Equal("::babe:dc0c:1602", (await CallAsync(token, HttpMethod.Get, $"/servers/{id}"))["server"]!["accessIPv6"]!.GetValue<string>());

        // Update answers Nova's short view below 2.75 (no extended attributes), the full one from 2.75.
        var renamed = (await CallAsync(token, HttpMethod.Put, $"/servers/{id}", new JsonObject { ["server"] = new JsonObject { ["name"] = "renamed" } }))["server"]!.AsObject();
        Assert.Equal("renamed", renamed["name"]!.GetValue<string>());
        Assert.False(renamed.ContainsKey("OS-EXT-STS:vm_state"));
        Assert.False(renamed.ContainsKey("key_name"));
        var full = (await CallAsync(token, HttpMethod.Put, $"/servers/{id}", new JsonObject { ["server"] = new JsonObject { ["name"] = "again" } }, version: "compute 2.75"))["server"]!.AsObject();
        Assert.True(full.ContainsKey("OS-EXT-STS:vm_state"));

        // The console tail is Nova's: the last N pieces of the log split at newlines.
        var tail = (await CallAsync(token, HttpMethod.Post, $"/servers/{id}/action", new JsonObject { ["os-getConsoleOutput"] = new JsonObject { ["length"] = 3 } }))["output"]!.GetValue<string>();
        Assert.Equal(3, tail.Split('\n').Length);
        Assert.EndsWith("\n", tail);
        await CallAsync(token, HttpMethod.Delete, $"/servers/{id}", expected: HttpStatusCode.NoContent);
        await CallAsync(token, HttpMethod.Get, "/servers?changes-since=2011%2F01%2F01", expected: HttpStatusCode.BadRequest);
        await CallAsync(token, HttpMethod.Get, "/servers?changes-since=2011-01-01T00:00:00Z");
        var (status, version) = await cloud.SendToAsync(cloud.ComputeUrl, HttpMethod.Get, "/v2/", null);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("v2.0", version!["version"]!["id"]!.GetValue<string>());
    }
}
