using System.Globalization;
using System.Text.Json.Nodes;
using StorageCloud.Service.Api;

namespace StorageCloud.Network.Neutron;

public sealed partial class NeutronApi
{
    private static readonly Dictionary<string, int> ProtocolNumbers = new()
    {
        ["icmp"] = 1, ["igmp"] = 2, ["tcp"] = 6, ["udp"] = 17, ["gre"] = 47, ["esp"] = 50, ["ah"] = 51, ["icmpv6"] = 58, ["ipv6-icmp"] = 58, ["sctp"] = 132,
        ["dccp"] = 33, ["egp"] = 8, ["ipip"] = 4, ["ospf"] = 89, ["pgm"] = 113, ["rsvp"] = 46, ["udplite"] = 136, ["vrrp"] = 112, ["ipv6-encap"] = 41,
        ["ipv6-frag"] = 44, ["ipv6-nonxt"] = 59, ["ipv6-opts"] = 60, ["ipv6-route"] = 43,
    };

    private void MapSecurityGroups()
    {
        Map("GET", "/security-groups", async r =>
        {
            Enforce(r, "read");
            if (Me(r).ProjectId is { } own) await DefaultGroupAsync(own);
            await ListAsync(r, "security_groups", (await AllAsync("security_group")).Where(g => Me(r).IsAdmin || Str(g, "project_id") == Me(r).ProjectId));
        });
        Map("POST", "/security-groups", CreateGroupAsync);
        Map("GET", "/security-groups/{id}", async r => await WriteAsync(r, 200, "security_group", await FindGroupAsync(r, r.Args[0])));
        Map("PUT", "/security-groups/{id}", UpdateGroupAsync);
        Map("DELETE", "/security-groups/{id}", DeleteGroupAsync);
        Map("GET", "/security-group-rules", async r =>
        {
            Enforce(r, "read");
            if (Me(r).ProjectId is { } own) await DefaultGroupAsync(own);
            var groups = (await AllAsync("security_group")).Where(g => Me(r).IsAdmin || Str(g, "project_id") == Me(r).ProjectId);
            await ListAsync(r, "security_group_rules", groups.SelectMany(g => g["security_group_rules"]!.AsArray().Select(x => x!.AsObject())).ToList());
        });
        Map("POST", "/security-group-rules", CreateRuleAsync);
        Map("GET", "/security-group-rules/{id}", async r => await WriteAsync(r, 200, "security_group_rule", (await FindRuleAsync(r, r.Args[0])).Rule));
        Map("DELETE", "/security-group-rules/{id}", DeleteRuleAsync);
    }

    private async Task<JsonObject> FindGroupAsync(ApiRequest r, string id)
    {
        var group = await LoadAsync("security_group", id);
        if (group is null || !(Me(r).IsAdmin || Str(group, "project_id") == Me(r).ProjectId))
            throw NotFound("SecurityGroupNotFound", $"Security group {id} does not exist");
        return group;
    }

    private static JsonObject Rule(JsonObject group, string direction, string ethertype, string? remoteGroup = null) =>
        Stamp(new JsonObject
        {
            ["security_group_id"] = Str(group, "id"), ["direction"] = direction, ["ethertype"] = ethertype, ["protocol"] = null, ["port_range_min"] = null,
            ["port_range_max"] = null, ["remote_ip_prefix"] = null, ["remote_group_id"] = remoteGroup, ["remote_address_group_id"] = null, ["normalized_cidr"] = null,
            ["belongs_to_default_sg"] = Str(group, "name") == "default",
        }, Str(group, "project_id")!);

    private static JsonObject NewGroup(string project, string name, string description, bool isDefault)
    {
        var group = Stamp(new JsonObject { ["name"] = name, ["description"] = description, ["stateful"] = true, ["shared"] = false }, project);
        var rules = new JsonArray(Rule(group, "egress", "IPv4"), Rule(group, "egress", "IPv6"));
        if (isDefault)
        {
            rules.Add(Rule(group, "ingress", "IPv4", Str(group, "id")));
            rules.Add(Rule(group, "ingress", "IPv6", Str(group, "id")));
        }
        group["security_group_rules"] = rules;
        return group;
    }

    /// <summary>The project's "default" group, made on first use with Neutron's four rules (all egress; ingress from the group itself).</summary>
    private async Task<JsonObject> DefaultGroupAsync(string project)
    {
        if ((await AllAsync("security_group", project)).FirstOrDefault(g => Str(g, "name") == "default") is { } existing) return existing;
        var group = NewGroup(project, "default", "Default security group", isDefault: true);
        // The id is the project's, so two first uses at once make one group, not two.
        var id = "default-" + project;
        group["id"] = Guid.TryParse(project, out var p) ? new Guid(System.Security.Cryptography.MD5.HashData(p.ToByteArray())).ToString("D") : id;
        foreach (var rule in group["security_group_rules"]!.AsArray())
        {
            rule!["security_group_id"] = group["id"]!.DeepClone();
            if (rule["remote_group_id"] is not null) rule["remote_group_id"] = group["id"]!.DeepClone();
        }
        await InsertAsync("security_group", group);
        return (await LoadAsync("security_group", Str(group, "id")!))!;
    }

