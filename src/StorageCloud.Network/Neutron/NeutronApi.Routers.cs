using System.Text.Json.Nodes;
using StorageCloud.Service.Api;

namespace StorageCloud.Network.Neutron;

public sealed partial class NeutronApi
{
    private void MapRouters()
    {
        Map("GET", "/routers", async r =>
        {
            Enforce(r, "read");
            await ListAsync(r, "routers", (await AllAsync("router")).Where(x => Me(r).IsAdmin || Str(x, "project_id") == Me(r).ProjectId));
        });
        Map("POST", "/routers", CreateRouterAsync);
        Map("GET", "/routers/{id}", async r => await WriteAsync(r, 200, "router", await FindOwnedAsync(r, "router", r.Args[0], "RouterNotFound", "Router")));
        Map("PUT", "/routers/{id}", UpdateRouterAsync);
        Map("DELETE", "/routers/{id}", DeleteRouterAsync);
        Map("PUT", "/routers/{id}/add_router_interface", AddInterfaceAsync);
        Map("PUT", "/routers/{id}/remove_router_interface", RemoveInterfaceAsync);
    }

    private async Task CreateRouterAsync(ApiRequest r)
    {
        Enforce(r, "write");
        var body = await BodyAsync(r, "router");
        Allowed(body, "router", "name", "admin_state_up", "external_gateway_info", "description", "distributed", "ha", "availability_zone_hints", "flavor_id", "routes");
        if ((body["distributed"] is not null || body["ha"] is not null) && !Me(r).IsAdmin)
            throw new ApiError(403, "(rule:create_router:distributed or ha) is disallowed by policy") { Kind = "PolicyNotAuthorized" };
        var project = OwnerOf(r, body);
        var router = Stamp(new JsonObject
        {
            ["name"] = StringField(body, "name") ?? "",
            ["admin_state_up"] = BoolField(body, "admin_state_up") ?? true,
            ["status"] = "ACTIVE",
            ["external_gateway_info"] = null,
            ["routes"] = new JsonArray(),
            ["distributed"] = BoolField(body, "distributed") ?? false,
            ["ha"] = BoolField(body, "ha") ?? false,
            ["availability_zone_hints"] = body["availability_zone_hints"]?.DeepClone() ?? new JsonArray(),
            ["availability_zones"] = new JsonArray("nova"),
            ["flavor_id"] = null,
            ["description"] = StringField(body, "description"),
        }, project);
        await _gate.WaitAsync();
        try
        {
            await CheckQuotaAsync(project, "router");
            if (body["external_gateway_info"] is JsonObject { Count: > 0 } gateway) await SetGatewayAsync(r, router, gateway);
            await InsertAsync("router", router);
        }
        finally
        {
            _gate.Release();
        }
        await WriteAsync(r, 201, "router", router);
    }

    /// <summary>Connects the router to an external network: a gateway port there, with an address from it.</summary>
    private async Task SetGatewayAsync(ApiRequest r, JsonObject router, JsonObject gateway)
    {
        await ClearGatewayAsync(router);
        var networkId = StringField(gateway, "network_id") ?? throw InvalidInput("external_gateway_info needs network_id.");
        var network = await FindNetworkAsync(r, networkId);
        if (!Flag(network, "router:external")) throw BadRequest($"Bad router request: Network {networkId} is not an external network.", "BadRequest");
        var port = await NewPortAsync(network, "", new JsonObject
        {
            ["device_owner"] = "network:router_gateway",
            ["device_id"] = Str(router, "id"),
            ["fixed_ips"] = gateway["external_fixed_ips"]?.DeepClone(),
        });
        router["external_gateway_info"] = new JsonObject
        {
            ["network_id"] = networkId,
            ["enable_snat"] = BoolField(gateway, "enable_snat") ?? true,
            ["external_fixed_ips"] = port["fixed_ips"]!.DeepClone(),
        };
        router["_gateway_port"] = Str(port, "id");
    }

    private async Task ClearGatewayAsync(JsonObject router)
    {
        if (Str(router, "_gateway_port") is { } portId && await LoadAsync("port", portId) is { } port) await ReleasePortAsync(port);
        router.Remove("_gateway_port");
        router["external_gateway_info"] = null;
    }

