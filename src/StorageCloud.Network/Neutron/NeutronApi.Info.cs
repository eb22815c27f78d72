using System.Globalization;
using System.Text.Json.Nodes;
using StorageCloud.Service.Api;

namespace StorageCloud.Network.Neutron;

public sealed partial class NeutronApi
{
    private void MapInfo()
    {
        Map("GET", "/extensions", r =>
        {
            Enforce(r, "read");
            var items = new JsonArray();
            foreach (var (alias, name, description) in Extensions) items.Add(ExtensionView(alias, name, description));
            return ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["extensions"] = items });
        });
        Map("GET", "/extensions/{alias}", r =>
        {
            Enforce(r, "read");
            var found = Extensions.FirstOrDefault(e => e.Alias == r.Args[0]);
            if (found.Alias is null) throw NotFound("HTTPNotFound", $"Extension with alias {r.Args[0]} does not exist");
            return ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["extension"] = ExtensionView(found.Alias, found.Name, found.Description) });
        });
        Map("GET", "/availability_zones", r =>
        {
            Enforce(r, "read");
            return ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject
            {
                ["availability_zones"] = new JsonArray(
                    new JsonObject { ["name"] = "nova", ["resource"] = "network", ["state"] = "available" },
                    new JsonObject { ["name"] = "nova", ["resource"] = "router", ["state"] = "available" }),
            });
        });
        Map("GET", "/agents", r =>
        {
            // Neutron lists agents to admins only; others get an empty list.
            Enforce(r, "read");
            var items = new JsonArray();
            if (Me(r).IsAdmin)
                foreach (var agent in Agents()) items.Add(agent);
            return ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["agents"] = items });
        });
        Map("GET", "/agents/{id}", r =>
        {
            Enforce(r, "admin");
            var agent = Agents().FirstOrDefault(a => Str(a, "id") == r.Args[0]) ?? throw NotFound("AgentNotFound", $"Agent {r.Args[0]} could not be found.");
            return ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["agent"] = agent });
        });
    }

    private static JsonObject ExtensionView(string alias, string name, string description) => new()
    {
        ["alias"] = alias, ["name"] = name, ["description"] = description, ["updated"] = "2023-01-01T00:00:00-00:00", ["links"] = new JsonArray(),
    };

    /// <summary>What this service implements, under Neutron's aliases.</summary>
    private static readonly (string Alias, string Name, string Description)[] Extensions =
    [
        ("external-net", "Neutron external network", "Adds external network attribute to network resource."),
        ("router", "Neutron L3 Router", "Router abstraction for basic L3 forwarding between L2 Neutron networks and access to external networks via a NAT gateway."),
        ("ext-gw-mode", "Neutron L3 Configurable external gateway mode", "Extension of the router abstraction for specifying whether SNAT should occur on the external gateway"),
        ("extraroute", "Neutron Extra Route", "Extra routes configuration for L3 router"),
        ("security-group", "security-group", "The security groups extension."),
        ("port-security", "Port Security", "Provides port security"),
        ("allowed-address-pairs", "Allowed Address Pairs", "Provides allowed address pairs"),
        ("extra_dhcp_opt", "Neutron Extra DHCP options", "Extra options configuration for DHCP."),
        ("binding", "Port Binding", "Expose port bindings of a virtual port to external application"),
        ("quotas", "Quota management support", "Expose functions for quotas management per project"),
        ("quota_details", "Quota details management support", "Expose functions for quotas usage statistics per project"),
        ("agent", "agent", "The agent management extension."),
        ("availability_zone", "Availability Zone", "The availability zone extension."),
        ("network_availability_zone", "Network Availability Zone", "Availability zone support for network."),
        ("router_availability_zone", "Router Availability Zone", "Availability zone support for router."),
        ("net-mtu", "Network MTU", "Provides MTU attribute for a network resource."),
        ("provider", "Provider Network", "Expose mapping of virtual networks to physical networks"),
        ("standard-attr-description", "standard-attr-description", "Extension to add descriptions to standard attributes"),
        ("standard-attr-timestamp", "Resource timestamps", "Adds created_at and updated_at fields to all Neutron resources that have Neutron standard attributes."),
        ("standard-attr-revisions", "Resource revision numbers", "This extension will display the revision number of neutron resources."),
        ("standard-attr-tag", "Tag support for resources with standard attribute: port, subnet, network, router, floatingip, security_group", "Enables to set tag on resources with standard attribute."),
        ("project-id", "project_id field enabled", "Extension that indicates that project_id field is enabled."),
        ("fip-port-details", "Floating IP Port Details Extension", "Add port_details attribute to Floating IP resource"),
        ("stateful-security-group", "Stateful security group", "Indicates if the security group is stateful or not"),
        ("sorting", "Sorting support", "Enables sort feature."),
        ("pagination", "Pagination support", "Enables pagination feature."),
    ];

    /// <summary>The agents Neutron would run on this one host; records only, always alive.</summary>
    private static IEnumerable<JsonObject> Agents()
    {
        var host = Environment.MachineName;
        foreach (var (type, binary, topic) in new[]
                 {
                     ("DHCP agent", "neutron-dhcp-agent", "dhcp_agent"), ("L3 agent", "neutron-l3-agent", "l3_agent"),
                     ("Open vSwitch agent", "neutron-openvswitch-agent", "N/A"), ("Metadata agent", "neutron-metadata-agent", "N/A"),
                 })
        {
            var id = new Guid(System.Security.Cryptography.MD5.HashData(System.Text.Encoding.UTF8.GetBytes(host + binary))).ToString("D");
            yield return new JsonObject
            {
                ["id"] = id, ["agent_type"] = type, ["binary"] = binary, ["topic"] = topic, ["host"] = host, ["admin_state_up"] = true, ["alive"] = true,
                ["availability_zone"] = type is "DHCP agent" or "L3 agent" ? "nova" : null, ["configurations"] = new JsonObject(), ["description"] = null,
                ["created_at"] = "2026-01-01 00:00:00", ["started_at"] = "2026-01-01 00:00:00", ["heartbeat_timestamp"] = DateTimeOffset.UtcNow.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture),
                ["resources_synced"] = null,
            };
        }
    }
}
