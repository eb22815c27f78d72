using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using StorageCloud.Service.Api;

namespace StorageCloud.Compute.Nova;

/// <summary>Servers: create (with ports, volumes and counts), list with Nova's filters, show, update and delete.</summary>
public sealed partial class NovaApi
{
    private const string ServerKind = "server";

    private void MapServers()
    {
        Map("GET", "/servers", r => ListServersAsync(r, detail: false));
        Map("GET", "/servers/detail", r => ListServersAsync(r, detail: true));
        Map("POST", "/servers", CreateServerAsync);
        Map("GET", "/servers/{id}", async r => await WriteServerAsync(r, 200, await FindServerAsync(r, r.Args[0])));
        Map("PUT", "/servers/{id}", UpdateServerAsync);
        Map("DELETE", "/servers/{id}", DeleteServerAsync);
        Map("POST", "/servers/{id}/action", ServerActionAsync);
    }

    /// <summary>A server the caller may see (its project's; any for admins); 404 otherwise, and for deleted ones (unless the microversion is at least <paramref name="deletedFrom"/>).</summary>
    private async Task<JsonObject> FindServerAsync(ApiRequest r, string id, bool write = false, int deletedFrom = int.MaxValue)
    {
        Enforce(r, write ? "write" : "read");
        var server = Guid.TryParse(id, out var guid) ? await LoadAsync(ServerKind, guid.ToString("D")) : null;
        if (server is null || (Flag(server, "_deleted") && !AtLeast(r, deletedFrom)) || (Str(server, "tenant_id") != Project(r) && !Me(r).IsAdmin))
            throw NotFound($"Instance {id} could not be found.");
        return server;
    }

    private Task SaveServerAsync(JsonObject server)
    {
        server["updated"] = Now();
        return SaveAsync(ServerKind, Str(server, "id")!, Str(server, "tenant_id")!, server);
    }

    /// <summary>409 when a locked server is acted on by anyone but an admin.</summary>
    private static void CheckUnlocked(ApiRequest r, JsonObject server)
    {
        if (Flag(server, "locked") && !Me(r).IsAdmin) throw ApiError.Conflict($"Instance {Str(server, "id")} is locked");
    }

    /// <summary>Which answer a server is written in: GET's, or the shorter one update and rebuild give below 2.75.</summary>
    private enum ServerAnswer { Show, Update, Rebuild }

    /// <summary>The keys update and rebuild answer with below 2.75 (Nova's common server view without the extensions).</summary>
    private static readonly HashSet<string> ActionViewKeys =
    [
        "id", "name", "status", "image", "flavor", "fault", "user_id", "tenant_id", "created", "updated", "progress", "metadata", "links",
        "addresses", "hostId", "OS-DCF:diskConfig", "accessIPv4", "accessIPv6", "locked", "description", "tags", "trusted_image_certificates",
        "server_groups", "locked_reason",
    ];

    private async Task WriteServerAsync(ApiRequest r, int status, JsonObject server, string? adminPass = null, ServerAnswer answer = ServerAnswer.Show)
    {
        var network = await NetworkViewAsync(r, [server]);
        var view = ServerView(r, server, network);
        if (answer != ServerAnswer.Show)
        {
            if (!AtLeast(r, 75))
            {
                foreach (var key in view.Select(p => p.Key).Where(k => !ActionViewKeys.Contains(k)).ToList()) view.Remove(key);
                view["addresses"] = Plain((JsonObject)view["addresses"]!);
                if (answer == ServerAnswer.Rebuild && AtLeast(r, 54)) view["key_name"] = Str(server, "key_name");
            }
            if (answer == ServerAnswer.Rebuild && AtLeast(r, 57))
            {
                view.Remove("OS-EXT-SRV-ATTR:user_data");
                view["user_data"] = Str(server, "user_data");
            }
        }
        if (adminPass is not null) view["adminPass"] = adminPass;
        await ApiResponses.WriteJsonAsync(r.Context, status, new JsonObject { ["server"] = view });
    }

