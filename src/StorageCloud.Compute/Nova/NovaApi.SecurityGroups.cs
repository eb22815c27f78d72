using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using StorageCloud.Compute.Clients;
using StorageCloud.Service.Api;

namespace StorageCloud.Compute.Nova;

/// <summary>
/// Nova's security group proxy (`/os-security-groups`, `/os-security-group-rules`; deprecated and gone from 2.36):
/// the network service's groups in Nova's shape (ingress rules only, each with its port range and either a CIDR or a
/// peer group), created, renamed and deleted there with the caller's token. Nova answers 400 where Neutron answers 409
/// (a group in use, the default group, a duplicate rule).
/// </summary>
public sealed partial class NovaApi
{
    private void MapSecurityGroups()
    {
        Map("GET", "/os-security-groups", ListSecurityGroupsAsync);
        Map("POST", "/os-security-groups", async r =>
        {
            var (name, description) = await GroupFieldsAsync(r);
            var made = await NetworkProxyAsync(r, HttpMethod.Post, "/security-groups",
                new JsonObject { ["security_group"] = new JsonObject { ["name"] = name, ["description"] = description } });
            await WriteGroupAsync(r, made["security_group"]!.AsObject());
        });
        Map("GET", "/os-security-groups/{id}", async r => await WriteGroupAsync(r, await ProxiedGroupAsync(r)));
        Map("PUT", "/os-security-groups/{id}", async r =>
        {
            await ProxiedGroupAsync(r);
            var (name, description) = await GroupFieldsAsync(r);
            var updated = await NetworkProxyAsync(r, HttpMethod.Put, $"/security-groups/{r.Args[0]}",
                new JsonObject { ["security_group"] = new JsonObject { ["name"] = name, ["description"] = description } });
            await WriteGroupAsync(r, updated["security_group"]!.AsObject());
        });
        Map("DELETE", "/os-security-groups/{id}", async r =>
        {
            await ProxiedGroupAsync(r);
            await NetworkProxyAsync(r, HttpMethod.Delete, $"/security-groups/{r.Args[0]}");
            await ApiResponses.NoContent(r.Context, 202);
        });
        Map("POST", "/os-security-group-rules", CreateGroupRuleAsync);
        Map("DELETE", "/os-security-group-rules/{id}", async r =>
        {
            RequireProxy(r);
            Enforce(r, "write");
            if (!Guid.TryParse(r.Args[0], out _)) throw ApiError.BadRequest($"Invalid input received: security group rule id {r.Args[0]} is invalid.");
            await NetworkProxyAsync(r, HttpMethod.Delete, $"/security-group-rules/{r.Args[0]}");
            await ApiResponses.NoContent(r.Context, 202);
        });
    }

    /// <summary>A request to the network service as the proxy makes it: its 409 is Nova's 400, its 404 Nova's 404.</summary>
    private async Task<JsonObject> NetworkProxyAsync(ApiRequest r, HttpMethod method, string path, JsonObject? body = null)
    {
        if (_clients.NetworkUrl is null) throw NotFound("The resource could not be found.");
        var answer = await _clients.SendAsync(method, $"{_clients.NetworkUrl}/v2.0{path}", Token(r), body);
        if (answer.Ok) return answer.Body ?? [];
        var message = CloudClients.MessageOf(answer.Body) ?? $"The network service answered {(int)answer.Status}.";
        throw answer.Status switch
        {
            HttpStatusCode.NotFound => NotFound(message),
            HttpStatusCode.Conflict or HttpStatusCode.BadRequest => ApiError.BadRequest(message),
            _ => CloudClients.Failed("network", answer),
        };
    }

    private async Task<JsonObject> ProxiedGroupAsync(ApiRequest r)
    {
        RequireProxy(r);
        Enforce(r, "read");
        if (!Guid.TryParse(r.Args[0], out _)) throw ApiError.BadRequest($"Invalid input received: security group id {r.Args[0]} is invalid.");
        return (await NetworkProxyAsync(r, HttpMethod.Get, $"/security-groups/{r.Args[0]}"))["security_group"]!.AsObject();
    }

    private static async Task<(string Name, string Description)> GroupFieldsAsync(ApiRequest r)
    {
        RequireProxy(r);
        Enforce(r, "write");
        var body = await BodyAsync(r, "security_group");
        var name = JsonBody.OptionalString(body, "name", "security_group") ?? throw ApiError.BadRequest("Security group name is required");
        var description = JsonBody.OptionalString(body, "description", "security_group") ?? throw ApiError.BadRequest("Security group description is required");
        if (name.Length is 0 or > 255) throw ApiError.BadRequest($"Invalid input received: Security group name is not between 1 and 255 characters.");
        if (description.Length > 255) throw ApiError.BadRequest($"Invalid input received: Security group description is longer than 255 characters.");
        return (name, description);
    }

