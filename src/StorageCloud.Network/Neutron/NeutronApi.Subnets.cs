using System.Globalization;
using System.Text.Json.Nodes;
using StorageCloud.Network.Records;
using StorageCloud.Service.Api;

namespace StorageCloud.Network.Neutron;

public sealed partial class NeutronApi
{
    private void MapSubnets()
    {
        Map("GET", "/subnets", async r =>
        {
            Enforce(r, "read");
            // Another project's subnets show through a shared network only (an external network's stay hidden, as Neutron's do).
            var networks = (await AllAsync("network")).Where(n => Flag(n, "shared")).Select(n => Str(n, "id")).ToHashSet();
            await ListAsync(r, "subnets", (await AllAsync("subnet")).Where(s => Me(r).IsAdmin || Str(s, "project_id") == Me(r).ProjectId || networks.Contains(Str(s, "network_id"))));
        });
        Map("POST", "/subnets", r => CreateOneOrManyAsync(r, "subnet", "subnets", NewSubnetAsync, RemoveSubnetAsync));
        Map("GET", "/subnets/{id}", async r => await WriteAsync(r, 200, "subnet", await FindSubnetAsync(r, r.Args[0])));
        Map("PUT", "/subnets/{id}", UpdateSubnetAsync);
        Map("DELETE", "/subnets/{id}", DeleteSubnetAsync);
    }

    private async Task<JsonObject> FindSubnetAsync(ApiRequest r, string id)
    {
        var subnet = await LoadAsync("subnet", id);
        if (subnet is null) throw NotFound("SubnetNotFound", $"Subnet {id} could not be found.");
        if (Me(r).IsAdmin || Str(subnet, "project_id") == Me(r).ProjectId) return subnet;
        var network = await LoadAsync("network", Str(subnet, "network_id")!);
        if (network is null || !Flag(network, "shared")) throw NotFound("SubnetNotFound", $"Subnet {id} could not be found.");
        return subnet;
    }

    private static Cidr CidrOf(JsonObject subnet) => Ipam.ParseCidr(Str(subnet, "cidr")!, out _)!.Value;

    private static int VersionOf(JsonObject subnet) => subnet["ip_version"]!.GetValue<int>();

    /// <summary>Reads allocation pools: each inside the CIDR, start before end, no two overlapping, none holding the gateway.</summary>
    private static List<(UInt128 Start, UInt128 End)> Pools(JsonNode? node, Cidr cidr, UInt128? gateway)
    {
        if (node is null) return Ipam.DefaultPools(cidr, gateway);
        if (node is not JsonArray array) throw InvalidInput("allocation_pools must be a list of {start, end} objects.");
        var pools = new List<(UInt128, UInt128)>();
        foreach (var item in array)
        {
            var start = Ipam.ParseAddress(item?["start"]?.GetValue<string>(), cidr.Version);
            var end = Ipam.ParseAddress(item?["end"]?.GetValue<string>(), cidr.Version);
            if (start is null || end is null) throw BadRequest($"The allocation pool {item?.ToJsonString()} is not a pair of IPv{cidr.Version} addresses.", "InvalidAllocationPool");
            if (start > end || !cidr.Contains(start.Value) || !cidr.Contains(end.Value))
                throw BadRequest($"The allocation pool {item!["start"]}-{item["end"]} spans beyond the subnet cidr {cidr}.", "OutOfBoundsAllocationPool");
            pools.Add((start.Value, end.Value));
        }
        pools.Sort((a, b) => a.Item1.CompareTo(b.Item1));
        for (var i = 1; i < pools.Count; i++)
            if (pools[i].Item1 <= pools[i - 1].Item2) throw BadRequest("Found overlapping allocation pools.", "OverlappingAllocationPools");
        if (gateway is { } g && pools.Any(p => g >= p.Item1 && g <= p.Item2))
            throw Conflict("GatewayConflictWithAllocationPools", $"Gateway ip {Ipam.Format(g, cidr.Version)} conflicts with allocation pool.");
        return pools;
    }

    private static JsonArray PoolsJson(List<(UInt128 Start, UInt128 End)> pools, int version)
    {
        var array = new JsonArray();
        foreach (var (start, end) in pools) array.Add(new JsonObject { ["start"] = Ipam.Format(start, version), ["end"] = Ipam.Format(end, version) });
        return array;
    }