    /// <summary>The server as Nova shows it at the request's microversion (admin-only attributes to admins).</summary>
    private JsonObject ServerView(ApiRequest r, JsonObject s, NetworkView network)
    {
        var id = Str(s, "id")!;
        var admin = Me(r).IsAdmin;
        var status = Str(s, "status")!;
        var view = new JsonObject
        {
            ["id"] = id,
            ["name"] = Str(s, "name"),
            ["status"] = status,
            ["tenant_id"] = Str(s, "tenant_id"),
            ["user_id"] = Str(s, "user_id"),
            ["metadata"] = s["metadata"]!.DeepClone(),
            ["hostId"] = status == "DELETED" ? "" : HostId(Str(s, "tenant_id")!),
            ["image"] = Str(s, "image_id") is { Length: > 0 } image
                ? new JsonObject { ["id"] = image, ["links"] = new JsonArray(new JsonObject { ["rel"] = "bookmark", ["href"] = $"{r.HostUrl}/images/{image}" }) }
                : "",
            ["flavor"] = FlavorOfServer(r, s),
            ["created"] = Str(s, "created"),
            ["updated"] = Str(s, "updated"),
            ["addresses"] = network.AddressesOf(s),
            ["accessIPv4"] = Str(s, "accessIPv4") ?? "",
            ["accessIPv6"] = Str(s, "accessIPv6") ?? "",
            ["links"] = Links(r, "servers", id),
            ["OS-DCF:diskConfig"] = Str(s, "OS-DCF:diskConfig") ?? "MANUAL",
            ["OS-EXT-AZ:availability_zone"] = Str(s, "availability_zone") ?? "nova",
            ["config_drive"] = Flag(s, "config_drive") ? "True" : "",
            ["key_name"] = Str(s, "key_name"),
            ["OS-SRV-USG:launched_at"] = Str(s, "launched_at"),
            ["OS-SRV-USG:terminated_at"] = Str(s, "terminated_at"),
            ["OS-EXT-STS:task_state"] = Str(s, "task_state"),
            ["OS-EXT-STS:vm_state"] = Str(s, "vm_state"),
            ["OS-EXT-STS:power_state"] = Long(s, "power_state"),
            ["os-extended-volumes:volumes_attached"] = VolumesAttached(r, s),
        };
        if (status is "ACTIVE" or "BUILD" or "REBUILD" or "RESIZE" or "VERIFY_RESIZE" or "MIGRATING") view["progress"] = status == "ACTIVE" ? 100 : 0;
        var groups = network.SecurityGroupsOf(s);
        if (groups.Count > 0) view["security_groups"] = groups;
        if (s["fault"] is JsonObject fault && status == "ERROR") view["fault"] = fault.DeepClone();
        if (admin)
        {
            view["OS-EXT-SRV-ATTR:host"] = status == "DELETED" ? null : _settings.HostName;
            view["OS-EXT-SRV-ATTR:hypervisor_hostname"] = status == "DELETED" ? null : _settings.HostName;
            view["OS-EXT-SRV-ATTR:instance_name"] = "instance-" + Long(s, "_number").ToString("x8", System.Globalization.CultureInfo.InvariantCulture);
            if (AtLeast(r, 3))
            {
                view["OS-EXT-SRV-ATTR:reservation_id"] = Str(s, "reservation_id");
                view["OS-EXT-SRV-ATTR:launch_index"] = Long(s, "launch_index");
                view["OS-EXT-SRV-ATTR:hostname"] = Str(s, "hostname");
                view["OS-EXT-SRV-ATTR:kernel_id"] = "";
                view["OS-EXT-SRV-ATTR:ramdisk_id"] = "";
                view["OS-EXT-SRV-ATTR:root_device_name"] = "/dev/vda";
                view["OS-EXT-SRV-ATTR:user_data"] = Str(s, "user_data");
            }
            if (AtLeast(r, 16)) view["host_status"] = status == "DELETED" ? "" : "UP";
        }
        if (AtLeast(r, 9)) view["locked"] = Flag(s, "locked");
        if (AtLeast(r, 19)) view["description"] = Str(s, "description");
        if (AtLeast(r, 26)) view["tags"] = s["tags"]!.DeepClone();
        if (AtLeast(r, 63)) view["trusted_image_certificates"] = null;
        if (AtLeast(r, 71)) view["server_groups"] = s["server_groups"]?.DeepClone() ?? new JsonArray();
        if (AtLeast(r, 73)) view["locked_reason"] = Str(s, "locked_reason");
        return view;
    }