    private async Task UpdateRouterAsync(ApiRequest r)
    {
        Enforce(r, "write");
        var router = await FindOwnedAsync(r, "router", r.Args[0], "RouterNotFound", "Router");
        var body = await BodyAsync(r, "router");
        Allowed(body, "router", "name", "admin_state_up", "external_gateway_info", "description", "distributed", "ha", "routes");
        if (StringField(body, "name") is { } name) router["name"] = name;
        if (StringField(body, "description") is { } description) router["description"] = description;
        if (BoolField(body, "admin_state_up") is { } up) router["admin_state_up"] = up;
        if (body["routes"] is JsonArray routes)
        {
            var attached = await InterfaceSubnetsAsync(Str(router, "id")!);
            foreach (var route in routes)
            {
                var destination = route?["destination"]?.GetValue<string>();
                var nexthop = route?["nexthop"]?.GetValue<string>();
                if (destination is null || Ipam.ParseCidr(destination, out _) is not { } cidr || nexthop is null)
                    throw InvalidInput($"Invalid route {route?.ToJsonString()}: it needs a destination CIDR and a nexthop.");
                if (!attached.Any(s => Ipam.ParseAddress(nexthop, cidr.Version) is { } hop && CidrOf(s).Contains(hop)))
                    throw BadRequest($"Invalid format for routes: {route!.ToJsonString()}, the nexthop is not connected with router", "InvalidRoutes");
            }
            router["routes"] = routes.DeepClone();
        }
        else if (body.ContainsKey("routes")) router["routes"] = new JsonArray();
        if (body.ContainsKey("external_gateway_info"))
        {
            await _gate.WaitAsync();
            try
            {
                if (body["external_gateway_info"] is JsonObject { Count: > 0 } gateway)
                {
                    // Only enable_snat (or the same network again) changes the gateway in place; another network moves it.
                    var current = router["external_gateway_info"] as JsonObject;
                    var network = StringField(gateway, "network_id");
                    if (current is not null && (network is null || network == Str(current, "network_id")) && gateway["external_fixed_ips"] is null)
                        current["enable_snat"] = BoolField(gateway, "enable_snat") ?? Flag(current, "enable_snat");
                    else await SetGatewayAsync(r, router, gateway);
                }
                else await ClearGatewayAsync(router);
            }
            finally
            {
                _gate.Release();
            }
        }
        await SaveAsync("router", router);
        await WriteAsync(r, 200, "router", router);
    }

    private async Task<List<JsonObject>> InterfacePortsAsync(string routerId) =>
        [.. (await AllAsync("port")).Where(p => Str(p, "device_id") == routerId && Str(p, "device_owner") == "network:router_interface")];

    private async Task<List<JsonObject>> InterfaceSubnetsAsync(string routerId)
    {
        var subnets = new List<JsonObject>();
        foreach (var port in await InterfacePortsAsync(routerId))
            foreach (var ip in port["fixed_ips"]!.AsArray())
                if (await LoadAsync("subnet", ip!["subnet_id"]!.GetValue<string>()) is { } subnet) subnets.Add(subnet);
        return subnets;
    }

    private async Task DeleteRouterAsync(ApiRequest r)
    {
        Enforce(r, "write");
        var router = await FindOwnedAsync(r, "router", r.Args[0], "RouterNotFound", "Router");
        var id = Str(router, "id")!;
        if ((await InterfacePortsAsync(id)).Count > 0) throw Conflict("RouterInUse", $"Router {id} still has ports");
        if ((await AllAsync("floatingip")).Any(f => Str(f, "router_id") == id))
            throw Conflict("RouterInUse", $"Router {id} still has floating IPs associated through it");
        await ClearGatewayAsync(router);
        await DeleteRowAsync(id);
        await ApiResponses.NoContent(r.Context, 204);
    }