    private async Task CreateGroupAsync(ApiRequest r)
    {
        Enforce(r, "write");
        var body = await BodyAsync(r, "security_group");
        Allowed(body, "security_group", "name", "description", "stateful");
        var project = OwnerOf(r, body);
        var name = StringField(body, "name") ?? "";
        if (name == "default") throw Conflict("SecurityGroupDefaultAlreadyExists", "Default security group already exists.");
        var group = NewGroup(project, name, StringField(body, "description") ?? "", isDefault: false);
        group["stateful"] = BoolField(body, "stateful") ?? true;
        await _gate.WaitAsync();
        try
        {
            await DefaultGroupAsync(project);
            await CheckQuotaAsync(project, "security_group");
            await InsertAsync("security_group", group);
        }
        finally
        {
            _gate.Release();
        }
        await WriteAsync(r, 201, "security_group", group);
    }

    private async Task UpdateGroupAsync(ApiRequest r)
    {
        Enforce(r, "write");
        var group = await FindGroupAsync(r, r.Args[0]);
        var body = await BodyAsync(r, "security_group");
        Allowed(body, "security_group", "name", "description", "stateful");
        if (StringField(body, "name") is { } name)
        {
            if (Str(group, "name") == "default" && name != "default") throw Conflict("SecurityGroupCannotUpdateDefault", "Updating default security group not allowed.");
            if (Str(group, "name") != "default" && name == "default") throw Conflict("SecurityGroupDefaultAlreadyExists", "Default security group already exists.");
            group["name"] = name;
        }
        if (StringField(body, "description") is { } description) group["description"] = description;
        if (BoolField(body, "stateful") is { } stateful) group["stateful"] = stateful;
        await SaveAsync("security_group", group);
        await WriteAsync(r, 200, "security_group", group);
    }

    private async Task DeleteGroupAsync(ApiRequest r)
    {
        Enforce(r, "write");
        var group = await FindGroupAsync(r, r.Args[0]);
        var id = Str(group, "id")!;
        if (Str(group, "name") == "default" && !Me(r).IsAdmin) throw Conflict("SecurityGroupCannotRemoveDefault", "Removing default security group not allowed.");
        if ((await AllAsync("port")).Any(p => p["security_groups"]!.AsArray().Any(g => Text(g) == id)))
            throw Conflict("SecurityGroupInUse", $"Security Group {id} in use.");
        await DeleteRowAsync(id);
        await ApiResponses.NoContent(r.Context, 204);
    }

    private async Task<(JsonObject Group, JsonObject Rule)> FindRuleAsync(ApiRequest r, string id)
    {
        foreach (var group in await AllAsync("security_group", Me(r).IsAdmin ? null : Me(r).ProjectId))
            if (group["security_group_rules"]!.AsArray().FirstOrDefault(x => Str(x!.AsObject(), "id") == id) is JsonObject rule) return (group, rule);
        throw NotFound("SecurityGroupRuleNotFound", $"Security group rule {id} does not exist");
    }