    /// <summary>The hostId Nova shows: a hash of the project and host, so a project can tell its servers apart by host.</summary>
    private string HostId(string project) =>
        Convert.ToHexStringLower(SHA224(Encoding.UTF8.GetBytes(project + _settings.HostName)));

    private static byte[] SHA224(byte[] data) => SHA256.HashData(data)[..28];

    private static JsonNode FlavorOfServer(ApiRequest r, JsonObject s)
    {
        var f = s["flavor"]!.AsObject();
        if (!AtLeast(r, 47))
            return new JsonObject
            {
                ["id"] = Str(f, "id"),
                ["links"] = new JsonArray(new JsonObject { ["rel"] = "bookmark", ["href"] = $"{r.HostUrl}/flavors/{Str(f, "id")}" }),
            };
        var view = new JsonObject
        {
            ["vcpus"] = Long(f, "vcpus"), ["ram"] = Long(f, "ram"), ["disk"] = Long(f, "disk"), ["ephemeral"] = Long(f, "ephemeral"),
            ["swap"] = Long(f, "swap"), ["original_name"] = Str(f, "name"),
        };
        view["extra_specs"] = f["extra_specs"]?.DeepClone() ?? new JsonObject();
        return view;
    }

    private static JsonArray VolumesAttached(ApiRequest r, JsonObject s)
    {
        var list = new JsonArray();
        foreach (var a in s["_volumes"] as JsonArray ?? [])
        {
            var o = new JsonObject { ["id"] = Str(a!.AsObject(), "volumeId") };
            if (AtLeast(r, 3)) o["delete_on_termination"] = Flag(a.AsObject(), "delete_on_termination");
            list.Add(o);
        }
        return list;
    }

