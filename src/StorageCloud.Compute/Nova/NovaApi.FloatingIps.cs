using System.Net;
using System.Text.Json.Nodes;
using StorageCloud.Compute.Clients;
using StorageCloud.Service.Api;

namespace StorageCloud.Compute.Nova;

/// <summary>
/// Nova's floating IP proxy up to 2.35 (os-floating-ips, os-floating-ip-pools) and the addFloatingIp and
/// removeFloatingIp server actions up to 2.43: the network service's floating IPs of the caller's project, allocated
/// from an external network (its name or id is the pool), associated with a server's first fixed IP.
/// </summary>
public sealed partial class NovaApi
{
    private void MapFloatingIps()
    {
        Map("GET", "/os-floating-ip-pools", async r =>
        {
            RequireProxy(r);
            Enforce(r, "read");
            var list = new JsonArray();
            foreach (var network in await ExternalNetworksAsync(r)) list.Add(new JsonObject { ["name"] = Str(network, "name") ?? Str(network, "id") });
            await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["floating_ip_pools"] = list });
        });
        Map("GET", "/os-floating-ips", async r =>
        {
            RequireProxy(r);
            Enforce(r, "read");
            var pools = PoolNames(await ExternalNetworksAsync(r));
            var list = new JsonArray();
            foreach (var ip in ((await _clients.NetworkGetAsync(Token(r), $"/floatingips?project_id={Project(r)}"))?["floatingips"] as JsonArray ?? []).OfType<JsonObject>())
                list.Add(FloatingIpView(ip, pools));
            await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["floating_ips"] = list });
        });
        Map("POST", "/os-floating-ips", AllocateFloatingIpAsync);
        Map("GET", "/os-floating-ips/{id}", async r =>
        {
            RequireProxy(r);
            Enforce(r, "read");
            var ip = await FloatingIpAsync(r, r.Args[0]);
            await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["floating_ip"] = FloatingIpView(ip, PoolNames(await ExternalNetworksAsync(r))) });
        });
        Map("DELETE", "/os-floating-ips/{id}", async r =>
        {
            RequireProxy(r);
            Enforce(r, "write");
            var ip = await FloatingIpAsync(r, r.Args[0]);
            await _clients.NetworkSendAsync(HttpMethod.Delete, Token(r), $"/floatingips/{Str(ip, "id")}");
            await ApiResponses.NoContent(r.Context, 202);
        });
    }

    private async Task<List<JsonObject>> ExternalNetworksAsync(ApiRequest r) =>
        [.. ((await _clients.NetworkGetAsync(Token(r), "/networks?router:external=True"))?["networks"] as JsonArray ?? []).OfType<JsonObject>()];

    private static Dictionary<string, string> PoolNames(List<JsonObject> networks)
    {
        var names = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var n in networks) names[Str(n, "id")!] = Str(n, "name") ?? Str(n, "id")!;
        return names;
    }

    private static JsonObject FloatingIpView(JsonObject ip, Dictionary<string, string> pools) => new()
    {
        ["id"] = Str(ip, "id"),
        ["ip"] = Str(ip, "floating_ip_address"),
        ["fixed_ip"] = Str(ip, "fixed_ip_address"),
        ["pool"] = Str(ip, "floating_network_id") is { } network ? pools.GetValueOrDefault(network, network) : null,
        ["instance_id"] = Str(ip, "port_id") is null ? null : ip["port_details"]?["device_id"]?.ToString() is { Length: > 0 } device ? device : null,
    };

    private async Task<JsonObject> FloatingIpAsync(ApiRequest r, string id) =>
        (Guid.TryParse(id, out _) ? await _clients.NetworkGetAsync(Token(r), $"/floatingips/{id}") : null)?["floatingip"] as JsonObject
        ?? throw NotFound($"Floating IP not found for ID {id}");

    private async Task AllocateFloatingIpAsync(ApiRequest r)
    {
        RequireProxy(r);
        Enforce(r, "write");
        var body = await JsonBody.ReadAsync(r.Context);
        var pool = body["pool"] is JsonValue v && v.TryGetValue<string>(out var named) ? named : null;
        var externals = await ExternalNetworksAsync(r);
        // As Nova: the pool is an external network's id or name; without one, the only external network.
        var matching = pool is null ? externals : externals.Where(n => Guid.TryParse(pool, out _) ? Str(n, "id") == pool : Str(n, "name") == pool).ToList();
        if (matching.Count == 0) throw NotFound("Floating IP pool not found.");
        if (matching.Count > 1) throw ApiError.Conflict("Multiple floating IP pools match; name one by its id.");
        var answer = await _clients.SendAsync(HttpMethod.Post, $"{_clients.NetworkUrl}/v2.0/floatingips", Token(r),
            new JsonObject { ["floatingip"] = new JsonObject { ["floating_network_id"] = Str(matching[0], "id") } });
        if (answer.Status == HttpStatusCode.Conflict) throw NotFound($"No more floating IPs in pool {pool ?? Str(matching[0], "name")}.");
        if (!answer.Ok) throw answer.Status == HttpStatusCode.Forbidden ? new ApiError(403, "Maximum number of floating IPs exceeded") : CloudClients.Failed("network", answer);
        await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["floating_ip"] = FloatingIpView(answer.Body!["floatingip"]!.AsObject(), PoolNames(externals)) });
    }

    /// <summary>addFloatingIp / removeFloatingIp (up to 2.43): {address, fixed_address}; 404 for an address nobody has, 400/409 as Nova answers.</summary>
    private async Task FloatingIpActionAsync(ApiRequest r, JsonObject server, string action, JsonObject? args)
    {
        if (AtLeast(r, 44)) throw ApiError.BadRequest($"There is no such action: {action}");
        if (args is null) throw ApiError.BadRequest($"Invalid input for field/attribute {action}.");
        foreach (var (key, _) in args)
            if (key is not "address" && !(key == "fixed_address" && action == "addFloatingIp"))
                throw ApiError.BadRequest($"Invalid input for field/attribute {action}. Additional properties are not allowed ('{key}' was unexpected)");
        var address = JsonBody.OptionalString(args, "address", action);
        if (address is null || !IPAddress.TryParse(address, out _)) throw ApiError.BadRequest($"Invalid input for field/attribute address. Value: {address}. '{address}' is not a 'ip-address'");
        var fixedAddress = JsonBody.OptionalString(args, "fixed_address", action);
        if (fixedAddress is not null && !IPAddress.TryParse(fixedAddress, out _)) throw ApiError.BadRequest($"Invalid input for field/attribute fixed_address. Value: {fixedAddress}.");
        var token = Token(r);
        var ip = ((await _clients.NetworkGetAsync(token, $"/floatingips?floating_ip_address={Uri.EscapeDataString(address)}"))?["floatingips"] as JsonArray ?? [])
            .OfType<JsonObject>().FirstOrDefault() ?? throw NotFound($"floating IP not found: {address}");
        JsonObject change;
        if (action == "addFloatingIp")
        {
            var ports = ((await _clients.NetworkGetAsync(token, $"/ports?device_id={Str(server, "id")}"))?["ports"] as JsonArray ?? []).OfType<JsonObject>().ToList();
            if (ports.Count == 0) throw ApiError.BadRequest("Instance network is not ready yet");
            var candidates = ports.SelectMany(p => (p["fixed_ips"] as JsonArray ?? []).OfType<JsonObject>().Select(f => (Port: p, Ip: Str(f, "ip_address")!))).ToList();
            var chosen = fixedAddress is null
                ? candidates.FirstOrDefault(c => IPAddress.Parse(c.Ip).AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork)
                : candidates.FirstOrDefault(c => c.Ip == fixedAddress);
            if (chosen.Port is null) throw ApiError.BadRequest(fixedAddress is null ? "No fixed IPs associated to instance" : "Specified fixed address not assigned to instance");
            change = new JsonObject { ["port_id"] = Str(chosen.Port, "id"), ["fixed_ip_address"] = chosen.Ip };
        }
        else
        {
            if (Str(ip, "port_id") is null || ip["port_details"]?["device_id"]?.ToString() != Str(server, "id"))
                throw ApiError.Conflict($"Floating IP {address} is not associated with instance {Str(server, "id")}.");
            change = new JsonObject { ["port_id"] = null };
        }
        var answer = await _clients.SendAsync(HttpMethod.Put, $"{_clients.NetworkUrl}/v2.0/floatingips/{Str(ip, "id")}", token, new JsonObject { ["floatingip"] = change });
        if (!answer.Ok)
            throw ApiError.BadRequest($"Unable to associate floating IP {address}: {CloudClients.MessageOf(answer.Body) ?? $"the network service answered {(int)answer.Status}"}");
        await FinishActionAsync(r, server, action);
    }
}
