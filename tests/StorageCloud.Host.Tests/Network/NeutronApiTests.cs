using System.Net;
using System.Text.Json.Nodes;

namespace StorageCloud.Host.Tests.Network;

/// <summary>
/// The Neutron v2.0 API over real HTTP on the all-in-one appliance: addresses handed out without collision (also
/// when many ports are made at once) until a pool runs out, subnets that may not overlap, routers whose interfaces
/// and gateways take the right addresses, floating IPs that need a router path, security group rules checked as
/// Neutron checks them, quotas, tags, and projects that never see each other's resources; bad input answers
/// Neutron's error bodies.
/// </summary>
public sealed class NeutronApiTests(CloudFixture cloud) : IClassFixture<CloudFixture>
{
    private async Task<JsonNode> CallAsync(string token, HttpMethod method, string path, JsonObject? body = null, HttpStatusCode expected = HttpStatusCode.OK)
    {
        var (status, reply) = await cloud.SendToAsync(cloud.NetworkUrl, method, "/v2.0" + path, token, body);
        Assert.True(status == expected, $"{method} {path}: {(int)status} {reply?.ToJsonString()}");
        return reply ?? new JsonObject();
    }

    private async Task<string> CreateAsync(string token, string collection, string member, JsonObject body) =>
        (await CallAsync(token, HttpMethod.Post, "/" + collection, new JsonObject { [member] = body }, HttpStatusCode.Created))[member]!["id"]!.GetValue<string>();

    private async Task<string> ErrorTypeAsync(string token, HttpMethod method, string path, JsonObject? body, HttpStatusCode expected)
    {
        var reply = await CallAsync(token, method, path, body, expected);
        return reply["NeutronError"]!["type"]!.GetValue<string>();
    }