    private static JsonObject InterfaceInfo(JsonObject router, JsonObject port)
    {
        var subnets = new JsonArray();
        foreach (var ip in port["fixed_ips"]!.AsArray()) subnets.Add(ip!["subnet_id"]!.GetValue<string>());
        return new JsonObject
        {
            ["id"] = Str(router, "id"), ["tenant_id"] = Str(router, "project_id"), ["project_id"] = Str(router, "project_id"), ["port_id"] = Str(port, "id"),
            ["network_id"] = Str(port, "network_id"), ["subnet_id"] = subnets.Count > 0 ? subnets[0]!.DeepClone() : null, ["subnet_ids"] = subnets,
        };
    }

    private async Task AddInterfaceAsync(ApiRequest r)
    {
        Enforce(r, "write");
        var router = await FindOwnedAsync(r, "router", r.Args[0], "RouterNotFound", "Router");
        var body = await JsonBody.ReadAsync(r.Context);
        var subnetId = StringField(body, "subnet_id");
        var portId = StringField(body, "port_id");
        if ((subnetId is null) == (portId is null)) throw BadRequest("Bad router request: Either subnet_id or port_id must be specified.", "BadRequest");
        var routerId = Str(router, "id")!;
        JsonObject port;
        await _gate.WaitAsync();
        try
        {
            var attached = await InterfaceSubnetsAsync(routerId);
            if (subnetId is not null)
            {
                var subnet = await FindSubnetAsync(r, subnetId);
                if (attached.Any(s => Str(s, "id") == subnetId))
                    throw BadRequest($"Bad router request: Router already has a port on subnet {subnetId}.", "BadRequest");
                if (attached.Any(s => CidrOf(s).Overlaps(CidrOf(subnet))))
                    throw BadRequest($"Bad router request: Cidr {Str(subnet, "cidr")} of subnet {subnetId} overlaps with another subnet of the router.", "BadRequest");
                var gateway = Str(subnet, "gateway_ip") ?? throw BadRequest($"Bad router request: Subnet {subnetId} does not have a gateway IP.", "BadRequest");
                var network = (await LoadAsync("network", Str(subnet, "network_id")!))!;
                port = await NewPortAsync(network, Str(router, "project_id")!, new JsonObject
                {
                    ["device_owner"] = "network:router_interface",
                    ["device_id"] = routerId,
                    ["fixed_ips"] = new JsonArray(new JsonObject { ["subnet_id"] = subnetId, ["ip_address"] = gateway }),
                });
            }
            else
            {
                port = await FindOwnedAsync(r, "port", portId!, "PortNotFound", "Port");
                if (Str(port, "device_id") is { Length: > 0 } device) throw Conflict("PortInUse", $"Unable to complete operation for network {Str(port, "network_id")}. The port {portId} is in use by device {device}.");
                if (port["fixed_ips"]!.AsArray().Count == 0) throw BadRequest($"Bad router request: Router port must have at least one fixed IP.", "BadRequest");
                port["device_owner"] = "network:router_interface";
                port["device_id"] = routerId;
                port["status"] = "ACTIVE";
                await SaveAsync("port", port);
            }
        }
        finally
        {
            _gate.Release();
        }
        await ApiResponses.WriteJsonAsync(r.Context, 200, InterfaceInfo(router, port));
    }

    private async Task RemoveInterfaceAsync(ApiRequest r)
    {
        Enforce(r, "write");
        var router = await FindOwnedAsync(r, "router", r.Args[0], "RouterNotFound", "Router");
        var body = await JsonBody.ReadAsync(r.Context);
        var subnetId = StringField(body, "subnet_id");
        var portId = StringField(body, "port_id");
        if (subnetId is null && portId is null) throw BadRequest("Bad router request: Either subnet_id or port_id must be specified.", "BadRequest");
        var routerId = Str(router, "id")!;
        var port = (await InterfacePortsAsync(routerId)).FirstOrDefault(p =>
            (portId is null || Str(p, "id") == portId) && (subnetId is null || p["fixed_ips"]!.AsArray().Any(ip => ip!["subnet_id"]!.GetValue<string>() == subnetId)));
        if (port is null)
        {
            if (portId is not null) throw NotFound("RouterInterfaceNotFound", $"Router {routerId} does not have an interface with id {portId}");
            throw NotFound("RouterInterfaceNotFoundForSubnet", $"Router {routerId} has no interface on subnet {subnetId}");
        }
        var info = InterfaceInfo(router, port);
        await ReleasePortAsync(port);
        await ApiResponses.WriteJsonAsync(r.Context, 200, info);
    }

