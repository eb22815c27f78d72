using System.Globalization;
using System.Text.Json.Nodes;
using StorageCloud.Network.Records;
using StorageCloud.Service.Api;

namespace StorageCloud.Network.Neutron;

public sealed partial class NeutronApi
{
    /// <summary>Neutron's default quotas; -1 is unlimited.</summary>
    private static readonly (string Resource, long Default)[] QuotaDefaults =
    [
        ("network", 100), ("subnet", 100), ("port", 500), ("router", 10), ("floatingip", 50), ("security_group", 10), ("security_group_rule", 100),
        ("rbac_policy", 10), ("subnetpool", -1),
    ];

    private void MapQuotas()
    {
        Map("GET", "/quotas", async r =>
        {
            Enforce(r, "admin");
            var items = new JsonArray();
            foreach (var project in (await _store.ListAsync<NetworkQuotaRow>()).Select(q => q.ProjectId).Distinct())
            {
                var quota = QuotaView(await LimitsAsync(project));
                quota["tenant_id"] = project;
                quota["project_id"] = project;
                items.Add(quota);
            }
            await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["quotas"] = items });
        });
        Map("GET", "/quotas/{project}", async r =>
        {
            ReadQuotas(r);
            await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["quota"] = QuotaView(await LimitsAsync(r.Args[0])) });
        });
        Map("GET", "/quotas/{project}/default", async r =>
        {
            ReadQuotas(r);
            await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["quota"] = QuotaView(QuotaDefaults.ToDictionary(q => q.Resource, q => q.Default)) });
        });
        Map("GET", "/quotas/{project}/details", async r =>
        {
            ReadQuotas(r);
            var limits = await LimitsAsync(r.Args[0]);
            var details = new JsonObject();
            foreach (var (resource, _) in QuotaDefaults)
                details[resource] = new JsonObject { ["limit"] = limits[resource], ["used"] = await UsedAsync(r.Args[0], resource), ["reserved"] = 0 };
            await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["quota"] = details });
        });
        Map("PUT", "/quotas/{project}", async r =>
        {
            Enforce(r, "admin");
            var body = await BodyAsync(r, "quota");
            var known = QuotaDefaults.Select(q => q.Resource).ToHashSet();
            foreach (var (resource, node) in body)
            {
                if (!known.Contains(resource)) throw BadRequest($"Unrecognized attribute(s) '{resource}'");
                long value;
                if (node is JsonValue v && v.TryGetValue<long>(out var n)) value = n;
                else if (node is JsonValue s && s.TryGetValue<string>(out var text) && long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var parsed)) value = parsed;
                else throw InvalidInput($"'{node?.ToJsonString()}' is not an integer");
                if (value < -1) throw InvalidInput($"'{value}' should be greater than or equal to -1");
                var row = new NetworkQuotaRow { Id = $"{r.Args[0]}:{resource}", ProjectId = r.Args[0], Resource = resource, HardLimit = value };
                if (!await _store.InsertAsync(row)) await _store.UpdateAsync(row);
            }
            await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["quota"] = QuotaView(await LimitsAsync(r.Args[0])) });
        });
        Map("DELETE", "/quotas/{project}", async r =>
        {
            Enforce(r, "admin");
            await _store.ExecuteAsync("DELETE FROM quotas WHERE project_id = @project", new { project = r.Args[0] });
            await ApiResponses.NoContent(r.Context, 204);
        });
    }

    /// <summary>Anyone reads their own project's quotas; another project's need an admin.</summary>
    private static void ReadQuotas(ApiRequest r)
    {
        if (r.Args[0] == Me(r).ProjectId) Enforce(r, "read");
        else Enforce(r, "admin");
    }

    private static JsonObject QuotaView(Dictionary<string, long> limits)
    {
        var view = new JsonObject();
        foreach (var (resource, _) in QuotaDefaults) view[resource] = limits[resource];
        return view;
    }

    private async Task<Dictionary<string, long>> LimitsAsync(string project)
    {
        var limits = QuotaDefaults.ToDictionary(q => q.Resource, q => q.Default);
        foreach (var row in await _store.ListAsync<NetworkQuotaRow>(("project_id", project))) limits[row.Resource] = row.HardLimit;
        return limits;
    }

    private async Task<long> UsedAsync(string project, string resource) => resource switch
    {
        "security_group_rule" => (await AllAsync("security_group", project)).Sum(g => g["security_group_rules"]!.AsArray().Count),
        "rbac_policy" or "subnetpool" => 0,
        _ => (await AllAsync(resource, project)).Count,
    };

    /// <summary>Refuses (409 OverQuota, as Neutron answers) one more <paramref name="resource"/> past the project's limit. Callers hold the gate.</summary>
    private async Task CheckQuotaAsync(string project, string resource)
    {
        if (project.Length == 0) return;
        var limit = (await LimitsAsync(project))[resource];
        if (limit >= 0 && await UsedAsync(project, resource) + 1 > limit)
            throw Conflict("OverQuota", $"Quota exceeded for resources: ['{resource}'].");
    }

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

    private async Task<JsonObject> TaggedAsync(ApiRequest r, string kind)
    {
        var doc = await LoadAsync(kind, r.Args[0]);
        if (doc is null || !(Me(r).IsAdmin || Str(doc, "project_id") == Me(r).ProjectId || (kind == "network" && Visible(r, doc))))
            throw NotFound("NotFound", $"{kind} {r.Args[0]} could not be found.");
        return doc;
    }

    private async Task TagsAsync(ApiRequest r, string kind)
    {
        Enforce(r, "read");
        var doc = await TaggedAsync(r, kind);
        await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["tags"] = doc["tags"]!.DeepClone() });
    }

    private async Task ReplaceTagsAsync(ApiRequest r, string kind, bool clear = false)
    {
        Enforce(r, "write");
        var doc = await TaggedAsync(r, kind);
        var tags = new JsonArray();
        if (!clear)
        {
            var body = await JsonBody.ReadAsync(r.Context);
            if (body["tags"] is not JsonArray given) throw BadRequest("Invalid input: a tags list is required.");
            foreach (var tag in given.Select(t => Text(t)).Distinct())
            {
                if (tag.Length is 0 or > 255) throw BadRequest($"Invalid tag '{tag}'.");
                tags.Add(tag);
            }
        }
        doc["tags"] = tags;
        await SaveAsync(kind, doc);
        if (clear) await ApiResponses.NoContent(r.Context, 204);
        else await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["tags"] = tags.DeepClone() });
    }

    private async Task TagAsync(ApiRequest r, string kind, string method)
    {
        Enforce(r, method == "GET" ? "read" : "write");
        var doc = await TaggedAsync(r, kind);
        var tag = Uri.UnescapeDataString(r.Args[1]);
        var tags = doc["tags"]!.AsArray();
        var existing = tags.FirstOrDefault(t => Text(t) == tag);
        switch (method)
        {
            case "GET":
                if (existing is null) throw NotFound("TagNotFound", $"Tag {tag} could not be found for {kind} {r.Args[0]}.");
                break;
            case "PUT":
                if (tag.Length is 0 or > 255) throw BadRequest($"Invalid tag '{tag}'.");
                if (existing is null)
                {
                    tags.Add(tag);
                    await SaveAsync(kind, doc);
                }
                await ApiResponses.NoContent(r.Context, 201);
                return;
            default:
                if (existing is null) throw NotFound("TagNotFound", $"Tag {tag} could not be found for {kind} {r.Args[0]}.");
                tags.Remove(existing);
                await SaveAsync(kind, doc);
                break;
        }
        await ApiResponses.NoContent(r.Context, 204);
    }
}
