using System.Text.Json.Nodes;
using StorageCloud.Service.Api;

namespace StorageCloud.Network.Neutron;

public sealed partial class NeutronApi
{
    private void MapNetworks()
    {
        Map("GET", "/networks", ListNetworksAsync);
        Map("POST", "/networks", r => CreateOneOrManyAsync(r, "network", "networks", NewNetworkAsync, n => DeleteRowAsync(Str(n, "id")!)));
        Map("GET", "/networks/{id}", async r => await WriteAsync(r, 200, "network", await FindNetworkAsync(r, r.Args[0])));
        Map("PUT", "/networks/{id}", UpdateNetworkAsync);
        Map("DELETE", "/networks/{id}", DeleteNetworkAsync);
    }

    /// <summary>A network the caller may see: its own, a shared one, an external one (or any, for an admin).</summary>
    private static bool Visible(ApiRequest r, JsonObject network) =>
        Me(r).IsAdmin || Str(network, "project_id") == Me(r).ProjectId || Flag(network, "shared") || Flag(network, "router:external");

    private async Task<JsonObject> FindNetworkAsync(ApiRequest r, string id)
    {
        var network = await LoadAsync("network", id);
        if (network is null || !Visible(r, network)) throw NotFound("NetworkNotFound", $"Network {id} could not be found.");
        return network;
    }

    /// <summary>A resource the caller owns (or any, for an admin); 404 otherwise.</summary>
    private async Task<JsonObject> FindOwnedAsync(ApiRequest r, string kind, string id, string type, string label)
    {
        var doc = await LoadAsync(kind, id);
        if (doc is null || !(Me(r).IsAdmin || Str(doc, "project_id") == Me(r).ProjectId)) throw NotFound(type, $"{label} {id} could not be found.");
        return doc;
    }

    private async Task ListNetworksAsync(ApiRequest r)
    {
        Enforce(r, "read");
        await ListAsync(r, "networks", (await AllAsync("network")).Where(n => Visible(r, n)));
    }

    private async Task<JsonObject> NewNetworkAsync(ApiRequest r, JsonObject body)
    {
        Enforce(r, "write");
        Allowed(body, "network", "name", "admin_state_up", "shared", "router:external", "description", "mtu", "port_security_enabled",
            "availability_zone_hints", "provider:network_type", "provider:physical_network", "provider:segmentation_id", "is_default", "dns_domain", "qos_policy_id");
        var shared = BoolField(body, "shared") ?? false;
        var external = BoolField(body, "router:external") ?? false;
        if ((shared || external || body["provider:network_type"] is not null) && !Me(r).IsAdmin)
            throw new ApiError(403, "(rule:create_network:shared or router:external or provider) is disallowed by policy") { Kind = "PolicyNotAuthorized" };
        var mtu = body["mtu"] is { } m ? (m is JsonValue mv && mv.TryGetValue<int>(out var n) && n >= 68 ? n : throw InvalidInput($"'{m.ToJsonString()}' is not a valid MTU")) : _settings.Mtu;
        var project = OwnerOf(r, body);
        var network = Stamp(new JsonObject
        {
            ["name"] = StringField(body, "name") ?? "",
            ["admin_state_up"] = BoolField(body, "admin_state_up") ?? true,
            ["status"] = "ACTIVE",
            ["subnets"] = new JsonArray(),
            ["shared"] = shared,
            ["router:external"] = external,
            ["is_default"] = external && (BoolField(body, "is_default") ?? false),
            ["mtu"] = mtu,
            ["port_security_enabled"] = BoolField(body, "port_security_enabled") ?? true,
            ["availability_zone_hints"] = body["availability_zone_hints"]?.DeepClone() ?? new JsonArray(),
            ["availability_zones"] = new JsonArray("nova"),
            ["ipv4_address_scope"] = null,
            ["ipv6_address_scope"] = null,
            ["l2_adjacency"] = true,
            ["qos_policy_id"] = null,
            ["provider:network_type"] = StringField(body, "provider:network_type") ?? "local",
            ["provider:physical_network"] = StringField(body, "provider:physical_network"),
            ["provider:segmentation_id"] = body["provider:segmentation_id"]?.DeepClone(),
            ["description"] = StringField(body, "description"),
        }, project);
        await _gate.WaitAsync();
        try
        {
            await CheckQuotaAsync(project, "network");
            await InsertAsync("network", network);
        }
        finally
        {
            _gate.Release();
        }
        return network;
    }

    private async Task UpdateNetworkAsync(ApiRequest r)
    {
        Enforce(r, "write");
        var network = await FindNetworkAsync(r, r.Args[0]);
        if (!Me(r).IsAdmin && Str(network, "project_id") != Me(r).ProjectId) throw NotFound("NetworkNotFound", $"Network {r.Args[0]} could not be found.");
        var body = await BodyAsync(r, "network");
        Allowed(body, "network", "name", "admin_state_up", "shared", "router:external", "description", "mtu", "port_security_enabled", "is_default", "dns_domain", "qos_policy_id");
        if ((body["shared"] is not null || body["router:external"] is not null) && !Me(r).IsAdmin)
            throw new ApiError(403, "(rule:update_network:shared or router:external) is disallowed by policy") { Kind = "PolicyNotAuthorized" };
        if (StringField(body, "name") is { } name) network["name"] = name;
        if (StringField(body, "description") is { } description) network["description"] = description;
        foreach (var flag in new[] { "admin_state_up", "shared", "router:external", "port_security_enabled", "is_default" })
            if (BoolField(body, flag) is { } value) network[flag] = value;
        if (body["mtu"] is JsonValue mv && mv.TryGetValue<int>(out var mtu)) network["mtu"] = mtu;
        await SaveAsync("network", network);
        await WriteAsync(r, 200, "network", network);
    }

    private async Task DeleteNetworkAsync(ApiRequest r)
    {
        Enforce(r, "write");
        var network = await FindNetworkAsync(r, r.Args[0]);
        if (!Me(r).IsAdmin && Str(network, "project_id") != Me(r).ProjectId) throw NotFound("NetworkNotFound", $"Network {r.Args[0]} could not be found.");
        var id = Str(network, "id")!;
        var ports = (await AllAsync("port")).Where(p => Str(p, "network_id") == id).ToList();
        // DHCP ports and the ports of unassociated floating IPs go with the network; any other port keeps it.
        var floating = (await AllAsync("floatingip")).Where(f => Str(f, "floating_network_id") == id).ToList();
        if (ports.Any(p => Str(p, "device_owner") is not ("network:dhcp" or "network:floatingip")) || floating.Any(f => Str(f, "port_id") is not null))
            throw Conflict("NetworkInUse", $"Unable to complete operation on network {id}. There are one or more ports still in use on the network.");
        foreach (var port in ports) await ReleasePortAsync(port);
        foreach (var f in floating) await DeleteRowAsync(Str(f, "id")!);
        foreach (var subnet in (await AllAsync("subnet")).Where(s => Str(s, "network_id") == id)) await DeleteRowAsync(Str(subnet, "id")!);
        await DeleteRowAsync(id);
        await ApiResponses.NoContent(r.Context, 204);
    }
}