    private void MapFloatingIps()
    {
        Map("GET", "/floatingips", async r =>
        {
            Enforce(r, "read");
            await ListAsync(r, "floatingips", (await AllAsync("floatingip")).Where(f => Me(r).IsAdmin || Str(f, "project_id") == Me(r).ProjectId));
        });
        Map("POST", "/floatingips", CreateFloatingIpAsync);
        Map("GET", "/floatingips/{id}", async r => await WriteAsync(r, 200, "floatingip", await FindOwnedAsync(r, "floatingip", r.Args[0], "FloatingIPNotFound", "Floating IP")));
        Map("PUT", "/floatingips/{id}", UpdateFloatingIpAsync);
        Map("DELETE", "/floatingips/{id}", DeleteFloatingIpAsync);
    }

    private async Task CreateFloatingIpAsync(ApiRequest r)
    {
        Enforce(r, "write");
        var body = await BodyAsync(r, "floatingip");
        Allowed(body, "floatingip", "floating_network_id", "port_id", "fixed_ip_address", "floating_ip_address", "subnet_id", "description", "dns_name", "dns_domain", "qos_policy_id");
        var networkId = StringField(body, "floating_network_id") ?? throw InvalidInput("floating_network_id is required.");
        var network = await FindNetworkAsync(r, networkId);
        if (!Flag(network, "router:external"))
            throw BadRequest($"Bad floatingip request: Network {networkId} is not a valid external network.", "BadRequest");
        var project = OwnerOf(r, body);
        var id = Guid.NewGuid().ToString("D");
        JsonObject floating;
        await _gate.WaitAsync();
        try
        {
            await CheckQuotaAsync(project, "floatingip");
            JsonNode? fixedIps = null;
            if (StringField(body, "floating_ip_address") is { } address)
                fixedIps = new JsonArray(new JsonObject { ["ip_address"] = address });
            else if (StringField(body, "subnet_id") is { } subnet)
                fixedIps = new JsonArray(new JsonObject { ["subnet_id"] = subnet });
            var port = await NewPortAsync(network, "", new JsonObject { ["device_owner"] = "network:floatingip", ["device_id"] = id, ["fixed_ips"] = fixedIps });
            var v4 = port["fixed_ips"]!.AsArray().FirstOrDefault() ?? throw Conflict("IpAddressGenerationFailure", $"No more IP addresses available on network {networkId}.");
            floating = Stamp(new JsonObject
            {
                ["id"] = id,
                ["floating_network_id"] = networkId,
                ["floating_ip_address"] = v4["ip_address"]!.DeepClone(),
                ["port_id"] = null,
                ["fixed_ip_address"] = null,
                ["router_id"] = null,
                ["status"] = "DOWN",
                ["port_details"] = null,
                ["qos_policy_id"] = null,
                ["description"] = StringField(body, "description"),
                ["_port"] = Str(port, "id"),
            }, project);
            try
            {
                if (StringField(body, "port_id") is { } target) await AssociateAsync(r, floating, target, StringField(body, "fixed_ip_address"));
            }
            catch
            {
                await ReleasePortAsync(port);
                throw;
            }
            await InsertAsync("floatingip", floating);
        }
        finally
        {
            _gate.Release();
        }
        await WriteAsync(r, 201, "floatingip", floating);
    }