    private async Task ListServersAsync(ApiRequest r, bool detail)
    {
        Enforce(r, "read");
        var all = AllTenants(r);
        var project = all ? r.Query("project_id") ?? r.Query("tenant_id") : Project(r);
        var servers = await AllAsync(ServerKind, project);
        var changesSince = Since(r, "changes-since");
        var changesBefore = AtLeast(r, 66) ? Since(r, "changes-before") : null;
        var showDeleted = changesSince is not null || changesBefore is not null || (Me(r).IsAdmin && r.Query("deleted") is "true" or "True" or "1");
        IEnumerable<JsonObject> selected = servers.Where(s => showDeleted || !Flag(s, "_deleted"));
        if (changesSince is { } since) selected = selected.Where(s => string.CompareOrdinal(Str(s, "updated"), since) >= 0);
        if (changesBefore is { } before) selected = selected.Where(s => string.CompareOrdinal(Str(s, "updated"), before) <= 0);
        if (r.Query("name") is { } name)
        {
            System.Text.RegularExpressions.Regex pattern;
            try
            {
                pattern = new System.Text.RegularExpressions.Regex(name, System.Text.RegularExpressions.RegexOptions.None, TimeSpan.FromMilliseconds(100));
            }
            catch (ArgumentException)
            {
                throw ApiError.BadRequest($"Invalid input for query parameters name. Value: {name}.");
            }
            selected = selected.Where(s => Matches(pattern, Str(s, "name") ?? "", name));
        }
        if (r.Query("status") is { } status)
        {
            var wanted = status.ToUpperInvariant();
            if (!ServerStatuses.Contains(wanted)) { await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["servers"] = new JsonArray() }); return; }
            selected = selected.Where(s => Str(s, "status") == wanted);
        }
        if (r.Query("image") is { } image) selected = selected.Where(s => Str(s, "image_id") == image);
        if (r.Query("flavor") is { } flavor) selected = selected.Where(s => Str(s["flavor"]!.AsObject(), "id") == flavor);
        if (r.Query("key_name") is { } key) selected = selected.Where(s => Str(s, "key_name") == key);
        if (r.Query("availability_zone") is { } zone) selected = selected.Where(s => (Str(s, "availability_zone") ?? "nova") == zone);
        if (r.Query("locked") is { } locked && AtLeast(r, 73)) selected = selected.Where(s => Flag(s, "locked") == locked is "true" or "True" or "1");
        if (Me(r).IsAdmin && r.Query("host") is { } host) selected = selected.Where(_ => host == _settings.HostName);
        if (Me(r).IsAdmin && r.Query("user_id") is { } user) selected = selected.Where(s => Str(s, "user_id") == user);
        if (AtLeast(r, 26))
        {
            foreach (var (parameter, any, negate) in new[] { ("tags", false, false), ("tags-any", true, false), ("not-tags", false, true), ("not-tags-any", true, true) })
            {
                if (r.Query(parameter) is not { } text) continue;
                var tags = text.Split(',');
                selected = selected.Where(s =>
                {
                    var have = (s["tags"] as JsonArray ?? []).Select(t => t!.GetValue<string>()).ToHashSet();
                    var match = any ? tags.Any(have.Contains) : tags.All(have.Contains);
                    return match != negate;
                });
            }
        }
        var list = selected.ToList();
        var network = r.Query("ip") is not null || detail ? await NetworkViewAsync(r, list) : NetworkView.Empty;
        if (r.Query("ip") is { } ip) list = list.Where(s => network.AddressesOf(s).ToJsonString().Contains($"\"{ip}", StringComparison.Ordinal)).ToList();
        var sortKey = r.Query("sort_key") ?? "created_at";
        var field = sortKey switch
        {
            "created_at" => "created", "updated_at" => "updated", "display_name" => "name", "uuid" => "id", "vm_state" => "vm_state",
            "task_state" => "task_state", "key_name" => "key_name", "availability_zone" => "availability_zone", "image_ref" => "image_id",
            "host" or "hostname" or "launched_at" or "terminated_at" or "power_state" or "project_id" or "user_id" or "locked" or "launch_index" => sortKey,
            _ => throw ApiError.BadRequest($"Invalid input for query parameters sort_key. Value: {sortKey}."),
        };
        var descending = (r.Query("sort_dir") ?? "desc") == "desc";
        list.Sort((a, b) =>
        {
            var c = string.CompareOrdinal(a[field]?.ToString(), b[field]?.ToString());
            if (c == 0) c = string.CompareOrdinal(Str(a, "id"), Str(b, "id"));
            return descending ? -c : c;
        });
        var (page, more) = Pagination.Page(list, s => Str(s, "id")!, r.Query("marker"), Pagination.Limit(r.Context.Request, 1000),
            m => ApiError.BadRequest($"marker [{m}] not found"));
        var items = new JsonArray();
        foreach (var s in page)
            items.Add(detail ? ServerView(r, s, network) : new JsonObject { ["id"] = Str(s, "id"), ["name"] = Str(s, "name"), ["links"] = Links(r, "servers", Str(s, "id")!) });
        var body = new JsonObject { ["servers"] = items };
        if (more) body["servers_links"] = Pagination.NextLinks(r.Context.Request, $"{r.HostUrl}/v2.1/servers{(detail ? "/detail" : "")}", Str(page[^1], "id")!);
        await ApiResponses.WriteJsonAsync(r.Context, 200, body);
    }

    /// <summary>A name filter's match; a pattern that takes too long (a caller's regex can backtrack without end) is a 400.</summary>
    private static bool Matches(System.Text.RegularExpressions.Regex pattern, string text, string given)
    {
        try
        {
            return pattern.IsMatch(text);
        }
        catch (System.Text.RegularExpressions.RegexMatchTimeoutException)
        {
            throw ApiError.BadRequest($"Invalid input for query parameters name. Value: {given}. The pattern takes too long to match.");
        }
    }

    private static readonly HashSet<string> ServerStatuses =
        ["ACTIVE", "BUILD", "DELETED", "ERROR", "HARD_REBOOT", "PASSWORD", "PAUSED", "REBOOT", "REBUILD", "RESCUE", "RESIZE", "REVERT_RESIZE",
         "SHELVED", "SHELVED_OFFLOADED", "SHUTOFF", "SOFT_DELETED", "SUSPENDED", "UNKNOWN", "VERIFY_RESIZE", "MIGRATING"];

    /// <summary>A changes-since style time as a sortable UTC string; 400 when it is not a time.</summary>
    /// <summary>ISO 8601 as Nova's schema takes it: a date, optionally a time (T or space) and a zone.</summary>
    [System.Text.RegularExpressions.GeneratedRegex(@"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$")]
    private static partial System.Text.RegularExpressions.Regex IsoDateTime();

    private static string? Since(ApiRequest r, string parameter)
    {
        if (r.Query(parameter) is not { } text) return null;
        if (!IsoDateTime().IsMatch(text) || !DateTimeOffset.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var time))
            throw ApiError.BadRequest($"Invalid input for query parameters {parameter}. Value: {text}. '{text}' is not a 'date-time'");
        return time.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>An access address as Nova's schema takes it (dotted quad for v4), in its canonical text; "" clears it; null when absent.</summary>
    private static string? AccessIp(JsonObject body, string field)
    {
        if (JsonBody.OptionalString(body, field, "server") is not { } text) return null;
        if (text.Length == 0) return "";
        var v4 = field == "accessIPv4";
        if (!System.Net.IPAddress.TryParse(text, out var address) || (address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork) != v4
            || (v4 && (text.Split('.').Length != 4 || text.Split('.').Any(p => p.Length is 0 or > 3 || !p.All(char.IsAsciiDigit)))))
            throw ApiError.BadRequest($"Invalid input for field/attribute {field}. Value: {text}. '{text}' is not a '{(v4 ? "ipv4" : "ipv6")}'");
        return address.ToString();
    }

    /// <summary>OS-DCF:diskConfig: AUTO or MANUAL; null when absent.</summary>
    private static string? DiskConfig(JsonObject body) => JsonBody.OptionalString(body, "OS-DCF:diskConfig", "server") switch
    {
        null => null,
        "AUTO" => "AUTO",
        "MANUAL" => "MANUAL",
        var disk => throw ApiError.BadRequest($"Invalid input for field/attribute OS-DCF:diskConfig. Value: {disk}. '{disk}' is not one of ['AUTO', 'MANUAL']"),
    };

    private async Task UpdateServerAsync(ApiRequest r)
    {
        var server = await FindServerAsync(r, r.Args[0], write: true);
        var body = await BodyAsync(r, "server");
        foreach (var (key, _) in body)
            if (key is not ("name" or "accessIPv4" or "accessIPv6" or "OS-DCF:diskConfig" or "description" or "hostname"))
                throw ApiError.BadRequest($"Invalid input for field/attribute server. Value: {body.ToJsonString()}. Additional properties are not allowed ('{key}' was unexpected)");
        if (body.ContainsKey("name")) server["name"] = Name(body, "name");
        if (body.ContainsKey("description"))
        {
            if (!AtLeast(r, 19)) throw ApiError.BadRequest("Invalid input for field/attribute server. Additional properties are not allowed ('description' was unexpected)");
            var description = JsonBody.OptionalString(body, "description", "server");
            if (description is { Length: > 255 }) throw ApiError.BadRequest($"Invalid input for field/attribute description. Value: {description}. is too long");
            server["description"] = description;
        }
        foreach (var ip in new[] { "accessIPv4", "accessIPv6" })
            if (AccessIp(body, ip) is { } text) server[ip] = text;
        if (DiskConfig(body) is { } disk) server["OS-DCF:diskConfig"] = disk;
        await SaveServerAsync(server);
        await WriteServerAsync(r, 200, server, answer: ServerAnswer.Update);
    }

    private async Task DeleteServerAsync(ApiRequest r)
    {
        var server = await FindServerAsync(r, r.Args[0], write: true);
        CheckUnlocked(r, server);
        await RecordActionAsync(r, server, "delete");
        // Nova destroys the guest before it lets go of its disks; the NBD exports are deleted only once no client reads them.
        await _driver.StopAsync(Str(server, "id")!, graceful: false);
        await TearDownAsync(Token(r), server);
        _driver.Forget(Str(server, "id")!);
        await DeleteShelvedImageAsync(r, server);
        server["status"] = "DELETED";
        server["vm_state"] = "deleted";
        server["task_state"] = null;
        server["power_state"] = 0;
        server["terminated_at"] = Now();
        server["_deleted"] = true;
        await SaveServerAsync(server);
        await LeaveServerGroupsAsync(server);
        await ApiResponses.NoContent(r.Context, 204);
    }
}
