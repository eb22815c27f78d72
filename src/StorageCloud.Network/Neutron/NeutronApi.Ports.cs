using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using StorageCloud.Network.Records;
using StorageCloud.Service.Api;

namespace StorageCloud.Network.Neutron;

public sealed partial class NeutronApi
{
    private static readonly Regex MacPattern = new("^[0-9a-f]{2}(:[0-9a-f]{2}){5}$", RegexOptions.Compiled);

    private void MapPorts()
    {
        Map("GET", "/ports", async r =>
        {
            Enforce(r, "read");
            await ListAsync(r, "ports", (await AllAsync("port")).Where(p => Me(r).IsAdmin || Str(p, "project_id") == Me(r).ProjectId));
        });
        Map("POST", "/ports", r => CreateOneOrManyAsync(r, "port", "ports", CreatePortRecordAsync, ReleasePortAsync));
        Map("GET", "/ports/{id}", async r => await WriteAsync(r, 200, "port", await FindOwnedAsync(r, "port", r.Args[0], "PortNotFound", "Port")));
        Map("PUT", "/ports/{id}", UpdatePortAsync);
        Map("DELETE", "/ports/{id}", DeletePortAsync);
    }

    private static readonly string[] PortAttributes =
    [
        "network_id", "name", "admin_state_up", "mac_address", "fixed_ips", "device_id", "device_owner", "security_groups", "allowed_address_pairs",
        "port_security_enabled", "binding:host_id", "binding:vnic_type", "binding:profile", "description", "extra_dhcp_opts", "dns_name", "qos_policy_id",
        "propagate_uplink_status", "data_plane_status",
    ];

    private async Task<JsonObject> CreatePortRecordAsync(ApiRequest r, JsonObject body)
    {
        Enforce(r, "write");
        Allowed(body, "port", PortAttributes);
        var network = await FindNetworkAsync(r, StringField(body, "network_id") ?? throw InvalidInput("network_id is required."));
        var project = OwnerOf(r, body);
        await _gate.WaitAsync();
        JsonObject port;
        try
        {
            await CheckQuotaAsync(project, "port");
            port = await NewPortAsync(network, project, body);
        }
        finally
        {
            _gate.Release();
        }
        return port;
    }

    /// <summary>
    /// Makes a port on <paramref name="network"/>: its MAC (given, or random under the base MAC), its addresses
    /// (those asked for, or one from the first IPv4 and the first IPv6 subnet), and the project's default security
    /// group unless it names others or is a network device's. Everything taken is given back if a step fails.
    /// </summary>
    private async Task<JsonObject> NewPortAsync(JsonObject network, string project, JsonObject body)
    {
        var networkId = Str(network, "id")!;
        var id = Guid.NewGuid().ToString("D");
        var owner = StringField(body, "device_owner") ?? "";
        var portSecurity = BoolField(body, "port_security_enabled") ?? (network["port_security_enabled"]?.GetValue<bool>() ?? true);
        var groups = new JsonArray();
        if (body["security_groups"] is JsonArray asked)
        {
            foreach (var g in asked)
            {
                var group = await LoadAsync("security_group", Text(g));
                if (group is null || (Str(group, "project_id") != project && Str(group, "shared") is null))
                    throw NotFound("SecurityGroupNotFound", $"Security group {Text(g)} does not exist");
                groups.Add(Text(g));
            }
        }
        else if (portSecurity && !owner.StartsWith("network:", StringComparison.Ordinal) && project.Length > 0) groups.Add(Str(await DefaultGroupAsync(project), "id"));
        if (!portSecurity && groups.Count > 0)
            throw Conflict("PortSecurityAndIPRequiredForSecurityGroups", "Port security must be enabled and port must have an IP address in order to use security groups.");
        var mac = StringField(body, "mac_address")?.ToLowerInvariant();
        if (mac is not null && !MacPattern.IsMatch(mac)) throw InvalidInput($"'{mac}' is not a valid MAC address");
        var taken = new List<string>();
        try
        {
            mac = await TakeMacAsync(networkId, id, mac);
            var fixedIps = await TakeAddressesAsync(network, id, body["fixed_ips"], taken);
            var port = Stamp(new JsonObject
            {
                ["id"] = id,
                ["name"] = StringField(body, "name") ?? "",
                ["network_id"] = networkId,
                ["admin_state_up"] = BoolField(body, "admin_state_up") ?? true,
                ["mac_address"] = mac,
                ["fixed_ips"] = fixedIps,
                ["device_id"] = StringField(body, "device_id") ?? "",
                ["device_owner"] = owner,
                ["status"] = owner is "network:router_interface" or "network:router_gateway" ? "ACTIVE" : "DOWN",
                ["security_groups"] = groups,
                ["allowed_address_pairs"] = body["allowed_address_pairs"]?.DeepClone() ?? new JsonArray(),
                ["extra_dhcp_opts"] = body["extra_dhcp_opts"]?.DeepClone() ?? new JsonArray(),
                ["port_security_enabled"] = portSecurity,
                ["binding:host_id"] = StringField(body, "binding:host_id") ?? "",
                ["binding:vnic_type"] = StringField(body, "binding:vnic_type") ?? "normal",
                ["binding:profile"] = body["binding:profile"]?.DeepClone() ?? new JsonObject(),
                ["binding:vif_type"] = "unbound",
                ["binding:vif_details"] = new JsonObject(),
                ["qos_policy_id"] = null,
                ["propagate_uplink_status"] = false,
                ["description"] = StringField(body, "description"),
            }, project);
            await InsertAsync("port", port);
            return port;
        }
        catch
        {
            await _store.ExecuteAsync("DELETE FROM ip_allocations WHERE port_id = @id", new { id });
            await _store.ExecuteAsync("DELETE FROM macs WHERE port_id = @id", new { id });
            throw;
        }
    }