    /// <summary>
    /// Points the floating IP at a port's fixed address: the port's subnet must reach the floating IP's external
    /// network through a router (an interface on the subnet, a gateway on the network), as Neutron requires.
    /// </summary>
    private async Task AssociateAsync(ApiRequest r, JsonObject floating, string portId, string? fixedAddress)
    {
        var port = await FindOwnedAsync(r, "port", portId, "PortNotFound", "Port");
        var fixedIps = port["fixed_ips"]!.AsArray();
        var chosen = fixedAddress is null
            ? fixedIps.FirstOrDefault(ip => Ipam.ParseAddress(ip!["ip_address"]!.GetValue<string>(), 4) is not null)
            : fixedIps.FirstOrDefault(ip => ip!["ip_address"]!.GetValue<string>() == fixedAddress);
        if (chosen is null)
            throw BadRequest(fixedAddress is null ? $"Bad floatingip request: Port {portId} does not have an IPv4 address." : $"Bad floatingip request: Port {portId} does not have fixed ip {fixedAddress}.", "BadRequest");
        var subnetId = chosen["subnet_id"]!.GetValue<string>();
        var networkId = Str(floating, "floating_network_id");
        string? routerId = null;
        foreach (var router in await AllAsync("router"))
        {
            if (router["external_gateway_info"]?["network_id"]?.GetValue<string>() != networkId) continue;
            if ((await InterfacePortsAsync(Str(router, "id")!)).Any(p => p["fixed_ips"]!.AsArray().Any(ip => ip!["subnet_id"]!.GetValue<string>() == subnetId)))
            {
                routerId = Str(router, "id");
                break;
            }
        }
        if (routerId is null)
            throw NotFound("ExternalGatewayForFloatingIPNotFound",
                $"External network {networkId} is not reachable from subnet {subnetId}.  Therefore, cannot associate Port {portId} with a Floating IP.");
        var fixedText = chosen["ip_address"]!.GetValue<string>();
        if ((await AllAsync("floatingip")).Any(f => Str(f, "id") != Str(floating, "id") && Str(f, "port_id") == portId && Str(f, "fixed_ip_address") == fixedText))
            throw Conflict("FloatingIPPortAlreadyAssociated", $"Cannot associate floating IP {Str(floating, "floating_ip_address")} with port {portId} using fixed IP {fixedText}, as that fixed IP already has a floating IP.");
        floating["port_id"] = portId;
        floating["fixed_ip_address"] = fixedText;
        floating["router_id"] = routerId;
        floating["status"] = "ACTIVE";
        floating["port_details"] = new JsonObject
        {
            ["name"] = Str(port, "name"), ["network_id"] = Str(port, "network_id"), ["mac_address"] = Str(port, "mac_address"),
            ["admin_state_up"] = port["admin_state_up"]!.DeepClone(), ["status"] = Str(port, "status"), ["device_id"] = Str(port, "device_id"),
            ["device_owner"] = Str(port, "device_owner"),
        };
    }

    private static void Disassociate(JsonObject floating)
    {
        floating["port_id"] = null;
        floating["fixed_ip_address"] = null;
        floating["router_id"] = null;
        floating["status"] = "DOWN";
        floating["port_details"] = null;
    }

    private async Task UpdateFloatingIpAsync(ApiRequest r)
    {
        Enforce(r, "write");
        var floating = await FindOwnedAsync(r, "floatingip", r.Args[0], "FloatingIPNotFound", "Floating IP");
        var body = await BodyAsync(r, "floatingip");
        Allowed(body, "floatingip", "port_id", "fixed_ip_address", "description", "qos_policy_id");
        if (StringField(body, "description") is { } description) floating["description"] = description;
        if (body.ContainsKey("port_id"))
        {
            if (StringField(body, "port_id") is { } portId) await AssociateAsync(r, floating, portId, StringField(body, "fixed_ip_address"));
            else Disassociate(floating);
        }
        await SaveAsync("floatingip", floating);
        await WriteAsync(r, 200, "floatingip", floating);
    }

    private async Task DeleteFloatingIpAsync(ApiRequest r)
    {
        Enforce(r, "write");
        var floating = await FindOwnedAsync(r, "floatingip", r.Args[0], "FloatingIPNotFound", "Floating IP");
        if (Str(floating, "_port") is { } portId && await LoadAsync("port", portId) is { } port) await ReleasePortAsync(port);
        await DeleteRowAsync(Str(floating, "id")!);
        await ApiResponses.NoContent(r.Context, 204);
    }
}