    private static UInt128? Gateway(JsonObject body, Cidr cidr)
    {
        if (!body.ContainsKey("gateway_ip")) return Ipam.DefaultGateway(cidr);
        if (body["gateway_ip"] is null) return null;
        var gateway = Ipam.ParseAddress(body["gateway_ip"]!.GetValue<string>(), cidr.Version)
            ?? throw InvalidInput($"'{body["gateway_ip"]}' is not a valid IP address for gateway_ip.");
        if (!cidr.Contains(gateway)) throw BadRequest($"Gateway IP {body["gateway_ip"]} is not in subnet {cidr}.", "InvalidInput");
        return gateway;
    }

    private async Task<JsonObject> NewSubnetAsync(ApiRequest r, JsonObject body)
    {
        Enforce(r, "write");
        Allowed(body, "subnet", "network_id", "cidr", "ip_version", "name", "gateway_ip", "allocation_pools", "enable_dhcp", "dns_nameservers", "host_routes",
            "ipv6_ra_mode", "ipv6_address_mode", "description", "subnetpool_id", "prefixlen", "service_types", "segment_id", "use_default_subnetpool", "dns_publish_fixed_ip");
        var networkId = StringField(body, "network_id") ?? throw InvalidInput("network_id is required.");
        var network = await FindNetworkAsync(r, networkId);
        if (!Me(r).IsAdmin && Str(network, "project_id") != Me(r).ProjectId)
            throw new ApiError(403, "(rule:create_subnet and rule:admin_or_network_owner) is disallowed by policy") { Kind = "PolicyNotAuthorized" };
        var cidrText = StringField(body, "cidr") ?? throw BadRequest("a cidr must be given (subnet pools are not offered).");
        var cidr = Ipam.ParseCidr(cidrText, out var recommended)
            ?? throw InvalidInput($"'{cidrText}' isn't a recognized IP subnet cidr{(recommended is null ? "" : $", '{recommended}' is recommended")}.");
        var version = body["ip_version"] is JsonValue v && v.TryGetValue<int>(out var iv) ? iv : body["ip_version"] is null ? cidr.Version : 0;
        if (version is not (4 or 6)) throw InvalidInput($"{body["ip_version"]?.ToJsonString()} is not in [4, 6].");
        if (version != cidr.Version) throw InvalidInput("Cidr and IP version are not compatible.");
        if (cidr.Last - cidr.First < 1 && version == 4) throw InvalidInput($"The cidr {cidr} is too small.");
        var gateway = Gateway(body, cidr);
        var pools = Pools(body["allocation_pools"], cidr, gateway);
        var project = OwnerOf(r, body);
        var subnet = Stamp(new JsonObject
        {
            ["name"] = StringField(body, "name") ?? "",
            ["network_id"] = networkId,
            ["ip_version"] = version,
            ["cidr"] = cidr.ToString(),
            ["gateway_ip"] = gateway is { } g ? Ipam.Format(g, version) : null,
            ["allocation_pools"] = PoolsJson(pools, version),
            ["enable_dhcp"] = BoolField(body, "enable_dhcp") ?? true,
            ["dns_nameservers"] = body["dns_nameservers"]?.DeepClone() ?? new JsonArray(),
            ["host_routes"] = body["host_routes"]?.DeepClone() ?? new JsonArray(),
            ["ipv6_ra_mode"] = StringField(body, "ipv6_ra_mode"),
            ["ipv6_address_mode"] = StringField(body, "ipv6_address_mode"),
            ["subnetpool_id"] = null,
            ["service_types"] = body["service_types"]?.DeepClone() ?? new JsonArray(),
            ["segment_id"] = null,
            ["description"] = StringField(body, "description"),
        }, project);
        await _gate.WaitAsync();
        try
        {
            foreach (var other in (await AllAsync("subnet")).Where(s => Str(s, "network_id") == networkId))
                if (CidrOf(other).Overlaps(cidr))
                    throw InvalidInput($"Requested subnet with cidr: {cidr} for network: {networkId} overlaps with another subnet");
            await CheckQuotaAsync(project, "subnet");
            await InsertAsync("subnet", subnet);
            network = (await LoadAsync("network", networkId))!;
            network["subnets"]!.AsArray().Add(Str(subnet, "id"));
            await SaveAsync("network", network);
        }
        finally
        {
            _gate.Release();
        }
        return subnet;
    }