    [Fact]
    public async Task Addresses_are_handed_out_without_collision_until_the_pool_runs_out()
    {
        var token = cloud.A.Token;
        var network = await CreateAsync(token, "networks", "network", new JsonObject { ["name"] = "ipam" });
        var subnet = await CreateAsync(token, "subnets", "subnet", new JsonObject
        {
            ["network_id"] = network, ["cidr"] = "192.168.50.0/27", ["ip_version"] = 4,
            ["allocation_pools"] = new JsonArray(new JsonObject { ["start"] = "192.168.50.10", ["end"] = "192.168.50.29" }),
        });
        var shown = (await CallAsync(token, HttpMethod.Get, $"/subnets/{subnet}"))["subnet"]!;
        Assert.Equal("192.168.50.1", shown["gateway_ip"]!.GetValue<string>());

        // Twenty addresses, twenty ports made at once: each gets its own.
        var ports = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => CallAsync(token, HttpMethod.Post, "/ports",
            new JsonObject { ["port"] = new JsonObject { ["network_id"] = network, ["name"] = $"p{i}" } }, HttpStatusCode.Created)));
        var addresses = ports.Select(p => p["port"]!["fixed_ips"]![0]!["ip_address"]!.GetValue<string>()).ToList();
        Assert.Equal(20, addresses.Distinct().Count());
        Assert.All(addresses, a => Assert.InRange(int.Parse(a.Split('.')[3]), 10, 29));
        Assert.Equal(20, ports.Select(p => p["port"]!["mac_address"]!.GetValue<string>()).Distinct().Count());
        Assert.Equal("IpAddressGenerationFailure", await ErrorTypeAsync(token, HttpMethod.Post, "/ports",
            new JsonObject { ["port"] = new JsonObject { ["network_id"] = network } }, HttpStatusCode.Conflict));

        // A freed address is handed out again; a held one cannot be asked for.
        var first = ports[0]["port"]!;
        await CallAsync(token, HttpMethod.Delete, $"/ports/{first["id"]}", expected: HttpStatusCode.NoContent);
        var again = await CallAsync(token, HttpMethod.Post, "/ports", new JsonObject
        {
            ["port"] = new JsonObject { ["network_id"] = network, ["fixed_ips"] = new JsonArray(new JsonObject { ["ip_address"] = first["fixed_ips"]![0]!["ip_address"]!.GetValue<string>() }) },
        }, HttpStatusCode.Created);
        Assert.Equal(first["fixed_ips"]![0]!["ip_address"]!.GetValue<string>(), again["port"]!["fixed_ips"]![0]!["ip_address"]!.GetValue<string>());
        Assert.Equal("IpAddressAlreadyAllocated", await ErrorTypeAsync(token, HttpMethod.Post, "/ports", new JsonObject
        {
            ["port"] = new JsonObject { ["network_id"] = network, ["fixed_ips"] = new JsonArray(new JsonObject { ["ip_address"] = addresses[1] }) },
        }, HttpStatusCode.Conflict));
        Assert.Equal("MacAddressInUse", await ErrorTypeAsync(token, HttpMethod.Post, "/ports", new JsonObject
        {
            ["port"] = new JsonObject { ["network_id"] = network, ["mac_address"] = ports[1]["port"]!["mac_address"]!.GetValue<string>(), ["fixed_ips"] = new JsonArray() },
        }, HttpStatusCode.Conflict));

        // Subnets: overlaps, bad CIDRs, pools outside the range, a gateway inside a pool.
        Assert.Equal("InvalidInput", await ErrorTypeAsync(token, HttpMethod.Post, "/subnets",
            new JsonObject { ["subnet"] = new JsonObject { ["network_id"] = network, ["cidr"] = "192.168.50.16/28", ["ip_version"] = 4 } }, HttpStatusCode.BadRequest));
        var bad = await CallAsync(token, HttpMethod.Post, "/subnets",
            new JsonObject { ["subnet"] = new JsonObject { ["network_id"] = network, ["cidr"] = "10.9.0.1/24", ["ip_version"] = 4 } }, HttpStatusCode.BadRequest);
        Assert.Contains("10.9.0.0/24", bad["NeutronError"]!["message"]!.GetValue<string>());
        Assert.Equal("OutOfBoundsAllocationPool", await ErrorTypeAsync(token, HttpMethod.Post, "/subnets", new JsonObject
        {
            ["subnet"] = new JsonObject
            {
                ["network_id"] = network, ["cidr"] = "10.8.0.0/24", ["ip_version"] = 4,
                ["allocation_pools"] = new JsonArray(new JsonObject { ["start"] = "10.8.0.2", ["end"] = "10.8.1.9" }),
            },
        }, HttpStatusCode.BadRequest));
        Assert.Equal("GatewayConflictWithAllocationPools", await ErrorTypeAsync(token, HttpMethod.Post, "/subnets", new JsonObject
        {
            ["subnet"] = new JsonObject
            {
                ["network_id"] = network, ["cidr"] = "10.7.0.0/24", ["ip_version"] = 4, ["gateway_ip"] = "10.7.0.5",
                ["allocation_pools"] = new JsonArray(new JsonObject { ["start"] = "10.7.0.2", ["end"] = "10.7.0.9" }),
            },
        }, HttpStatusCode.Conflict));
        var v6 = (await CallAsync(token, HttpMethod.Post, "/subnets", new JsonObject
        {
            ["subnet"] = new JsonObject { ["network_id"] = network, ["cidr"] = "fd00:1::/64", ["ip_version"] = 6 },
        }, HttpStatusCode.Created))["subnet"]!;
        Assert.Equal("fd00:1::1", v6["gateway_ip"]!.GetValue<string>());
        Assert.Equal("SubnetInUse", await ErrorTypeAsync(token, HttpMethod.Delete, $"/subnets/{subnet}", null, HttpStatusCode.Conflict));
        Assert.Equal("NetworkInUse", await ErrorTypeAsync(token, HttpMethod.Delete, $"/networks/{network}", null, HttpStatusCode.Conflict));

        // Another project sees none of it.
        Assert.Equal("NetworkNotFound", await ErrorTypeAsync(cloud.B.Token, HttpMethod.Get, $"/networks/{network}", null, HttpStatusCode.NotFound));
        Assert.Empty((await CallAsync(cloud.B.Token, HttpMethod.Get, "/ports"))["ports"]!.AsArray());
        Assert.Equal("PortNotFound", await ErrorTypeAsync(cloud.B.Token, HttpMethod.Delete, $"/ports/{again["port"]!["id"]}", null, HttpStatusCode.NotFound));

        // Filters and fields.
        var filtered = (await CallAsync(token, HttpMethod.Get, $"/ports?network_id={network}&fixed_ips=ip_address%3D{addresses[2]}&fields=id&fields=name"))["ports"]!.AsArray();
        Assert.Single(filtered);
        Assert.Equal(2, filtered[0]!.AsObject().Count);
    }

    [Fact]
    public async Task Routers_floating_ips_and_security_groups_follow_neutrons_rules()
    {
        var admin = cloud.Admin.Token;
        var token = cloud.A.Token;
        var external = await CreateAsync(admin, "networks", "network", new JsonObject { ["name"] = "ext", ["router:external"] = true });
        await CreateAsync(admin, "subnets", "subnet", new JsonObject { ["network_id"] = external, ["cidr"] = "172.30.0.0/24", ["enable_dhcp"] = false });
        Assert.Equal(HttpStatusCode.Forbidden, (await cloud.SendToAsync(cloud.NetworkUrl, HttpMethod.Post, "/v2.0/networks", token,
            new JsonObject { ["network"] = new JsonObject { ["router:external"] = true } })).Status);
        // An external network is visible to every project.
        Assert.Contains((await CallAsync(token, HttpMethod.Get, "/networks?router:external=true"))["networks"]!.AsArray(), n => n!["id"]!.GetValue<string>() == external);

        var network = await CreateAsync(token, "networks", "network", new JsonObject { ["name"] = "inside" });
        var subnet = await CreateAsync(token, "subnets", "subnet", new JsonObject { ["network_id"] = network, ["cidr"] = "10.20.0.0/24", ["ip_version"] = 4 });
        var port = (await CallAsync(token, HttpMethod.Post, "/ports", new JsonObject { ["port"] = new JsonObject { ["network_id"] = network } }, HttpStatusCode.Created))["port"]!;
        var floating = (await CallAsync(token, HttpMethod.Post, "/floatingips", new JsonObject { ["floatingip"] = new JsonObject { ["floating_network_id"] = external } },
            HttpStatusCode.Created))["floatingip"]!;
        Assert.StartsWith("172.30.0.", floating["floating_ip_address"]!.GetValue<string>());
        Assert.Equal("DOWN", floating["status"]!.GetValue<string>());
        // No router joins the port's subnet to the external network yet.
        Assert.Equal("ExternalGatewayForFloatingIPNotFound", await ErrorTypeAsync(token, HttpMethod.Put, $"/floatingips/{floating["id"]}",
            new JsonObject { ["floatingip"] = new JsonObject { ["port_id"] = port["id"]!.GetValue<string>() } }, HttpStatusCode.NotFound));

        var router = await CreateAsync(token, "routers", "router", new JsonObject
        {
            ["name"] = "r1", ["external_gateway_info"] = new JsonObject { ["network_id"] = external },
        });
        var gateway = (await CallAsync(token, HttpMethod.Get, $"/routers/{router}"))["router"]!["external_gateway_info"]!;
        Assert.StartsWith("172.30.0.", gateway["external_fixed_ips"]![0]!["ip_address"]!.GetValue<string>());
        var added = await CallAsync(token, HttpMethod.Put, $"/routers/{router}/add_router_interface", new JsonObject { ["subnet_id"] = subnet });
        Assert.Equal(subnet, added["subnet_id"]!.GetValue<string>());
        var interfacePort = (await CallAsync(token, HttpMethod.Get, $"/ports/{added["port_id"]}"))["port"]!;
        Assert.Equal("10.20.0.1", interfacePort["fixed_ips"]![0]!["ip_address"]!.GetValue<string>());
        Assert.Equal("network:router_interface", interfacePort["device_owner"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.BadRequest, (await cloud.SendToAsync(cloud.NetworkUrl, HttpMethod.Put, $"/v2.0/routers/{router}/add_router_interface", token,
            new JsonObject { ["subnet_id"] = subnet })).Status);
        Assert.Equal("ServicePortInUse", await ErrorTypeAsync(token, HttpMethod.Delete, $"/ports/{added["port_id"]}", null, HttpStatusCode.Conflict));

        var associated = (await CallAsync(token, HttpMethod.Put, $"/floatingips/{floating["id"]}",
            new JsonObject { ["floatingip"] = new JsonObject { ["port_id"] = port["id"]!.GetValue<string>() } }))["floatingip"]!;
        Assert.Equal(port["fixed_ips"]![0]!["ip_address"]!.GetValue<string>(), associated["fixed_ip_address"]!.GetValue<string>());
        Assert.Equal(router, associated["router_id"]!.GetValue<string>());
        Assert.Equal("ACTIVE", associated["status"]!.GetValue<string>());
        Assert.Equal("RouterInUse", await ErrorTypeAsync(token, HttpMethod.Delete, $"/routers/{router}", null, HttpStatusCode.Conflict));

        // Security groups: the default group with its four rules; rules checked; duplicates refused.
        var groups = (await CallAsync(token, HttpMethod.Get, "/security-groups?name=default"))["security_groups"]!.AsArray();
        var defaultGroup = Assert.Single(groups)!;
        Assert.Equal(4, defaultGroup["security_group_rules"]!.AsArray().Count);
        Assert.Contains(defaultGroup["id"]!.GetValue<string>(), port["security_groups"]!.AsArray().Select(g => g!.GetValue<string>()));
        JsonObject Ssh() => new()
        {
            ["security_group_rule"] = new JsonObject
            {
                ["security_group_id"] = defaultGroup["id"]!.GetValue<string>(), ["direction"] = "ingress", ["protocol"] = "tcp", ["port_range_min"] = 22,
                ["port_range_max"] = 22, ["remote_ip_prefix"] = "0.0.0.0/0",
            },
        };
        await CallAsync(token, HttpMethod.Post, "/security-group-rules", Ssh(), HttpStatusCode.Created);
        Assert.Equal("SecurityGroupRuleExists", await ErrorTypeAsync(token, HttpMethod.Post, "/security-group-rules", Ssh(), HttpStatusCode.Conflict));
        var reversed = Ssh();
        reversed["security_group_rule"]!["port_range_min"] = 30;
        reversed["security_group_rule"]!["port_range_max"] = 20;
        Assert.Equal("SecurityGroupInvalidPortRange", await ErrorTypeAsync(token, HttpMethod.Post, "/security-group-rules", reversed, HttpStatusCode.BadRequest));
        var mixed = Ssh();
        mixed["security_group_rule"]!["ethertype"] = "IPv6";
        Assert.Equal("SecurityGroupRuleParameterConflict", await ErrorTypeAsync(token, HttpMethod.Post, "/security-group-rules", mixed, HttpStatusCode.BadRequest));
        Assert.Equal("SecurityGroupInUse", await ErrorTypeAsync(admin, HttpMethod.Delete, $"/security-groups/{defaultGroup["id"]}", null, HttpStatusCode.Conflict));
        Assert.Equal("SecurityGroupCannotRemoveDefault", await ErrorTypeAsync(token, HttpMethod.Delete, $"/security-groups/{defaultGroup["id"]}", null, HttpStatusCode.Conflict));

        // Tags.
        await CallAsync(token, HttpMethod.Put, $"/networks/{network}/tags/blue", expected: HttpStatusCode.Created);
        Assert.Single((await CallAsync(token, HttpMethod.Get, "/networks?tags=blue"))["networks"]!.AsArray());

        // Tearing down in Neutron's order.
        await CallAsync(token, HttpMethod.Delete, $"/floatingips/{floating["id"]}", expected: HttpStatusCode.NoContent);
        await CallAsync(token, HttpMethod.Put, $"/routers/{router}/remove_router_interface", new JsonObject { ["subnet_id"] = subnet });
        await CallAsync(token, HttpMethod.Delete, $"/routers/{router}", expected: HttpStatusCode.NoContent);
        await CallAsync(token, HttpMethod.Delete, $"/ports/{port["id"]}", expected: HttpStatusCode.NoContent);
        await CallAsync(token, HttpMethod.Delete, $"/networks/{network}", expected: HttpStatusCode.NoContent);
        // The external network's addresses came back: only its subnet remains, with no ports.
        Assert.Empty((await CallAsync(admin, HttpMethod.Get, $"/ports?network_id={external}"))["ports"]!.AsArray());
    }

    [Fact]
    public async Task Quotas_bad_input_and_the_version_documents_answer_as_neutron_does()
    {
        var (status, versions) = await cloud.SendToAsync(cloud.NetworkUrl, HttpMethod.Get, "/", null);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("v2.0", versions!["versions"]![0]!["id"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.Unauthorized, (await cloud.SendToAsync(cloud.NetworkUrl, HttpMethod.Get, "/v2.0/networks", null)).Status);

        var token = cloud.B.Token;
        await CallAsync(cloud.Admin.Token, HttpMethod.Put, $"/quotas/{cloud.B.Project}", new JsonObject { ["quota"] = new JsonObject { ["network"] = 1 } });
        Assert.Equal(1, (await CallAsync(token, HttpMethod.Get, $"/quotas/{cloud.B.Project}"))["quota"]!["network"]!.GetValue<int>());
        Assert.Equal(HttpStatusCode.Forbidden, (await cloud.SendToAsync(cloud.NetworkUrl, HttpMethod.Put, $"/v2.0/quotas/{cloud.B.Project}", token,
            new JsonObject { ["quota"] = new JsonObject { ["network"] = 10 } })).Status);
        await CreateAsync(token, "networks", "network", new JsonObject { ["name"] = "only" });
        Assert.Equal("OverQuota", await ErrorTypeAsync(token, HttpMethod.Post, "/networks", new JsonObject { ["network"] = new JsonObject { ["name"] = "second" } },
            HttpStatusCode.Conflict));
        var details = (await CallAsync(token, HttpMethod.Get, $"/quotas/{cloud.B.Project}/details"))["quota"]!;
        Assert.Equal(1, details["network"]!["used"]!.GetValue<int>());
        await CallAsync(cloud.Admin.Token, HttpMethod.Delete, $"/quotas/{cloud.B.Project}", expected: HttpStatusCode.NoContent);

        Assert.Equal(HttpStatusCode.BadRequest, (await cloud.SendToAsync(cloud.NetworkUrl, HttpMethod.Post, "/v2.0/networks", token, rawBody: "{not json")).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await cloud.SendToAsync(cloud.NetworkUrl, HttpMethod.Post, "/v2.0/networks", token,
            new JsonObject { ["network"] = new JsonObject { ["bogus"] = 1 } })).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await cloud.SendToAsync(cloud.NetworkUrl, HttpMethod.Post, "/v2.0/networks", token,
            new JsonObject { ["network"] = new JsonObject { ["admin_state_up"] = "perhaps" } })).Status);
        Assert.Equal("NetworkNotFound", await ErrorTypeAsync(token, HttpMethod.Get, "/networks/" + Guid.NewGuid(), null, HttpStatusCode.NotFound));
        Assert.Contains((await CallAsync(token, HttpMethod.Get, "/extensions"))["extensions"]!.AsArray(), e => e!["alias"]!.GetValue<string>() == "router");
    }
}