    private async Task ListSecurityGroupsAsync(ApiRequest r)
    {
        RequireProxy(r);
        Enforce(r, "read");
        var project = AllTenants(r) ? null : Project(r);
        var groups = (await NetworkProxyAsync(r, HttpMethod.Get, project is null ? "/security-groups" : $"/security-groups?project_id={project}"))["security_groups"] as JsonArray ?? [];
        var names = GroupNames(groups);
        var list = new JsonArray();
        foreach (var group in groups.OfType<JsonObject>()) list.Add(await GroupViewAsync(r, group, names));
        await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["security_groups"] = list });
    }

    private static Dictionary<string, (string Name, string Project)> GroupNames(JsonArray groups)
    {
        var names = new Dictionary<string, (string, string)>();
        foreach (var g in groups.OfType<JsonObject>()) names[Str(g, "id")!] = (Str(g, "name") ?? "", Str(g, "project_id") ?? "");
        return names;
    }

    private async Task WriteGroupAsync(ApiRequest r, JsonObject group) =>
        await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["security_group"] = await GroupViewAsync(r, group, []) });

    /// <summary>A group as Nova shows it: its ingress rules only; a rule whose peer group is gone is left out, as Nova leaves it.</summary>
    private async Task<JsonObject> GroupViewAsync(ApiRequest r, JsonObject group, Dictionary<string, (string Name, string Project)> known)
    {
        var rules = new JsonArray();
        foreach (var rule in (group["security_group_rules"] as JsonArray ?? []).OfType<JsonObject>())
        {
            if (Str(rule, "direction") != "ingress") continue;
            if (await RuleViewAsync(r, rule, known) is { } view) rules.Add(view);
        }
        return new JsonObject
        {
            ["id"] = Str(group, "id"), ["name"] = Str(group, "name") ?? "", ["description"] = Str(group, "description") ?? "",
            ["tenant_id"] = Str(group, "project_id") ?? "", ["rules"] = rules,
        };
    }

    private async Task<JsonObject?> RuleViewAsync(ApiRequest r, JsonObject rule, Dictionary<string, (string Name, string Project)> known)
    {
        var protocol = Str(rule, "protocol");
        long? from = rule["port_range_min"] is JsonValue ? Long(rule, "port_range_min") : null;
        long? to = rule["port_range_max"] is JsonValue ? Long(rule, "port_range_max") : null;
        if (from is null && to is null)
            (from, to) = protocol is "tcp" or "udp" or "6" or "17" ? ((long?)1, (long?)65535) : protocol is null ? ((long?)null, (long?)null) : (-1, -1);
        var view = new JsonObject
        {
            ["id"] = Str(rule, "id"), ["parent_group_id"] = Str(rule, "security_group_id"), ["ip_protocol"] = protocol,
            ["from_port"] = from, ["to_port"] = to, ["group"] = new JsonObject(), ["ip_range"] = new JsonObject(),
        };
        if (Str(rule, "remote_group_id") is { } peer)
        {
            if (!known.TryGetValue(peer, out var named))
            {
                var answer = await _clients.SendAsync(HttpMethod.Get, $"{_clients.NetworkUrl}/v2.0/security-groups/{peer}", Token(r));
                if (!answer.Ok || answer.Body?["security_group"] is not JsonObject g) return null;
                known[peer] = named = (Str(g, "name") ?? "", Str(g, "project_id") ?? "");
            }
            view["group"] = new JsonObject { ["name"] = named.Name, ["tenant_id"] = named.Project };
        }
        else view["ip_range"] = new JsonObject { ["cidr"] = Str(rule, "remote_ip_prefix") ?? (Str(rule, "ethertype") == "IPv6" ? "::/0" : "0.0.0.0/0") };
        return view;
    }

    /// <summary>POST os-security-group-rules: Nova's checks (tcp/udp/icmp, port ranges), then an ingress rule in the network service; 200.</summary>
    private async Task CreateGroupRuleAsync(ApiRequest r)
    {
        RequireProxy(r);
        Enforce(r, "write");
        var body = await BodyAsync(r, "security_group_rule");
        var parent = body["parent_group_id"]?.ToString() ?? throw ApiError.BadRequest("Invalid input received: parent_group_id is required.");
        if (!Guid.TryParse(parent, out _)) throw ApiError.BadRequest($"Invalid input received: security group id {parent} is invalid.");
        var protocol = body["ip_protocol"]?.ToString()?.ToLowerInvariant();
        if (protocol is not ("tcp" or "udp" or "icmp")) throw ApiError.BadRequest($"Invalid IP protocol {protocol}.");
        int Port(string field)
        {
            var text = body[field]?.ToString();
            if (!int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var port)) throw ApiError.BadRequest($"Invalid port range {text}.");
            return port;
        }
        var (from, to) = (Port("from_port"), Port("to_port"));
        if (protocol == "icmp")
        {
            if (from is < -1 or > 255 || to is < -1 or > 255) throw ApiError.BadRequest($"Invalid port range {from}:{to}. Type and code must be -1 to 255.");
        }
        else if (from is < 1 or > 65535 || to is < 1 or > 65535 || from > to)
            throw ApiError.BadRequest($"Invalid port range {from}:{to}. Valid TCP ports should be between 1-65535");
        var cidr = body["cidr"]?.ToString();
        var peer = body["group_id"]?.ToString();
        if (peer is { Length: > 0 } && !Guid.TryParse(peer, out _)) throw ApiError.BadRequest($"Invalid input received: security group id {peer} is invalid.");
        var rule = new JsonObject { ["security_group_id"] = parent, ["direction"] = "ingress", ["protocol"] = protocol };
        if (protocol != "icmp" || from != -1) rule["port_range_min"] = from;
        if (protocol != "icmp" || to != -1) rule["port_range_max"] = to;
        if (peer is { Length: > 0 }) rule["remote_group_id"] = peer;
        else rule["remote_ip_prefix"] = string.IsNullOrEmpty(cidr) ? "0.0.0.0/0" : cidr;
        rule["ethertype"] = cidr is not null && cidr.Contains(':') ? "IPv6" : "IPv4";
        var made = await NetworkProxyAsync(r, HttpMethod.Post, "/security-group-rules", new JsonObject { ["security_group_rule"] = rule });
        var view = await RuleViewAsync(r, made["security_group_rule"]!.AsObject(), []);
        await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["security_group_rule"] = view });
    }
}
