using System.Text.Json.Nodes;
using StorageCloud.Service.Api;

namespace StorageCloud.Compute.Nova;

/// <summary>
/// Nova's network proxies up to 2.35 (404 from 2.36): os-tenant-networks and os-networks, the networks the caller
/// sees in the network service, in nova-network's shape (label is the name, cidr and gateway the first subnet's).
/// </summary>
public sealed partial class NovaApi
{
    private void MapNetworkProxy()
    {
        foreach (var (path, full) in new[] { ("/os-tenant-networks", false), ("/os-networks", true) })
        {
            Map("GET", path, async r =>
            {
                RequireProxy(r);
                Enforce(r, "read");
                var networks = (await _clients.NetworkGetAsync(Token(r), "/networks"))?["networks"] as JsonArray ?? [];
                var subnets = await SubnetsByNetworkAsync(r);
                var list = new JsonArray();
                foreach (var network in networks.OfType<JsonObject>()) list.Add(NetworkProxyView(network, subnets, full));
                await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["networks"] = list });
            });
            Map("GET", path + "/{id}", async r =>
            {
                RequireProxy(r);
                Enforce(r, "read");
                var network = (Guid.TryParse(r.Args[0], out _) ? await _clients.NetworkGetAsync(Token(r), $"/networks/{r.Args[0]}") : null)?["network"] as JsonObject
                    ?? throw NotFound("Network not found.");
                await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["network"] = NetworkProxyView(network, await SubnetsByNetworkAsync(r), full) });
            });
        }
    }

    private async Task<Dictionary<string, List<JsonObject>>> SubnetsByNetworkAsync(ApiRequest r)
    {
        var byNetwork = new Dictionary<string, List<JsonObject>>(StringComparer.Ordinal);
        foreach (var subnet in ((await _clients.NetworkGetAsync(Token(r), "/subnets"))?["subnets"] as JsonArray ?? []).OfType<JsonObject>())
        {
            var network = Str(subnet, "network_id") ?? "";
            if (!byNetwork.TryGetValue(network, out var list)) byNetwork[network] = list = [];
            list.Add(subnet);
        }
        return byNetwork;
    }

    private static JsonObject NetworkProxyView(JsonObject network, Dictionary<string, List<JsonObject>> subnets, bool full)
    {
        var id = Str(network, "id")!;
        var mine = subnets.GetValueOrDefault(id) ?? [];
        var v4 = mine.FirstOrDefault(s => Long(s, "ip_version") == 4);
        var view = new JsonObject { ["id"] = id, ["cidr"] = v4 is null ? null : Str(v4, "cidr"), ["label"] = Str(network, "name") ?? "" };
        if (!full) return view;
        var v6 = mine.FirstOrDefault(s => Long(s, "ip_version") == 6);
        view["gateway"] = v4 is null ? null : Str(v4, "gateway_ip");
        view["cidr_v6"] = v6 is null ? null : Str(v6, "cidr");
        view["gateway_v6"] = v6 is null ? null : Str(v6, "gateway_ip");
        view["project_id"] = Str(network, "project_id");
        view["mtu"] = Long(network, "mtu");
        view["enable_dhcp"] = v4 is not null && Flag(v4, "enable_dhcp");
        return view;
    }
}
