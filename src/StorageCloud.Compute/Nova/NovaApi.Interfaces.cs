using System.Text.Json.Nodes;
using StorageCloud.Compute.Drivers;
using StorageCloud.Service.Api;

namespace StorageCloud.Compute.Nova;

/// <summary>
/// A server's network interfaces (`/servers/{id}/os-interface`): its ports as Nova lists them, and attach (a port
/// given, or one made on a network, with fixed IPs when asked) and detach (a port the server made is deleted, one it
/// was given is released), each plugged into or out of a running guest by the driver.
/// </summary>
public sealed partial class NovaApi
{
    private static readonly string[] InterfaceStates = ["active", "paused", "stopped"];

    private void MapInterfaces()
    {
        Map("GET", "/servers/{id}/os-interface", async r =>
        {
            var server = await FindServerAsync(r, r.Args[0]);
            await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["interfaceAttachments"] = await InterfacesAsync(r, server) });
        });
        Map("GET", "/servers/{id}/os-interface/{port}", async r =>
        {
            var server = await FindServerAsync(r, r.Args[0]);
            var found = (await InterfacesAsync(r, server)).FirstOrDefault(i => Str(i!.AsObject(), "port_id") == r.Args[1]) ?? throw NotFound($"Port {r.Args[1]} is not attached");
            await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["interfaceAttachment"] = found.DeepClone() });
        });
        Map("POST", "/servers/{id}/os-interface", AttachInterfaceAsync);
        Map("DELETE", "/servers/{id}/os-interface/{port}", DetachInterfaceAsync);
    }

    private async Task<JsonArray> InterfacesAsync(ApiRequest r, JsonObject server)
    {
        var list = new JsonArray();
        if (_clients.NetworkUrl is null) return list;
        var ports = (await _clients.NetworkGetAsync(Token(r), $"/ports?device_id={Str(server, "id")}"))?["ports"] as JsonArray ?? [];
        foreach (var port in ports.OfType<JsonObject>()) list.Add(InterfaceView(r, server, port));
        return list;
    }

    private static JsonObject InterfaceView(ApiRequest r, JsonObject server, JsonObject port)
    {
        var ips = new JsonArray();
        foreach (var ip in port["fixed_ips"] as JsonArray ?? []) ips.Add(ip!.DeepClone());
        var view = new JsonObject
        {
            ["port_id"] = Str(port, "id"), ["net_id"] = Str(port, "network_id"), ["mac_addr"] = Str(port, "mac_address"),
            ["port_state"] = Str(port, "status"), ["fixed_ips"] = ips,
        };
        if (AtLeast(r, 70))
            view["tag"] = (server["_ports"] as JsonArray ?? []).OfType<JsonObject>().FirstOrDefault(p => Str(p, "id") == Str(port, "id"))?["tag"]?.DeepClone();
        return view;
    }

    private static void CheckInterfaceState(JsonObject server, string action)
    {
        var state = Str(server, "vm_state")!;
        if (Array.IndexOf(InterfaceStates, state) < 0 || Str(server, "task_state") is not null)
            throw ApiError.Conflict($"Cannot '{action}' instance {Str(server, "id")} while it is in vm_state {state}");
    }

    /// <summary>POST os-interface: {"interfaceAttachment": {"port_id"} or {"net_id", "fixed_ips"}, "tag" (2.49)}; 200 with the interface.</summary>
    private async Task AttachInterfaceAsync(ApiRequest r)
    {
        var server = await FindServerAsync(r, r.Args[0], write: true);
        CheckUnlocked(r, server);
        var body = await JsonBody.ReadAsync(r.Context);
        var args = body["interfaceAttachment"] is null ? new JsonObject() : JsonBody.Object(body, "interfaceAttachment", "request body");
        foreach (var (key, _) in args)
            if (key is not ("port_id" or "net_id" or "fixed_ips" or "tag") || (key == "tag" && !AtLeast(r, 49)))
                throw ApiError.BadRequest($"Invalid input for field/attribute interfaceAttachment. Value: {args.ToJsonString()}. Additional properties are not allowed ('{key}' was unexpected)");
        var portId = JsonBody.OptionalString(args, "port_id", "interfaceAttachment");
        var networkId = JsonBody.OptionalString(args, "net_id", "interfaceAttachment");
        var tag = JsonBody.OptionalString(args, "tag", "interfaceAttachment");
        if (tag is not null && (tag.Length is 0 or > 60 || tag.Contains('/') || tag.Contains(',')))
            throw ApiError.BadRequest($"Invalid input for field/attribute tag. Value: {tag}.");
        string? fixedIp = null;
        if (args["fixed_ips"] is JsonNode ipsNode)
        {
            if (ipsNode is not JsonArray { Count: 1 } ips || ips[0] is not JsonObject first || JsonBody.OptionalString(first, "ip_address", "fixed_ips") is not { } address
                || !System.Net.IPAddress.TryParse(address, out _))
                throw ApiError.BadRequest($"Invalid input for field/attribute fixed_ips. Value: {ipsNode.ToJsonString()}.");
            fixedIp = address;
        }
        if (portId is not null && networkId is not null) throw ApiError.BadRequest("Must not input both network_id and port_id");
        if (fixedIp is not null && networkId is null) throw ApiError.BadRequest("Must input network_id when request IP address");
        CheckInterfaceState(server, "attach_interface");
        var token = Token(r);
        NicRequest nic;
        if (portId is not null)
        {
            var port = (Guid.TryParse(portId, out _) ? await _clients.NetworkGetAsync(token, $"/ports/{portId}") : null)?["port"] as JsonObject
                ?? throw NotFound($"Port id {portId} could not be found.");
            if (Str(port, "device_id") is { Length: > 0 }) throw ApiError.Conflict($"Port {portId} is still in use.");
            nic = new NicRequest(Str(port, "network_id"), portId, null);
        }
        else if (networkId is not null)
        {
            if ((Guid.TryParse(networkId, out _) ? await _clients.NetworkGetAsync(token, $"/networks/{networkId}") : null) is null)
                throw NotFound($"Network {networkId} could not be found.");
            nic = new NicRequest(networkId, null, fixedIp);
        }
        else
        {
            var chosen = await NicRequestsAsync(r, new JsonObject());
            nic = chosen.Count == 1 ? chosen[0] : throw NotFound("No network is available to attach the interface to.");
        }
        // As Nova's attach_interface: a port made here has the network service's default security group.
        var attached = await PlugPortAsync(token, server, nic, []);
        var record = server["_ports"]!.AsArray().OfType<JsonObject>().Last();
        if (tag is not null) record["tag"] = tag;
        var shown = (await _clients.NetworkGetAsync(token, $"/ports/{attached}"))!["port"]!.AsObject();
        try
        {
            await _driver.AttachNicAsync(Str(server, "id")!, new GuestNic(attached, Str(shown, "mac_address")!));
        }
        catch
        {
            await UnplugPortAsync(token, server, record);
            throw;
        }
        await RecordActionAsync(r, server, "attach_interface", save: false);
        await SaveServerAsync(server);
        await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["interfaceAttachment"] = InterfaceView(r, server, shown) });
    }

    /// <summary>DELETE os-interface/{port}: 202; 404 for a port the server does not have.</summary>
    private async Task DetachInterfaceAsync(ApiRequest r)
    {
        var server = await FindServerAsync(r, r.Args[0], write: true);
        CheckUnlocked(r, server);
        CheckInterfaceState(server, "detach_interface");
        var portId = r.Args[1];
        var token = Token(r);
        var port = (Guid.TryParse(portId, out _) && _clients.NetworkUrl is not null ? await _clients.NetworkGetAsync(token, $"/ports/{portId}") : null)?["port"] as JsonObject;
        if (port is null || Str(port, "device_id") != Str(server, "id")) throw NotFound($"Port {portId} is not attached");
        if (!await _driver.DetachNicAsync(Str(server, "id")!, portId))
            throw ApiError.Conflict($"The guest of instance {Str(server, "id")} did not release port {portId}; it stays attached.");
        var record = (server["_ports"] as JsonArray ?? []).OfType<JsonObject>().FirstOrDefault(p => Str(p, "id") == portId)
            ?? new JsonObject { ["id"] = portId, ["created"] = false };
        if (record.Parent is null) server["_ports"]!.AsArray().Add(record);
        await UnplugPortAsync(token, server, record);
        await RecordActionAsync(r, server, "detach_interface", save: false);
        await SaveServerAsync(server);
        await ApiResponses.NoContent(r.Context, 202);
    }
}