    private async Task<string> TakeMacAsync(string networkId, string portId, string? mac)
    {
        if (mac is not null)
        {
            if (!await _store.InsertAsync(new MacRow { Id = $"{networkId} {mac}", PortId = portId }))
                throw Conflict("MacAddressInUse", $"Unable to complete operation for network {networkId}. The mac address {mac} is in use.");
            return mac;
        }
        for (var attempt = 0; attempt < 16; attempt++)
        {
            var bytes = new byte[3];
            System.Security.Cryptography.RandomNumberGenerator.Fill(bytes);
            var candidate = $"{_settings.BaseMac}:{Hex(bytes[0])}:{Hex(bytes[1])}:{Hex(bytes[2])}";
            if (await _store.InsertAsync(new MacRow { Id = $"{networkId} {candidate}", PortId = portId })) return candidate;
        }
        throw Conflict("MacAddressGenerationFailure", $"Unable to generate unique mac on network {networkId}.");
    }

    /// <summary>The addresses a port asks for (fixed_ips), or Neutron's default: one from the first subnet of each IP version.</summary>
    private async Task<JsonArray> TakeAddressesAsync(JsonObject network, string portId, JsonNode? asked, List<string> taken)
    {
        var networkId = Str(network, "id")!;
        var subnets = new List<JsonObject>();
        foreach (var s in network["subnets"]!.AsArray())
            if (await LoadAsync("subnet", Text(s)) is { } subnet) subnets.Add(subnet);
        var result = new JsonArray();
        if (asked is null)
        {
            foreach (var version in new[] { 4, 6 })
                if (subnets.FirstOrDefault(s => VersionOf(s) == version) is { } subnet)
                    result.Add(new JsonObject { ["subnet_id"] = Str(subnet, "id"), ["ip_address"] = await AllocateAsync(subnet, portId, null) });
            return result;
        }
        if (asked is not JsonArray list) throw InvalidInput("fixed_ips must be a list.");
        foreach (var item in list)
        {
            if (item is not JsonObject entry) throw InvalidInput("each of fixed_ips must be an object with subnet_id or ip_address.");
            var subnetId = entry["subnet_id"]?.GetValue<string>();
            var address = entry["ip_address"]?.GetValue<string>();
            JsonObject? subnet;
            if (subnetId is not null)
            {
                subnet = subnets.FirstOrDefault(s => Str(s, "id") == subnetId);
                if (subnet is null)
                {
                    if (await LoadAsync("subnet", subnetId) is null) throw NotFound("SubnetNotFound", $"Subnet {subnetId} could not be found.");
                    throw InvalidInput($"Failed to create port on network {networkId}, because fixed_ips included invalid subnet {subnetId}");
                }
            }
            else if (address is not null)
            {
                subnet = subnets.FirstOrDefault(s => Ipam.ParseAddress(address, VersionOf(s)) is { } a && CidrOf(s).Contains(a))
                    ?? throw InvalidInput($"IP address {address} is not a valid IP for any of the subnets on the specified network.");
            }
            else throw InvalidInput("each of fixed_ips needs subnet_id or ip_address.");
            result.Add(new JsonObject { ["subnet_id"] = Str(subnet, "id"), ["ip_address"] = await AllocateAsync(subnet, portId, address) });
        }
        return result;
    }

