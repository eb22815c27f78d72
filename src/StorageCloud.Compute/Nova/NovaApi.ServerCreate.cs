using System.Text.Json.Nodes;
using StorageCloud.Compute.Clients;
using StorageCloud.Service.Api;

namespace StorageCloud.Compute.Nova;

/// <summary>
/// Server create: the request checked as Nova checks it (flavor, image, key pair, networks or ports, security groups,
/// block device mappings, user data, metadata, quotas), the records made in BUILD and answered with 202, then built:
/// ports from the network service, volumes attached through the volume service, ACTIVE; ERROR with a fault when a
/// step fails (the ports made for it are given back).
/// </summary>
public sealed partial class NovaApi
{
    /// <summary>One network interface a new server asks for: an existing port, or a network (with an optional fixed address).</summary>
    private sealed record NicRequest(string? NetworkId, string? PortId, string? FixedIp);

    /// <summary>One block device mapping (v2) that makes or attaches a volume.</summary>
    private sealed record VolumeRequest(string Source, string? Uuid, long SizeGb, bool DeleteOnTermination, int BootIndex, string? Device);

    private async Task CreateServerAsync(ApiRequest r)
    {
        Enforce(r, "write");
        var raw = await JsonBody.ReadAsync(r.Context);
        var body = JsonBody.Object(raw, "server", "request body");
        var token = Token(r);
        var project = Project(r);
        var name = Name(body, "name");
        var flavorRef = LastSegment(JsonBody.OptionalString(body, "flavorRef", "server")
            ?? throw ApiError.BadRequest($"Invalid input for field/attribute server. Value: {body.ToJsonString()}. 'flavorRef' is a required property"));
        await SeedFlavorsAsync();
        var flavor = await LoadAsync(FlavorKind, flavorRef);
        if (flavor is null || !MayUse(r, flavor)) throw ApiError.BadRequest($"Flavor {flavorRef} could not be found.");

        var volumes = VolumeRequests(body);
        var localDisks = LocalDiskRequests(body, flavor);
        var bootsFromVolume = volumes.Any(v => v.BootIndex == 0);
        foreach (var mapped in volumes.Where(v => v.Source == "volume"))
        {
            // As Nova checks before it accepts the request: the volume exists for the caller, is free, and boots if it is the boot disk.
            var shown = await _clients.VolumeSendAsync(HttpMethod.Get, token, project, $"/volumes/{mapped.Uuid}");
            if (!shown.Ok) throw ApiError.BadRequest($"Block Device Mapping is Invalid: failed to get volume {mapped.Uuid}.");
            var volume = shown.Body!["volume"]!.AsObject();
            if (Str(volume, "status") != "available") throw ApiError.BadRequest($"Block Device Mapping is Invalid: volume {mapped.Uuid} is {Str(volume, "status")}, not available.");
            if (mapped.BootIndex == 0 && !string.Equals(volume["bootable"]?.ToString(), "true", StringComparison.OrdinalIgnoreCase))
                throw ApiError.BadRequest($"Block Device {mapped.Uuid} is not bootable.");
        }
        var imageRef = LastSegment(JsonBody.OptionalString(body, "imageRef", "server") ?? "");
        if (imageRef.Length == 0 && !bootsFromVolume) throw ApiError.BadRequest("Block Device Mapping is Invalid: Boot sequence for the instance and image/block device mapping combination is not valid.");
        string? imageId = null;
        if (imageRef.Length > 0 && !bootsFromVolume)
        {
            var image = await _clients.ImageAsync(token, imageRef) ?? throw ApiError.BadRequest($"Image {imageRef} could not be found.");
            imageId = Str(image, "id");
            if (Str(image, "status") != "active") throw ApiError.BadRequest($"Image {imageId} is not active.");
            var size = Math.Max(Long(image, "size"), Long(image, "virtual_size"));
            var diskGb = Long(flavor, "disk");
            if (diskGb > 0 && size > diskGb << 30)
                throw ApiError.BadRequest($"Flavor's disk is too small for requested image. Flavor disk is {diskGb << 30} bytes, image is {size} bytes.");
            if (diskGb > 0 && Long(image, "min_disk") > diskGb)
                throw ApiError.BadRequest($"Flavor's disk is too small for requested image. Flavor disk is {diskGb << 30} bytes, minimum requested disk is {Long(image, "min_disk") << 30} bytes.");
            if (Long(image, "min_ram") > Long(flavor, "ram")) throw ApiError.BadRequest("Flavor's memory is too small for requested image.");
        }

        var keyName = JsonBody.OptionalString(body, "key_name", "server");
        if (keyName is not null && await LoadAsync(KeypairKind, Me(r).UserId + "/" + keyName) is null) throw ApiError.BadRequest("Invalid key_name provided.");
        var groups = await SecurityGroupIdsAsync(r, body);
        var nics = await NicRequestsAsync(r, body);
        var userData = JsonBody.OptionalString(body, "user_data", "server");
        if (userData is not null && (userData.Length > 65535 || !IsBase64(userData))) throw ApiError.BadRequest("User data needs to be valid base 64.");
        var metadata = Metadata(body["metadata"], "metadata");
        if (metadata.Count > await LimitAsync(project, "metadata_items")) throw new ApiError(403, "Quota exceeded for metadata_items: Requested metadata items exceeds the allowed number");
        var zone = JsonBody.OptionalString(body, "availability_zone", "server");
        var zoneName = zone?.Split(':')[0] is { Length: > 0 } named ? named : "nova";
        if (!(await ServerZonesAsync()).Contains(zoneName)) throw ApiError.BadRequest("The requested availability zone is not available");
        var description = AtLeast(r, 19) ? JsonBody.OptionalString(body, "description", "server") : null;
        var tags = AtLeast(r, 52) ? JsonBody.OptionalStrings(body, "tags", "server") ?? [] : [];
        if (tags.Count > 50 || tags.Any(t => t.Length is 0 or > 60 || t.Contains('/') || t.Contains(','))) throw ApiError.BadRequest("Invalid input for field/attribute tags.");
        var minCount = (int)Count(body, "min_count", 1, 1000, required: false);
        var maxCount = (int)Count(body, "max_count", 1, 1000, required: false);
        if (minCount == 0) minCount = 1;
        if (maxCount == 0) maxCount = minCount;
        if (minCount > maxCount) throw ApiError.BadRequest("min_count must be <= max_count");
        if (maxCount > 1 && nics.Any(n => n.PortId is not null)) throw ApiError.BadRequest("Unable to launch multiple instances with a single configured port ID. Please launch your instance one by one with different ports.");
        var groupHint = (raw["os:scheduler_hints"] as JsonObject)?["group"]?.ToString();
        JsonObject? serverGroup = null;
        if (groupHint is not null)
            serverGroup = await LoadAsync(GroupKind, groupHint) is { } g && (Str(g, "project_id") == project || Me(r).IsAdmin) ? g : throw ApiError.BadRequest($"Invalid server group {groupHint}");

        var (accessIPv4, accessIPv6) = (AccessIp(body, "accessIPv4") ?? "", AccessIp(body, "accessIPv6") ?? "");
        var diskConfig = DiskConfig(body) ?? "MANUAL";
        var reservation = "r-" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(4));
        var created = new List<JsonObject>();
        await _gate.WaitAsync();
        try
        {
            var count = await FitQuotaAsync(project, flavor, minCount, maxCount);
            var number = (await AllAsync(ServerKind)).Count;
            for (var i = 0; i < count; i++)
            {
                var id = Guid.NewGuid().ToString("D");
                var now = Now();
                var server = new JsonObject
                {
                    ["id"] = id,
                    ["name"] = count > 1 ? $"{name}-{i + 1}" : name,
                    ["tenant_id"] = project,
                    ["user_id"] = Me(r).UserId,
                    ["status"] = "BUILD",
                    ["vm_state"] = "building",
                    ["task_state"] = "scheduling",
                    ["power_state"] = 0,
                    ["created"] = now,
                    ["updated"] = now,
                    ["launched_at"] = null,
                    ["terminated_at"] = null,
                    ["image_id"] = imageId ?? "",
                    ["flavor"] = FlavorSnapshot(flavor),
                    ["key_name"] = keyName,
                    ["metadata"] = ToObject(metadata),
                    ["tags"] = new JsonArray([.. tags.Select(t => (JsonNode)t)]),
                    ["description"] = description,
                    ["locked"] = false,
                    ["locked_reason"] = null,
                    ["availability_zone"] = zoneName,
                    ["config_drive"] = JsonBody.OptionalBool(body, "config_drive", "server") ?? false,
                    ["accessIPv4"] = accessIPv4,
                    ["accessIPv6"] = accessIPv6,
                    ["OS-DCF:diskConfig"] = diskConfig,
                    ["user_data"] = userData,
                    ["reservation_id"] = reservation,
                    ["launch_index"] = i,
                    ["hostname"] = HostnameOf(count > 1 ? $"{name}-{i + 1}" : name),
                    ["server_groups"] = serverGroup is null ? new JsonArray() : new JsonArray(Str(serverGroup, "id")),
                    ["_number"] = number + i + 1,
                    ["_security_groups"] = new JsonArray([.. groups.Select(g => (JsonNode)g.Name)]),
                    ["_ports"] = new JsonArray(),
                    ["_volumes"] = new JsonArray(),
                    ["_actions"] = new JsonArray(),
                    ["_console"] = new JsonArray(),
                };
                await InsertAsync(ServerKind, id, project, server);
                created.Add(server);
            }
        }
        finally
        {
            _gate.Release();
        }
        if (serverGroup is not null)
        {
            foreach (var s in created) serverGroup["members"]!.AsArray().Add(Str(s, "id"));
            await SaveAsync(GroupKind, Str(serverGroup, "id")!, Str(serverGroup, "project_id")!, serverGroup);
        }
        foreach (var server in created)
        {
            await RecordActionAsync(r, server, "create");
            var plan = new BuildPlan(token, nics, groups.Select(g => g.Id).ToList(), volumes, imageId, localDisks);
            _ = Task.Run(() => BuildAsync(Str(server, "id")!, plan));
        }
        var first = created[0];
        var firstId = Str(first, "id")!;
        r.Context.Response.Headers.Location = $"{r.HostUrl}/v2.1/servers/{firstId}";
        if (JsonBody.OptionalBool(body, "return_reservation_id", "server") == true)
        {
            await ApiResponses.WriteJsonAsync(r.Context, 202, new JsonObject { ["reservation_id"] = reservation });
            return;
        }
        var answer = new JsonObject
        {
            ["id"] = firstId,
            ["links"] = Links(r, "servers", firstId),
            ["OS-DCF:diskConfig"] = Str(first, "OS-DCF:diskConfig"),
            ["security_groups"] = new JsonArray([.. (groups.Count == 0 ? ["default"] : groups.Select(g => g.Name)).Select(n => (JsonNode)new JsonObject { ["name"] = n })]),
            ["adminPass"] = JsonBody.OptionalString(body, "adminPass", "server") ?? Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(9)),
        };
        await ApiResponses.WriteJsonAsync(r.Context, 202, new JsonObject { ["server"] = answer });
    }

    private static string LastSegment(string reference) => reference.TrimEnd('/').Split('/')[^1];

    private static string HostnameOf(string name)
    {
        var chars = name.ToLowerInvariant().Select(c => char.IsAsciiLetterOrDigit(c) || c == '-' ? c : '-').ToArray();
        var host = new string(chars).Trim('-', '.');
        return host.Length == 0 ? "server" : host[..Math.Min(host.Length, 63)];
    }

    private static bool IsBase64(string text)
    {
        var buffer = new byte[text.Length];
        return Convert.TryFromBase64String(text, buffer, out _);
    }

    /// <summary>The flavor as the server keeps it: a copy, so later flavor changes do not change the server.</summary>
    private static JsonObject FlavorSnapshot(JsonObject flavor) => new()
    {
        ["id"] = Str(flavor, "id"), ["name"] = Str(flavor, "name"), ["vcpus"] = Long(flavor, "vcpus"), ["ram"] = Long(flavor, "ram"),
        ["disk"] = Long(flavor, "disk"), ["ephemeral"] = Long(flavor, "ephemeral"), ["swap"] = Long(flavor, "swap"),
        ["extra_specs"] = flavor["extra_specs"]?.DeepClone() ?? new JsonObject(),
    };

    private static List<VolumeRequest> VolumeRequests(JsonObject body)
    {
        var result = new List<VolumeRequest>();
        if (body["block_device_mapping_v2"] is not JsonArray mappings)
        {
            if (body["block_device_mapping_v2"] is not null) throw ApiError.BadRequest("Invalid input for field/attribute block_device_mapping_v2: not a list.");
            return result;
        }
        foreach (var node in mappings)
        {
            if (node is not JsonObject m) throw ApiError.BadRequest("Invalid input for field/attribute block_device_mapping_v2: each mapping is an object.");
            var source = JsonBody.OptionalString(m, "source_type", "block_device_mapping_v2") ?? "";
            var destination = JsonBody.OptionalString(m, "destination_type", "block_device_mapping_v2") ?? "local";
            var bootIndex = m["boot_index"] is JsonValue bi && (bi.TryGetValue<int>(out var b) || (bi.TryGetValue<string>(out var bs) && int.TryParse(bs, out b))) ? b : -1;
            if (source is not ("volume" or "image" or "snapshot" or "blank")) throw ApiError.BadRequest($"Block Device Mapping is Invalid: source_type {source} is not one of volume, image, snapshot, blank.");
            if (destination is not ("local" or "volume"))
                throw ApiError.BadRequest($"Invalid input for field/attribute destination_type. Value: {destination}. '{destination}' is not one of ['local', 'volume']");
            if (destination == "local")
            {
                // Local disks (ephemeral, swap, or the image itself) belong to the flavor here; nothing to make.
                continue;
            }
            var uuid = JsonBody.OptionalString(m, "uuid", "block_device_mapping_v2");
            if (source != "blank" && (uuid is null || !Guid.TryParse(uuid, out _))) throw ApiError.BadRequest("Block Device Mapping is Invalid: a uuid is required.");
            var size = m["volume_size"] is JsonValue vs && (vs.TryGetValue<long>(out var n) || (vs.TryGetValue<string>(out var ns) && long.TryParse(ns, out n))) ? n : 0;
            if (source is "image" or "blank" && size <= 0) throw ApiError.BadRequest("Block Device Mapping is Invalid: You specified more local devices than the limit allows");
            result.Add(new VolumeRequest(source, uuid, size, JsonBody.OptionalBool(m, "delete_on_termination", "block_device_mapping_v2") ?? false, bootIndex,
                JsonBody.OptionalString(m, "device_name", "block_device_mapping_v2")));
        }
        return result;
    }

    /// <summary>The security groups asked for, as (id, name) from the network service; 400 for one that is not there.</summary>
    private async Task<List<(string Id, string Name)>> SecurityGroupIdsAsync(ApiRequest r, JsonObject body)
    {
        var result = new List<(string, string)>();
        if (body["security_groups"] is not JsonArray groups) return result;
        foreach (var node in groups)
        {
            var name = (node as JsonObject)?["name"]?.ToString() ?? throw ApiError.BadRequest("Invalid input for field/attribute security_groups: each is {\"name\": ...}.");
            var found = await FindSecurityGroupAsync(r, name) ?? throw ApiError.BadRequest($"Security group {name} not found for project {Project(r)}.");
            if (!result.Contains(found)) result.Add(found);
        }
        return result;
    }

    private async Task<(string Id, string Name)?> FindSecurityGroupAsync(ApiRequest r, string nameOrId)
    {
        if (_clients.NetworkUrl is null) return null;
        var token = Token(r);
        if (Guid.TryParse(nameOrId, out _) && await _clients.NetworkGetAsync(token, $"/security-groups/{nameOrId}") is { } byId && byId["security_group"] is JsonObject g)
            return (Str(g, "id")!, Str(g, "name")!);
        var listed = await _clients.NetworkGetAsync(token, $"/security-groups?name={Uri.EscapeDataString(nameOrId)}&project_id={Project(r)}");
        var match = (listed?["security_groups"] as JsonArray ?? []).OfType<JsonObject>().FirstOrDefault();
        return match is null ? null : (Str(match, "id")!, Str(match, "name")!);
    }

    /// <summary>The interfaces asked for ("auto", "none" or a list), each network and port checked with the network service.</summary>
    private async Task<List<NicRequest>> NicRequestsAsync(ApiRequest r, JsonObject body)
    {
        var token = Token(r);
        var result = new List<NicRequest>();
        var networks = body["networks"];
        if (networks is JsonValue v && v.TryGetValue<string>(out var mode))
        {
            if (mode == "none") return result;
            if (mode != "auto") throw ApiError.BadRequest($"Invalid input for field/attribute networks. Value: {mode}. '{mode}' is not one of ['none', 'auto']");
            networks = null;
        }
        if (networks is null)
        {
            if (_clients.NetworkUrl is null) return result;
            var listed = await _clients.NetworkGetAsync(token, "/networks") ?? [];
            var usable = (listed["networks"] as JsonArray ?? []).OfType<JsonObject>()
                .Where(n => !Flag(n, "router:external") && (Str(n, "project_id") == Project(r) || Flag(n, "shared"))).ToList();
            if (usable.Count > 1) throw ApiError.Conflict("Multiple possible networks found, use a Network ID to be more specific.");
            if (usable.Count == 1) result.Add(new NicRequest(Str(usable[0], "id"), null, null));
            return result;
        }
        if (networks is not JsonArray list) throw ApiError.BadRequest("Invalid input for field/attribute networks: not a list.");
        foreach (var node in list)
        {
            if (node is not JsonObject nic) throw ApiError.BadRequest("Invalid input for field/attribute networks: each is an object.");
            var port = JsonBody.OptionalString(nic, "port", "networks");
            var uuid = JsonBody.OptionalString(nic, "uuid", "networks");
            var fixedIp = JsonBody.OptionalString(nic, "fixed_ip", "networks");
            if (fixedIp is not null && !System.Net.IPAddress.TryParse(fixedIp, out _)) throw ApiError.BadRequest($"Invalid input for field/attribute fixed_ip. Value: {fixedIp}. '{fixedIp}' is not a 'ipv4'");
            if (port is not null)
            {
                var found = (Guid.TryParse(port, out _) ? await _clients.NetworkGetAsync(token, $"/ports/{port}") : null)?["port"] as JsonObject
                    ?? throw ApiError.BadRequest($"Port id {port} could not be found.");
                if (Str(found, "device_id") is { Length: > 0 }) throw ApiError.Conflict($"Port {port} is still in use.");
                result.Add(new NicRequest(Str(found, "network_id"), port, null));
            }
            else if (uuid is not null)
            {
                if ((Guid.TryParse(uuid, out _) ? await _clients.NetworkGetAsync(token, $"/networks/{uuid}") : null) is null)
                    throw ApiError.BadRequest($"Network {uuid} could not be found.");
                result.Add(new NicRequest(uuid, null, fixedIp));
            }
            else throw ApiError.BadRequest("Invalid input for field/attribute networks: a uuid or a port is required.");
        }
        return result;
    }

    /// <summary>How many of min..max servers the project's quotas allow (the most that fit); 403 when not even min does.</summary>
    private async Task<int> FitQuotaAsync(string project, JsonObject flavor, int min, int max)
    {
        var live = (await AllAsync(ServerKind, project)).Where(s => !Flag(s, "_deleted")).ToList();
        var (instances, cores, ram) = (await LimitAsync(project, "instances"), await LimitAsync(project, "cores"), await LimitAsync(project, "ram"));
        var usedCores = live.Sum(s => Long(s["flavor"]!.AsObject(), "vcpus"));
        var usedRam = live.Sum(s => Long(s["flavor"]!.AsObject(), "ram"));
        for (var count = max; count >= min; count--)
        {
            if (Over(instances, live.Count, count) || Over(cores, usedCores, count * Long(flavor, "vcpus")) || Over(ram, usedRam, count * Long(flavor, "ram"))) continue;
            return count;
        }
        var (resource, limit, used, asked) = Over(instances, live.Count, min) ? ("instances", instances, (long)live.Count, (long)min)
            : Over(cores, usedCores, min * Long(flavor, "vcpus")) ? ("cores", cores, usedCores, min * Long(flavor, "vcpus"))
            : ("ram", ram, usedRam, min * Long(flavor, "ram"));
        throw new ApiError(403, $"Quota exceeded for {resource}: Requested {asked}, but already used {used} of {limit} {resource}");
    }

    private static bool Over(long limit, long used, long asked) => limit >= 0 && used + asked > limit;

    /// <summary>What a build needs after the request is answered: the caller's token and the checked requests.</summary>
    private sealed record BuildPlan(string Token, List<NicRequest> Nics, List<string> SecurityGroups, List<VolumeRequest> Volumes, string? ImageId,
        List<LocalDiskRequest> LocalDisks);
}