    private async Task UpdateSubnetAsync(ApiRequest r)
    {
        Enforce(r, "write");
        var subnet = await FindOwnedAsync(r, "subnet", r.Args[0], "SubnetNotFound", "Subnet");
        var body = await BodyAsync(r, "subnet");
        Allowed(body, "subnet", "name", "gateway_ip", "allocation_pools", "enable_dhcp", "dns_nameservers", "host_routes", "description", "service_types", "dns_publish_fixed_ip");
        var cidr = CidrOf(subnet);
        if (StringField(body, "name") is { } name) subnet["name"] = name;
        if (StringField(body, "description") is { } description) subnet["description"] = description;
        if (BoolField(body, "enable_dhcp") is { } dhcp) subnet["enable_dhcp"] = dhcp;
        foreach (var list in new[] { "dns_nameservers", "host_routes", "service_types" })
            if (body[list] is JsonArray value) subnet[list] = value.DeepClone();
        if (body.ContainsKey("gateway_ip") || body["allocation_pools"] is not null)
        {
            var gateway = body.ContainsKey("gateway_ip") ? Gateway(body, cidr) : Ipam.ParseAddress(Str(subnet, "gateway_ip"), cidr.Version);
            var pools = body["allocation_pools"] is { } given ? Pools(given, cidr, gateway) : Pools(subnet["allocation_pools"], cidr, gateway);
            subnet["gateway_ip"] = gateway is { } g ? Ipam.Format(g, cidr.Version) : null;
            subnet["allocation_pools"] = PoolsJson(pools, cidr.Version);
        }
        await SaveAsync("subnet", subnet);
        await WriteAsync(r, 200, "subnet", subnet);
    }

    private async Task DeleteSubnetAsync(ApiRequest r)
    {
        Enforce(r, "write");
        var subnet = await FindOwnedAsync(r, "subnet", r.Args[0], "SubnetNotFound", "Subnet");
        var id = Str(subnet, "id")!;
        var held = await _store.ListAsync<IpAllocationRow>(("subnet_id", id));
        foreach (var allocation in held)
        {
            var port = await LoadAsync("port", allocation.PortId);
            if (port is not null && Str(port, "device_owner") != "network:dhcp")
                throw Conflict("SubnetInUse", $"Unable to complete operation on subnet {id}: One or more ports have an IP allocation from this subnet.");
        }
        await RemoveSubnetAsync(subnet);
        await ApiResponses.NoContent(r.Context, 204);
    }

    private async Task RemoveSubnetAsync(JsonObject subnet)
    {
        var id = Str(subnet, "id")!;
        await DeleteRowAsync(id);
        if (await LoadAsync("network", Str(subnet, "network_id")!) is { } network)
        {
            var subnets = network["subnets"]!.AsArray();
            foreach (var node in subnets.Where(s => Text(s) == id).ToList()) subnets.Remove(node);
            await SaveAsync("network", network);
        }
    }

    /// <summary>
    /// Takes an address of the subnet for a port: the one asked for (409 when another port holds it), or the lowest
    /// free one in the allocation pools (409 when none is left). The unique key on (subnet, address) makes two
    /// takers of one address impossible.
    /// </summary>
    private async Task<string> AllocateAsync(JsonObject subnet, string portId, string? asked)
    {
        var id = Str(subnet, "id")!;
        var version = VersionOf(subnet);
        var network = Str(subnet, "network_id")!;
        if (asked is not null)
        {
            var address = Ipam.ParseAddress(asked, version) ?? throw InvalidInput($"'{asked}' is not a valid IP address.");
            if (!CidrOf(subnet).Contains(address)) throw InvalidInput($"IP address {asked} is not a valid IP for the specified subnet.");
            var text = Ipam.Format(address, version);
            if (!await _store.InsertAsync(new IpAllocationRow { Id = $"{id} {text}", SubnetId = id, NetworkId = network, PortId = portId, Address = text }))
                throw Conflict("IpAddressAlreadyAllocated", $"IP address {text} already allocated in subnet {id}");
            return text;
        }
        var taken = (await _store.ListAsync<IpAllocationRow>(("subnet_id", id))).Select(a => a.Address).ToHashSet();
        foreach (var pool in subnet["allocation_pools"]!.AsArray())
        {
            var start = Ipam.ParseAddress(pool!["start"]!.GetValue<string>(), version)!.Value;
            var end = Ipam.ParseAddress(pool["end"]!.GetValue<string>(), version)!.Value;
            for (var address = start; address <= end && address >= start; address++)
            {
                var text = Ipam.Format(address, version);
                if (taken.Contains(text)) continue;
                if (await _store.InsertAsync(new IpAllocationRow { Id = $"{id} {text}", SubnetId = id, NetworkId = network, PortId = portId, Address = text })) return text;
            }
        }
        throw Conflict("IpAddressGenerationFailure", $"No more IP addresses available on network {network}.");
    }

    private static string Hex(int value) => value.ToString("x2", CultureInfo.InvariantCulture);
}
