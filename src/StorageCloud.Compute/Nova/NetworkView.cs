using System.Text.Json.Nodes;

namespace StorageCloud.Compute.Nova;

/// <summary>
/// What the network service says of servers' ports right now: their fixed addresses (by network name), the floating
/// addresses associated with them and their security groups. Nova keeps a cache that Neutron's notifications refresh;
/// here the ports are asked for as a server is shown, so an address a user associates appears at once.
/// </summary>
public sealed class NetworkView(Dictionary<string, List<JsonObject>> portsByServer, Dictionary<string, string> networkNames,
    Dictionary<string, List<string>> floatingByPort, Dictionary<string, string> groupNames)
{
    /// <summary>No network service (or no servers): servers show their addresses as last recorded.</summary>
    public static readonly NetworkView Empty = new([], [], [], []);

    /// <summary>The addresses member of a server: {network name: [{version, addr, OS-EXT-IPS:type, OS-EXT-IPS-MAC:mac_addr}]}.</summary>
    public JsonObject AddressesOf(JsonObject server)
    {
        var id = server["id"]!.GetValue<string>();
        if (server["_deleted"] is JsonValue d && d.GetValue<bool>()) return [];
        if (!portsByServer.TryGetValue(id, out var ports)) return server["_addresses"]?.DeepClone() as JsonObject ?? [];
        var addresses = new JsonObject();
        foreach (var port in ports)
        {
            var networkId = port["network_id"]?.GetValue<string>() ?? "";
            var name = networkNames.TryGetValue(networkId, out var n) ? n : networkId;
            if (addresses[name] is not JsonArray list) addresses[name] = list = [];
            var mac = port["mac_address"]?.GetValue<string>() ?? "";
            foreach (var ip in port["fixed_ips"] as JsonArray ?? [])
            {
                var address = ip?["ip_address"]?.GetValue<string>() ?? "";
                list.Add(Entry(address, "fixed", mac));
            }
            if (floatingByPort.TryGetValue(port["id"]!.GetValue<string>(), out var floating))
                foreach (var address in floating) list.Add(Entry(address, "floating", mac));
        }
        return addresses;
    }

    /// <summary>The security_groups member: the names of the groups on the server's ports, each once.</summary>
    public JsonArray SecurityGroupsOf(JsonObject server)
    {
        var id = server["id"]!.GetValue<string>();
        var names = new List<string>();
        if (portsByServer.TryGetValue(id, out var ports))
        {
            foreach (var port in ports)
                foreach (var group in port["security_groups"] as JsonArray ?? [])
                {
                    var groupId = group!.GetValue<string>();
                    var name = groupNames.TryGetValue(groupId, out var n) ? n : groupId;
                    if (!names.Contains(name)) names.Add(name);
                }
        }
        else
        {
            foreach (var name in server["_security_groups"] as JsonArray ?? []) names.Add(name!.GetValue<string>());
        }
        var result = new JsonArray();
        foreach (var name in names) result.Add(new JsonObject { ["name"] = name });
        return result;
    }

    private static JsonObject Entry(string address, string type, string mac) => new()
    {
        ["version"] = address.Contains(':') ? 6 : 4,
        ["addr"] = address,
        ["OS-EXT-IPS:type"] = type,
        ["OS-EXT-IPS-MAC:mac_addr"] = mac,
    };
}
