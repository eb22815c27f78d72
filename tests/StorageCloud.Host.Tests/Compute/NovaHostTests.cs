using System.Net;
using System.Text.Json.Nodes;

namespace StorageCloud.Host.Tests.Compute;

/// <summary>
/// The one host as Nova's admin APIs show it, over real HTTP on the all-in-one appliance: services with their filters
/// and microversioned keys, the hypervisor's views (detail, uptime, search, servers, with_servers), os-hosts (zones,
/// resources, a disabled host taking no new servers, power actions refused), the extensions list, and the quota check
/// of a resize to a larger flavor.
/// </summary>
public sealed class NovaHostTests(CloudFixture cloud) : IClassFixture<CloudFixture>
{
    private async Task<JsonNode> CallAsync(string token, HttpMethod method, string path, JsonObject? body = null, HttpStatusCode expected = HttpStatusCode.OK,
        string version = "compute 2.1")
    {
        var (status, reply) = await cloud.SendToAsync(cloud.ComputeUrl, method, "/v2.1" + path, token, body, version);
        Assert.True(status == expected, $"{method} {path}: {(int)status} {reply?.ToJsonString()}");
        return reply ?? new JsonObject();
    }

    private async Task<string> BootAsync(string token, string flavor = "1")
    {
        var imageId = await cloud.ImageAsync(token, new byte[4096], "h");
        var id = (await CallAsync(token, HttpMethod.Post, "/servers", new JsonObject
        {
            ["server"] = new JsonObject { ["name"] = "hosted", ["flavorRef"] = flavor, ["imageRef"] = imageId, ["networks"] = "none" },
        }, HttpStatusCode.Accepted))["server"]!["id"]!.GetValue<string>();
        return id;
    }

    private async Task<JsonNode> WaitAsync(string token, string id, string status)
    {
        for (var i = 0; i < 200; i++)
        {
            var server = (await CallAsync(token, HttpMethod.Get, $"/servers/{id}"))["server"]!;
            if (server["status"]!.GetValue<string>() == status) return server;
            await Task.Delay(100);
        }
        throw new TimeoutException($"server {id} never became {status}");
    }