    private async Task UpdatePortAsync(ApiRequest r)
    {
        Enforce(r, "write");
        var port = await FindOwnedAsync(r, "port", r.Args[0], "PortNotFound", "Port");
        var body = await BodyAsync(r, "port");
        Allowed(body, "port", PortAttributes);
        if (body["network_id"] is not null) throw InvalidInput("Cannot update read-only attribute network_id");
        var id = Str(port, "id")!;
        if (StringField(body, "name") is { } name) port["name"] = name;
        if (StringField(body, "description") is { } description) port["description"] = description;
        if (BoolField(body, "admin_state_up") is { } up) port["admin_state_up"] = up;
        foreach (var text in new[] { "device_id", "device_owner", "binding:host_id", "binding:vnic_type" })
            if (StringField(body, text) is { } value) port[text] = value;
        foreach (var node in new[] { "allowed_address_pairs", "extra_dhcp_opts", "binding:profile" })
            if (body[node] is { } value) port[node] = value.DeepClone();
        if (BoolField(body, "port_security_enabled") is { } security) port["port_security_enabled"] = security;
        if (body["security_groups"] is JsonArray groups)
        {
            foreach (var g in groups)
                if (await LoadAsync("security_group", Text(g)) is null) throw NotFound("SecurityGroupNotFound", $"Security group {Text(g)} does not exist");
            port["security_groups"] = groups.DeepClone();
        }
        if (!Flag(port, "port_security_enabled") && port["security_groups"]!.AsArray().Count > 0)
            throw Conflict("PortSecurityAndIPRequiredForSecurityGroups", "Port security must be enabled and port must have an IP address in order to use security groups.");
        if (body["fixed_ips"] is { } fixedIps)
        {
            await _gate.WaitAsync();
            try
            {
                var before = await _store.ListAsync<IpAllocationRow>(("port_id", id));
                await _store.ExecuteAsync("DELETE FROM ip_allocations WHERE port_id = @id", new { id });
                try
                {
                    port["fixed_ips"] = await TakeAddressesAsync((await LoadAsync("network", Str(port, "network_id")!))!, id, fixedIps, []);
                }
                catch
                {
                    await _store.ExecuteAsync("DELETE FROM ip_allocations WHERE port_id = @id", new { id });
                    foreach (var row in before) await _store.InsertAsync(row);
                    throw;
                }
            }
            finally
            {
                _gate.Release();
            }
        }
        await SaveAsync("port", port);
        await WriteAsync(r, 200, "port", port);
    }

    private async Task DeletePortAsync(ApiRequest r)
    {
        Enforce(r, "write");
        var port = await FindOwnedAsync(r, "port", r.Args[0], "PortNotFound", "Port");
        if (Str(port, "device_owner") is "network:router_interface" or "network:router_gateway" or "network:floatingip" && !Me(r).IsAdmin)
            throw Conflict("ServicePortInUse", $"Port {Str(port, "id")} cannot be deleted directly via the port API: has device owner {Str(port, "device_owner")}.");
        await ReleasePortAsync(port);
        await ApiResponses.NoContent(r.Context, 204);
    }

    /// <summary>Deletes a port with its addresses and MAC, and takes it off any floating IP.</summary>
    private async Task ReleasePortAsync(JsonObject port)
    {
        var id = Str(port, "id")!;
        foreach (var floating in (await AllAsync("floatingip")).Where(f => Str(f, "port_id") == id))
        {
            Disassociate(floating);
            await SaveAsync("floatingip", floating);
        }
        await _store.ExecuteAsync("DELETE FROM ip_allocations WHERE port_id = @id", new { id });
        await _store.ExecuteAsync("DELETE FROM macs WHERE port_id = @id", new { id });
        await DeleteRowAsync(id);
    }
}