    private static int? PortField(JsonObject body, string name)
    {
        var node = body[name];
        if (node is null) return null;
        if (node is JsonValue v && (v.TryGetValue<int>(out var n) || (v.TryGetValue<string>(out var s) && int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out n)))) return n;
        throw InvalidInput($"'{node.ToJsonString()}' is not a valid port number for {name}.");
    }

    private async Task CreateRuleAsync(ApiRequest r)
    {
        Enforce(r, "write");
        var body = await BodyAsync(r, "security_group_rule");
        Allowed(body, "security_group_rule", "security_group_id", "direction", "ethertype", "protocol", "port_range_min", "port_range_max", "remote_ip_prefix",
            "remote_group_id", "description", "remote_address_group_id");
        var group = await FindGroupAsync(r, StringField(body, "security_group_id") ?? throw InvalidInput("security_group_id is required."));
        var direction = StringField(body, "direction");
        if (direction is not ("ingress" or "egress")) throw InvalidInput($"{direction ?? "None"} is not in ['ingress', 'egress'].");
        var ethertype = StringField(body, "ethertype") ?? "IPv4";
        if (ethertype.ToLowerInvariant() is "ipv4") ethertype = "IPv4";
        else if (ethertype.ToLowerInvariant() is "ipv6") ethertype = "IPv6";
        else throw BadRequest($"Security group rule for ethertype '{ethertype}' not supported. Allowed values are ['IPv4', 'IPv6'].", "SecurityGroupRuleInvalidEtherType");
        var protocolText = body["protocol"] is JsonValue pv ? (pv.TryGetValue<int>(out var pn) ? pn.ToString(CultureInfo.InvariantCulture) : pv.GetValue<string>()) : null;
        int? protocol = null;
        if (protocolText is not null and not "any")
        {
            if (int.TryParse(protocolText, NumberStyles.None, CultureInfo.InvariantCulture, out var number) && number <= 255) protocol = number;
            else if (ProtocolNumbers.TryGetValue(protocolText.ToLowerInvariant(), out var known)) protocol = known;
            else throw BadRequest($"Security group rule protocol {protocolText} not supported. Only protocol values {string.Join(", ", ProtocolNumbers.Keys)} and integer representations [0 to 255] are supported.", "SecurityGroupRuleInvalidProtocol");
        }
        var min = PortField(body, "port_range_min");
        var max = PortField(body, "port_range_max");
        if (protocol is 6 or 17 or 132 or 33 or 136)
        {
            if (min is not null && max is null) max = min;
            if (min is null && max is not null) throw BadRequest("For TCP/UDP protocols, port_range_min must be <= port_range_max", "SecurityGroupInvalidPortRange");
            if (min is < 1 or > 65535 || max is < 1 or > 65535) throw BadRequest($"Invalid value for port {(min is < 1 or > 65535 ? min : max)}.", "SecurityGroupInvalidPortValue");
            if (min > max) throw BadRequest("For TCP/UDP protocols, port_range_min must be <= port_range_max", "SecurityGroupInvalidPortRange");
        }
        else if (protocol is 1 or 58)
        {
            if (min is < 0 or > 255) throw BadRequest($"Invalid value for ICMP type (port-range-min): {min}. It must be 0 to 255.", "SecurityGroupInvalidIcmpValue");
            if (max is < 0 or > 255) throw BadRequest($"Invalid value for ICMP code (port-range-max): {max}. It must be 0 to 255.", "SecurityGroupInvalidIcmpValue");
            if (max is not null && min is null) throw BadRequest($"ICMP code (port-range-max) {max} is provided but ICMP type (port-range-min) is missing.", "SecurityGroupMissingIcmpType");
        }
        else if (min is not null || max is not null)
            throw BadRequest("Port range requires a protocol of tcp, udp, sctp, dccp, udplite or icmp.", "SecurityGroupProtocolRequiredWithPorts");
        var prefix = StringField(body, "remote_ip_prefix");
        var remoteGroup = StringField(body, "remote_group_id");
        if (prefix is not null && remoteGroup is not null) throw BadRequest("Only remote_ip_prefix or remote_group_id may be provided.", "SecurityGroupRemoteGroupAndRemoteIpPrefix");
        string? normalized = null;
        if (prefix is not null)
        {
            // Neutron keeps the prefix as entered (10.2.3.124/24) and shows the network it names as normalized_cidr.
            prefix = prefix.Contains('/') ? prefix : prefix + (prefix.Contains(':') ? "/128" : "/32");
            var cidr = Ipam.ParseCidr(prefix, out var recommended);
            if (cidr is null && recommended is not null) cidr = Ipam.ParseCidr(recommended, out _);
            if (cidr is null) throw InvalidInput($"'{prefix}' is not a valid IP subnet.");
            if ((cidr.Value.Version == 4) != (ethertype == "IPv4"))
                throw BadRequest($"Conflicting value ethertype {ethertype} for CIDR {prefix}", "SecurityGroupRuleParameterConflict");
            normalized = cidr.Value.ToString();
        }
        if (remoteGroup is not null) await FindGroupAsync(r, remoteGroup);
        var rule = Rule(group, direction, ethertype, remoteGroup);
        rule["protocol"] = protocolText is null or "any" ? null : protocolText;
        rule["port_range_min"] = min;
        rule["port_range_max"] = max;
        rule["remote_ip_prefix"] = prefix;
        rule["normalized_cidr"] = normalized;
        rule["description"] = StringField(body, "description") ?? "";
        await _gate.WaitAsync();
        try
        {
            group = (await LoadAsync("security_group", Str(group, "id")!))!;
            var rules = group["security_group_rules"]!.AsArray();
            string[] same = ["direction", "ethertype", "port_range_min", "port_range_max", "normalized_cidr", "remote_group_id"];
            if (rules.FirstOrDefault(x => same.All(k => Text(x![k]) == Text(rule[k])) && ProtocolOf(x!["protocol"]) == protocol) is JsonObject existing)
                throw Conflict("SecurityGroupRuleExists", $"Security group rule already exists. Rule id is {Str(existing, "id")}.");
            await CheckQuotaAsync(Str(group, "project_id")!, "security_group_rule");
            rules.Add(rule);
            await SaveAsync("security_group", group);
        }
        finally
        {
            _gate.Release();
        }
        await WriteAsync(r, 201, "security_group_rule", rule);
    }

    private static int? ProtocolOf(JsonNode? node)
    {
        var text = Text(node);
        if (text.Length == 0 || text == "any") return null;
        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : ProtocolNumbers.GetValueOrDefault(text.ToLowerInvariant());
    }

    private async Task DeleteRuleAsync(ApiRequest r)
    {
        Enforce(r, "write");
        await _gate.WaitAsync();
        try
        {
            var (group, rule) = await FindRuleAsync(r, r.Args[0]);
            group["security_group_rules"]!.AsArray().Remove(rule);
            await SaveAsync("security_group", group);
        }
        finally
        {
            _gate.Release();
        }
        await ApiResponses.NoContent(r.Context, 204);
    }
}