    [Fact]
    public async Task Services_hypervisor_and_extensions_are_novas_views_of_the_one_host()
    {
        var (admin, _) = cloud.Admin;
        var (member, _) = cloud.A;
        var services = (await CallAsync(admin, HttpMethod.Get, "/os-services"))["services"]!.AsArray();
        Assert.Equal(3, services.Count);
        Assert.All(services, s => Assert.Null(s!["forced_down"]));
        Assert.All((await CallAsync(admin, HttpMethod.Get, "/os-services", version: "compute 2.11"))["services"]!.AsArray(), s => Assert.False(s!["forced_down"]!.GetValue<bool>()));
        Assert.Equal("nova-compute", (await CallAsync(admin, HttpMethod.Get, "/os-services?binary=nova-compute"))["services"]!.AsArray().Single()!["binary"]!.GetValue<string>());
        Assert.Empty((await CallAsync(admin, HttpMethod.Get, "/os-services?host=storagecloud&binary=xxx", version: "compute 2.53"))["services"]!.AsArray());
        Assert.Empty((await CallAsync(admin, HttpMethod.Get, "/os-services?host=elsewhere"))["services"]!.AsArray());

        var server = await BootAsync(member);
        await WaitAsync(member, server, "ACTIVE");
        var detail = (await CallAsync(admin, HttpMethod.Get, "/os-hypervisors/detail"))["hypervisors"]![0]!.AsObject();
        Assert.False(detail.ContainsKey("uptime"));
        Assert.Equal(System.Text.Json.JsonValueKind.String, detail["cpu_info"]!.GetValueKind());
        Assert.Equal("x86_64", (await CallAsync(admin, HttpMethod.Get, "/os-hypervisors/1", version: "compute 2.28"))["hypervisor"]!["cpu_info"]!["arch"]!.GetValue<string>());
        Assert.Contains(" up ", (await CallAsync(admin, HttpMethod.Get, "/os-hypervisors/1/uptime"))["hypervisor"]!["uptime"]!.GetValue<string>());
        Assert.Single((await CallAsync(admin, HttpMethod.Get, "/os-hypervisors/storage/search"))["hypervisors"]!.AsArray());
        var withServers = (await CallAsync(admin, HttpMethod.Get, "/os-hypervisors/storagecloud/servers"))["hypervisors"]![0]!["servers"]!.AsArray();
        Assert.Contains(withServers, s => s!["uuid"]!.GetValue<string>() == server);
        Assert.Contains((await CallAsync(admin, HttpMethod.Get, "/os-hypervisors?with_servers=True", version: "compute 2.53"))["hypervisors"]![0]!["servers"]!.AsArray(),
            s => s!["uuid"]!.GetValue<string>() == server);
        await CallAsync(admin, HttpMethod.Get, "/os-hypervisors/nowhere/search", expected: HttpStatusCode.NotFound);
        await CallAsync(admin, HttpMethod.Get, "/os-hypervisors/storagecloud/search", expected: HttpStatusCode.NotFound, version: "compute 2.53");
        await CallAsync(admin, HttpMethod.Get, "/os-hypervisors?with_servers=maybe", expected: HttpStatusCode.BadRequest, version: "compute 2.53");
        await CallAsync(member, HttpMethod.Get, "/os-hypervisors/1/servers", expected: HttpStatusCode.Forbidden);
        await CallAsync(member, HttpMethod.Get, "/os-hypervisors/1/uptime", expected: HttpStatusCode.Forbidden);

        var extensions = (await CallAsync(member, HttpMethod.Get, "/extensions"))["extensions"]!.AsArray();
        Assert.Contains(extensions, e => e!["name"]!.GetValue<string>() == "Hosts");
        Assert.Equal("os-consoles", (await CallAsync(member, HttpMethod.Get, "/extensions/os-consoles"))["extension"]!["alias"]!.GetValue<string>());
        await CallAsync(member, HttpMethod.Get, "/extensions/os-nothing", expected: HttpStatusCode.NotFound);
        await CallAsync(member, HttpMethod.Delete, $"/servers/{server}", expected: HttpStatusCode.NoContent);

        // The usage audit log: no audit task runs, so the last whole month shows the one host as not run.
        await CallAsync(member, HttpMethod.Get, "/os-instance_usage_audit_log", expected: HttpStatusCode.Forbidden);
        var audit = (await CallAsync(admin, HttpMethod.Get, "/os-instance_usage_audit_log"))["instance_usage_audit_logs"]!;
        Assert.Equal(1, audit["num_hosts_not_run"]!.GetValue<int>());
        Assert.EndsWith("-01 00:00:00", audit["period_ending"]!.GetValue<string>());
        var shown = (await CallAsync(admin, HttpMethod.Get, "/os-instance_usage_audit_log/2026-03-15%2010%3A00%3A00"))["instance_usage_audit_log"]!;
        Assert.Equal("2026-02-01 00:00:00", shown["period_beginning"]!.GetValue<string>());
        await CallAsync(admin, HttpMethod.Get, "/os-instance_usage_audit_log/invalid_time", expected: HttpStatusCode.BadRequest);

        // nova-network's views of the network service's networks (up to 2.35).
        var (_, made) = await cloud.SendToAsync(cloud.NetworkUrl, HttpMethod.Post, "/v2.0/networks", member, new JsonObject { ["network"] = new JsonObject { ["name"] = "legacy-net" } });
        var networkId = made!["network"]!["id"]!.GetValue<string>();
        await cloud.SendToAsync(cloud.NetworkUrl, HttpMethod.Post, "/v2.0/subnets", member,
            new JsonObject { ["subnet"] = new JsonObject { ["network_id"] = networkId, ["cidr"] = "10.66.0.0/24", ["ip_version"] = 4 } });
        var listed = (await CallAsync(member, HttpMethod.Get, "/os-tenant-networks"))["networks"]!.AsArray().Single(n => n!["id"]!.GetValue<string>() == networkId)!;
        Assert.Equal("legacy-net", listed["label"]!.GetValue<string>());
        Assert.Equal("10.66.0.0/24", listed["cidr"]!.GetValue<string>());
        Assert.Equal(3, listed.AsObject().Count);
        Assert.Equal("10.66.0.1", (await CallAsync(member, HttpMethod.Get, $"/os-networks/{networkId}"))["network"]!["gateway"]!.GetValue<string>());
        await CallAsync(cloud.B.Token, HttpMethod.Get, $"/os-tenant-networks/{networkId}", expected: HttpStatusCode.NotFound);
        await CallAsync(member, HttpMethod.Get, "/os-tenant-networks", expected: HttpStatusCode.NotFound, version: "compute 2.36");
    }

