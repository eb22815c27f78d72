namespace StorageCloud.CompatTests;

/// <summary>
/// The seeds' network workflow with Debian's `openstack` CLI against the appliance's Neutron v2.0 API: an external
/// network (admin), a private network and subnet, a router with a gateway and an interface, an ssh rule in the
/// default security group, a port, a floating IP allocated and associated with it; every status as the CLI shows
/// it; another project sees none of it; teardown in Neutron's order.
/// </summary>
public sealed class OpenStackNetworkTests(AioFixture aio) : OpenStackCliTestBase(aio), IClassFixture<AioFixture>
{
    [Fact]
    public async Task The_seeds_network_flow_works_with_the_openstack_cli()
    {
        var admin = Env();
        var alice = await ProjectWithMemberAsync("net-alice");
        var bob = await ProjectWithMemberAsync("net-bob");
        var external = await OsJson(admin, "network", "create", "--external", "public");
        Assert.True(external["router:external"]!.GetValue<bool>());
        await Os(admin, "subnet", "create", "--network", "public", "--subnet-range", "172.24.4.0/24", "--no-dhcp", "public-subnet");

        var network = await OsJson(alice, "network", "create", "private");
        Assert.Equal("ACTIVE", network["status"]!.GetValue<string>());
        var subnet = await OsJson(alice, "subnet", "create", "--network", "private", "--subnet-range", "10.0.0.0/24", "--dns-nameserver", "10.0.0.53", "private-subnet");
        Assert.Equal("10.0.0.1", subnet["gateway_ip"]!.GetValue<string>());
        var router = await OsJson(alice, "router", "create", "r1");
        await Os(alice, "router", "set", "--external-gateway", "public", "r1");
        await Os(alice, "router", "add", "subnet", "r1", "private-subnet");
        var shownRouter = await OsJson(alice, "router", "show", "r1");
        Assert.Equal("ACTIVE", shownRouter["status"]!.GetValue<string>());
        Assert.Contains("172.24.4.", shownRouter["external_gateway_info"]!.ToJsonString());
        var rule = await OsJson(alice, "security", "group", "rule", "create", "--protocol", "tcp", "--dst-port", "22", "--remote-ip", "0.0.0.0/0", "default");
        Assert.Equal("22:22", rule["port_range"]?.GetValue<string>() ?? $"{rule["port_range_min"]}:{rule["port_range_max"]}");
        Assert.Contains("already exists", await OsFails(alice, "security", "group", "rule", "create", "--protocol", "tcp", "--dst-port", "22", "--remote-ip", "0.0.0.0/0", "default"));

        var port = await OsJson(alice, "port", "create", "--network", "private", "vm1-port");
        Assert.Equal("DOWN", port["status"]!.GetValue<string>());
        var floating = await OsJson(alice, "floating", "ip", "create", "public");
        var address = floating["floating_ip_address"]!.GetValue<string>();
        Assert.StartsWith("172.24.4.", address);
        await Os(alice, "floating", "ip", "set", "--port", "vm1-port", address);
        var associated = await OsJson(alice, "floating", "ip", "show", address);
        Assert.Equal("ACTIVE", associated["status"]!.GetValue<string>());
        Assert.Equal(Id(router), associated["router_id"]!.GetValue<string>());
        Assert.StartsWith("10.0.0.", associated["fixed_ip_address"]!.GetValue<string>());

        // Bob sees the external network, nothing of Alice's.
        var bobNetworks = await Os(bob, "network", "list", "-f", "value", "-c", "Name");
        Assert.Contains("public", bobNetworks);
        Assert.DoesNotContain("private", bobNetworks);
        Assert.Equal("", (await Os(bob, "floating", "ip", "list", "-f", "value")).Trim());
        Assert.Equal("", (await Os(bob, "router", "list", "-f", "value")).Trim());
        await OsFails(bob, "port", "show", Id(port));
        Assert.Contains("DHCP agent", await Os(admin, "network", "agent", "list", "-f", "value", "-c", "Agent Type"));

        await Os(alice, "floating", "ip", "unset", "--port", address);
        Assert.Equal("DOWN", (await OsJson(alice, "floating", "ip", "show", address))["status"]!.GetValue<string>());
        await Os(alice, "floating", "ip", "delete", address);
        await Os(alice, "port", "delete", "vm1-port");
        await Os(alice, "router", "remove", "subnet", "r1", "private-subnet");
        await Os(alice, "router", "delete", "r1");
        await Os(alice, "subnet", "delete", "private-subnet");
        await Os(alice, "network", "delete", "private");
        Assert.DoesNotContain("private", await Os(alice, "network", "list", "-f", "value", "-c", "Name"));
    }
}