    [Fact]
    public async Task Hosts_show_zones_and_resources_and_a_disabled_host_takes_no_new_servers()
    {
        var (admin, _) = cloud.Admin;
        var (member, project) = cloud.B;
        var hosts = (await CallAsync(admin, HttpMethod.Get, "/os-hosts"))["hosts"]!.AsArray();
        Assert.Equal(3, hosts.Count);
        Assert.Equal("compute", (await CallAsync(admin, HttpMethod.Get, "/os-hosts?zone=nova"))["hosts"]!.AsArray().Single()!["service"]!.GetValue<string>());
        Assert.Empty((await CallAsync(admin, HttpMethod.Get, "/os-hosts?zone=xxx"))["hosts"]!.AsArray());
        await CallAsync(member, HttpMethod.Get, "/os-hosts", expected: HttpStatusCode.Forbidden);
        await CallAsync(admin, HttpMethod.Get, "/os-hosts", expected: HttpStatusCode.NotFound, version: "compute 2.43");

        var server = await BootAsync(member);
        await WaitAsync(member, server, "ACTIVE");
        var resources = (await CallAsync(admin, HttpMethod.Get, "/os-hosts/storagecloud"))["host"]!.AsArray().Select(l => l!["resource"]!).ToList();
        Assert.Equal("(total)", resources[0]["project"]!.GetValue<string>());
        Assert.Equal(512, resources.Single(l => l["project"]!.GetValue<string>() == project)["memory_mb"]!.GetValue<int>());
        await CallAsync(admin, HttpMethod.Get, "/os-hosts/nowhere", expected: HttpStatusCode.NotFound);
        await CallAsync(admin, HttpMethod.Get, "/os-hosts/storagecloud/reboot", expected: HttpStatusCode.NotImplemented);
        await CallAsync(admin, HttpMethod.Get, "/os-hosts/nowhere/shutdown", expected: HttpStatusCode.NotFound);
        foreach (var bad in new[] { new JsonObject { ["status"] = "invalid" }, new JsonObject { ["status"] = null, ["maintenance_mode"] = null }, new JsonObject() })
            await CallAsync(admin, HttpMethod.Put, "/os-hosts/storagecloud", bad, HttpStatusCode.BadRequest);
        await CallAsync(admin, HttpMethod.Put, "/os-hosts/nowhere", new JsonObject { ["status"] = "disable" }, HttpStatusCode.NotFound);

        // Disabled: the compute service says so and a new server ends in ERROR (no valid host); enabled again, it builds.
        Assert.Equal("disabled", (await CallAsync(admin, HttpMethod.Put, "/os-hosts/storagecloud", new JsonObject { ["status"] = "disable" }))["status"]!.GetValue<string>());
        try
        {
            Assert.Equal("disabled", (await CallAsync(admin, HttpMethod.Get, "/os-services?binary=nova-compute"))["services"]![0]!["status"]!.GetValue<string>());
            var refused = await WaitAsync(member, await BootAsync(member), "ERROR");
            Assert.Contains("No valid host", refused["fault"]!["message"]!.GetValue<string>());
        }
        finally
        {
            await CallAsync(admin, HttpMethod.Put, "/os-hosts/storagecloud", new JsonObject { ["status"] = "enable" });
        }
        await WaitAsync(member, await BootAsync(member), "ACTIVE");

        // A resize to a flavor beyond the server's own project's core quota is 403, whoever asks.
        await CallAsync(admin, HttpMethod.Put, $"/os-quota-sets/{project}", new JsonObject { ["quota_set"] = new JsonObject { ["cores"] = 3 } });
        try
        {
            var refusal = await CallAsync(admin, HttpMethod.Post, $"/servers/{server}/action", new JsonObject { ["resize"] = new JsonObject { ["flavorRef"] = "3" } }, HttpStatusCode.Forbidden);
            Assert.Contains("Quota exceeded for cores", refusal.ToJsonString());
        }
        finally
        {
            await CallAsync(admin, HttpMethod.Delete, $"/os-quota-sets/{project}", expected: HttpStatusCode.Accepted);
        }
    }

    [Fact]
    public async Task Aggregates_group_the_host_and_their_zone_takes_servers()
    {
        var (admin, _) = cloud.Admin;
        var (member, _) = cloud.A;
        JsonObject Aggregate(string name, string? zone = null) => new() { ["aggregate"] = new JsonObject { ["name"] = name, ["availability_zone"] = zone } };
        await CallAsync(member, HttpMethod.Post, "/os-aggregates", Aggregate("mine"), HttpStatusCode.Forbidden);
        var plain = (await CallAsync(admin, HttpMethod.Post, "/os-aggregates", Aggregate("plain")))["aggregate"]!.AsObject();
        Assert.Equal(System.Text.Json.JsonValueKind.Number, plain["id"]!.GetValueKind());
        Assert.False(plain.ContainsKey("hosts"));
        Assert.Null(plain["availability_zone"]);
        await CallAsync(admin, HttpMethod.Post, "/os-aggregates", Aggregate("plain"), HttpStatusCode.Conflict);
        await CallAsync(admin, HttpMethod.Post, "/os-aggregates", Aggregate(""), HttpStatusCode.BadRequest);
        await CallAsync(admin, HttpMethod.Get, "/os-aggregates/-1", expected: HttpStatusCode.NotFound);
        await CallAsync(member, HttpMethod.Get, $"/os-aggregates/{plain["id"]}", expected: HttpStatusCode.Forbidden);
        var metadata = (await CallAsync(admin, HttpMethod.Post, $"/os-aggregates/{plain["id"]}/action",
            new JsonObject { ["set_metadata"] = new JsonObject { ["metadata"] = new JsonObject { ["key"] = "value" } } }))["aggregate"]!["metadata"]!;
        Assert.Equal("""{"key":"value"}""", metadata.ToJsonString());

        // An aggregate with a zone: once it holds the host, servers may be created in that zone.
        var zoned = (await CallAsync(admin, HttpMethod.Post, "/os-aggregates", Aggregate("zoned", "zone-x"), version: "compute 2.41"))["aggregate"]!;
        Assert.True(Guid.TryParse(zoned["uuid"]!.GetValue<string>(), out _));
        var id = zoned["id"]!.GetValue<long>();
        Assert.Null(await BootInZoneAsync(member, "zone-x", HttpStatusCode.BadRequest));
        await CallAsync(admin, HttpMethod.Post, $"/os-aggregates/{id}/action", new JsonObject { ["add_host"] = new JsonObject { ["host"] = "nowhere" } }, HttpStatusCode.NotFound);
        var added = (await CallAsync(admin, HttpMethod.Post, $"/os-aggregates/{id}/action", new JsonObject { ["add_host"] = new JsonObject { ["host"] = "storagecloud" } }))["aggregate"]!;
        Assert.Equal("storagecloud", added["hosts"]![0]!.GetValue<string>());
        Assert.Equal("zone-x", added["metadata"]!["availability_zone"]!.GetValue<string>());
        await CallAsync(admin, HttpMethod.Post, $"/os-aggregates/{id}/action", new JsonObject { ["add_host"] = new JsonObject { ["host"] = "storagecloud" } }, HttpStatusCode.Conflict);
        await CallAsync(admin, HttpMethod.Delete, $"/os-aggregates/{id}", expected: HttpStatusCode.BadRequest);
        var made = (await BootInZoneAsync(member, "zone-x"))!;
        Assert.Equal("zone-x", (await WaitAsync(member, made, "ACTIVE"))["OS-EXT-AZ:availability_zone"]!.GetValue<string>());

        var removed = (await CallAsync(admin, HttpMethod.Post, $"/os-aggregates/{id}/action", new JsonObject { ["remove_host"] = new JsonObject { ["host"] = "storagecloud" } }))["aggregate"]!;
        Assert.Empty(removed["hosts"]!.AsArray());
        await CallAsync(admin, HttpMethod.Post, $"/os-aggregates/{id}/action", new JsonObject { ["remove_host"] = new JsonObject { ["host"] = "storagecloud" } }, HttpStatusCode.NotFound);
        var renamed = (await CallAsync(admin, HttpMethod.Put, $"/os-aggregates/{id}", new JsonObject { ["aggregate"] = new JsonObject { ["name"] = "renamed" } }))["aggregate"]!;
        Assert.NotNull(renamed["updated_at"]);
        Assert.Contains((await CallAsync(admin, HttpMethod.Get, "/os-aggregates"))["aggregates"]!.AsArray(), a => a!["name"]!.GetValue<string>() == "renamed");
        await CallAsync(admin, HttpMethod.Delete, $"/os-aggregates/{id}", expected: HttpStatusCode.OK);
        await CallAsync(admin, HttpMethod.Get, $"/os-aggregates/{id}", expected: HttpStatusCode.NotFound);
        await CallAsync(member, HttpMethod.Delete, $"/servers/{made}", expected: HttpStatusCode.NoContent);
    }

    private async Task<string?> BootInZoneAsync(string token, string zone, HttpStatusCode expected = HttpStatusCode.Accepted)
    {
        var imageId = await cloud.ImageAsync(token, new byte[4096], "z");
        var answer = await CallAsync(token, HttpMethod.Post, "/servers", new JsonObject
        {
            ["server"] = new JsonObject { ["name"] = "zoned", ["flavorRef"] = "1", ["imageRef"] = imageId, ["networks"] = "none", ["availability_zone"] = zone },
        }, expected);
        if (expected != HttpStatusCode.Accepted)
        {
            Assert.Contains("availability zone", answer.ToJsonString());
            return null;
        }
        return answer["server"]!["id"]!.GetValue<string>();
    }
}
