using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using StorageCloud.Service.Api;

namespace StorageCloud.Compute.Nova;

/// <summary>
/// Server actions (`POST /servers/{id}/action`) with the fake driver: each state change happens at once, from the
/// states Nova allows it in (409 from any other, and for a locked server unless the caller is an admin).
/// </summary>
public sealed partial class NovaApi
{
    /// <summary>(action, the vm_states it may start from, the status, vm_state and power state it leaves).</summary>
    private static readonly Dictionary<string, (string[] From, string Status, string VmState, int Power)> PowerActions = new()
    {
        ["os-stop"] = (["active", "error", "rescued"], "SHUTOFF", "stopped", 4),
        ["os-start"] = (["stopped"], "ACTIVE", "active", 1),
        ["pause"] = (["active"], "PAUSED", "paused", 3),
        ["unpause"] = (["paused"], "ACTIVE", "active", 1),
        ["suspend"] = (["active", "stopped"], "SUSPENDED", "suspended", 7),
        ["resume"] = (["suspended"], "ACTIVE", "active", 1),
        ["shelve"] = (["active", "stopped", "paused", "suspended"], "SHELVED_OFFLOADED", "shelved_offloaded", 4),
        ["unshelve"] = (["shelved", "shelved_offloaded"], "ACTIVE", "active", 1),
        ["rescue"] = (["active", "stopped"], "RESCUE", "rescued", 1),
        ["unrescue"] = (["rescued"], "ACTIVE", "active", 1),
    };

    private async Task ServerActionAsync(ApiRequest r)
    {
        var server = await FindServerAsync(r, r.Args[0], write: true);
        var body = await JsonBody.ReadAsync(r.Context);
        if (body.Count != 1) throw ApiError.BadRequest("There is no such action: " + string.Join(",", body.Select(p => p.Key)));
        var (action, args) = (body.First().Key, body.First().Value);
        if (action is not ("lock" or "unlock" or "os-getConsoleOutput" or "os-resetState")) CheckUnlocked(r, server);
        if (PowerActions.TryGetValue(action, out var change))
        {
            await ChangeStateAsync(r, server, action, change.From, change.Status, change.VmState, change.Power);
            return;
        }
        switch (action)
        {
            case "reboot":
                var type = (args as JsonObject)?["type"]?.ToString() ?? throw ApiError.BadRequest("Invalid input for field/attribute reboot. 'type' is a required property");
                if (type.ToUpperInvariant() is not ("SOFT" or "HARD")) throw ApiError.BadRequest($"Invalid input for field/attribute type. Value: {type}. '{type}' does not match '^([sS][oO][fF][tT]|[hH][aA][rR][dD])$'");
                string[] from = type.Equals("SOFT", StringComparison.OrdinalIgnoreCase) ? ["active"] : ["active", "stopped", "paused", "suspended", "error"];
                await ChangeStateAsync(r, server, "reboot", from, "ACTIVE", "active", 1);
                AppendConsole(server, $"{type.ToLowerInvariant()} reboot of {Str(server, "name")}");
                await SaveServerAsync(server);
                return;
            case "lock":
                if (!AtLeast(r, 73) && args is JsonObject { Count: > 0 }) throw ApiError.BadRequest("Invalid input for field/attribute lock. Additional properties are not allowed");
                server["locked"] = true;
                server["locked_reason"] = (args as JsonObject)?["locked_reason"]?.ToString();
                await FinishActionAsync(r, server, "lock");
                return;
            case "unlock":
                server["locked"] = false;
                server["locked_reason"] = null;
                await FinishActionAsync(r, server, "unlock");
                return;
            case "os-getConsoleOutput":
                Enforce(r, "read");
                var length = (args as JsonObject)?["length"] is JsonNode n ? (long)Count(new JsonObject { ["length"] = n.DeepClone() }, "length", -1, int.MaxValue, false) : -1;
                var lines = ConsoleLines(server);
                var output = string.Join("\n", lines) + (lines.Count > 0 ? "\n" : "");
                // Nova's tail: the last `length` pieces of the log split at newlines (the trailing newline makes an empty last piece).
                if (length == 0) output = "";
                else if (length > 0)
                {
                    var pieces = output.Split('\n');
                    output = string.Join("\n", pieces[Math.Max(0, pieces.Length - (int)length)..]);
                }
                await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["output"] = output });
                return;
            case "createImage":
                await CreateImageAsync(r, server, args as JsonObject ?? throw ApiError.BadRequest("Invalid input for field/attribute createImage."));
                return;
            case "createBackup":
                await CreateBackupAsync(r, server, args as JsonObject ?? throw ApiError.BadRequest("Invalid input for field/attribute createBackup."));
                return;
            case "resize":
                await ResizeAsync(r, server, args as JsonObject ?? throw ApiError.BadRequest("Invalid input for field/attribute resize."));
                return;
            case "confirmResize" or "revertResize":
                if (Str(server, "vm_state") != "resized") throw ApiError.Conflict($"Cannot '{action}' instance {Str(server, "id")} while it is in vm_state {Str(server, "vm_state")}");
                if (action == "revertResize")
                {
                    server["flavor"] = server["_old_flavor"]!.DeepClone();
                    await RestartGuestAsync(Token(r), server);
                }
                else await GrowRootDiskAsync(Token(r), server);
                var wasStopped = Flag(server, "_resized_from_stopped");
                server.Remove("_old_flavor");
                server.Remove("_resized_from_stopped");
                SetState(server, wasStopped ? "SHUTOFF" : "ACTIVE", wasStopped ? "stopped" : "active", wasStopped ? 4 : 1);
                await FinishActionAsync(r, server, action, status: action == "confirmResize" ? 204 : 202);
                return;
            case "rebuild":
                await RebuildAsync(r, server, args as JsonObject ?? throw ApiError.BadRequest("Invalid input for field/attribute rebuild."));
                return;
            case "os-resetState":
                Enforce(r, "admin");
                var state = (args as JsonObject)?["state"]?.ToString();
                if (state is "active") SetState(server, "ACTIVE", "active", 1);
                else if (state is "error") SetState(server, "ERROR", "error", Long(server, "power_state"));
                else throw ApiError.BadRequest($"Invalid input for field/attribute state. Value: {state}. '{state}' is not one of ['active', 'error']");
                await FinishActionAsync(r, server, "resetState");
                return;
            case "changePassword" or "injectNetworkInfo" or "resetNetwork" or "trigger_crash_dump":
                if (action is "injectNetworkInfo" or "resetNetwork") Enforce(r, "admin");
                if (Str(server, "vm_state") != "active" && action is "changePassword" or "trigger_crash_dump")
                    throw ApiError.Conflict($"Cannot '{action}' instance {Str(server, "id")} while it is in vm_state {Str(server, "vm_state")}");
                await FinishActionAsync(r, server, action);
                return;
            case "addFloatingIp" or "removeFloatingIp":
                await FloatingIpActionAsync(r, server, action, args as JsonObject);
                return;
            case "restore" or "forceDelete":
                // Deletes are immediate here (Nova's reclaim_instance_interval is 0 by default): no server is ever soft-deleted.
                throw ApiError.Conflict($"Cannot '{action}' instance {Str(server, "id")} while it is in vm_state {Str(server, "vm_state")}");
            case "addSecurityGroup" or "removeSecurityGroup":
                await ChangeSecurityGroupAsync(r, server, action == "addSecurityGroup", args as JsonObject);
                return;
            default:
                throw ApiError.BadRequest($"There is no such action: {action}");
        }
    }

    private static void SetState(JsonObject server, string status, string vmState, long power)
    {
        server["status"] = status;
        server["vm_state"] = vmState;
        server["task_state"] = null;
        server["power_state"] = power;
    }

    private async Task ChangeStateAsync(ApiRequest r, JsonObject server, string action, string[] from, string status, string vmState, int power)
    {
        var current = Str(server, "vm_state")!;
        if (Array.IndexOf(from, current) < 0 || Str(server, "task_state") is not null)
            throw ApiError.Conflict($"Cannot '{action}' instance {Str(server, "id")} while it is in vm_state {current}");
        if (action == "shelve") await ShelveImageAsync(r, server);
        if (action == "unshelve") await DeleteShelvedImageAsync(r, server);
        if (StopsInBackground(action))
        {
            server["task_state"] = action == "shelve" ? "shelving" : "powering-off";
            await FinishActionAsync(r, server, action.Replace("os-", ""));
            StopInBackground(Str(server, "id")!, status, vmState, power);
            return;
        }
        await DrivePowerAsync(r, server, action);
        SetState(server, status, vmState, power);
        await FinishActionAsync(r, server, action.Replace("os-", ""));
    }

    /// <summary>Saves the server, logs the action and answers 202 (or the given status) with no body.</summary>
    private async Task FinishActionAsync(ApiRequest r, JsonObject server, string action, int status = 202)
    {
        await RecordActionAsync(r, server, action, save: false);
        await SaveServerAsync(server);
        await ApiResponses.NoContent(r.Context, status);
    }

    private async Task ResizeAsync(ApiRequest r, JsonObject server, JsonObject args)
    {
        var current = Str(server, "vm_state")!;
        if (current is not ("active" or "stopped")) throw ApiError.Conflict($"Cannot 'resize' instance {Str(server, "id")} while it is in vm_state {current}");
        var flavorRef = LastSegment(JsonBody.OptionalString(args, "flavorRef", "resize") ?? throw ApiError.BadRequest("Invalid input for field/attribute resize. 'flavorRef' is a required property"));
        await SeedFlavorsAsync();
        var flavor = await LoadAsync(FlavorKind, flavorRef);
        if (flavor is null || !MayUse(r, flavor)) throw ApiError.BadRequest($"Unable to find flavor {flavorRef}");
        var old = server["flavor"]!.AsObject();
        if (Str(old, "id") == flavorRef) throw ApiError.BadRequest("When resizing, instances must change flavor!");
        if (Long(flavor, "disk") < Long(old, "disk") && Str(server, "image_id") is { Length: > 0 }) throw ApiError.BadRequest("Resize error: Unable to resize disk down.");
        // As Nova's _check_quota_for_upsize: a larger flavor must fit the server's own project's cores and RAM quotas.
        var project = Str(server, "tenant_id")!;
        var usage = await UsageAsync(project);
        foreach (var (resource, field) in new[] { ("cores", "vcpus"), ("ram", "ram") })
        {
            var delta = Long(flavor, field) - Long(old, field);
            var limit = await LimitAsync(project, resource);
            if (delta > 0 && limit >= 0 && usage[resource] + delta > limit)
                throw new ApiError(403, $"Quota exceeded for {resource}: Requested {delta}, but already used {usage[resource]} of {limit} {resource}");
        }
        if (DiskConfig(args) is { } diskConfig) server["OS-DCF:diskConfig"] = diskConfig;
        server["_old_flavor"] = old.DeepClone();
        server["_resized_from_stopped"] = current == "stopped";
        server["flavor"] = FlavorSnapshot(flavor);
        await RestartGuestAsync(Token(r), server);
        SetState(server, "VERIFY_RESIZE", "resized", current == "stopped" ? 4 : 1);
        await FinishActionAsync(r, server, "resize");
    }

    private async Task RebuildAsync(ApiRequest r, JsonObject server, JsonObject args)
    {
        var current = Str(server, "vm_state")!;
        if (current is not ("active" or "stopped" or "error")) throw ApiError.Conflict($"Cannot 'rebuild' instance {Str(server, "id")} while it is in vm_state {current}");
        var imageRef = LastSegment(JsonBody.OptionalString(args, "imageRef", "rebuild") ?? throw ApiError.BadRequest("Invalid input for field/attribute rebuild. 'imageRef' is a required property"));
        var image = await _clients.ImageAsync(Token(r), imageRef) ?? throw ApiError.BadRequest($"Image {imageRef} could not be found.");
        if (Str(image, "status") != "active") throw ApiError.BadRequest($"Image {imageRef} is not active.");
        if (Str(server, "image_id") is not { Length: > 0 }) throw ApiError.BadRequest("Rebuilding a volume-backed server is not supported.");
        // The root disk is made anew from the new image; ephemeral and swap disks stay, as Nova keeps them.
        if (RootDisk(server) is not null)
        {
            await _driver.StopAsync(Str(server, "id")!, graceful: false);
            await DeleteLocalDisksAsync(Token(r), server, "root");
            await MakeLocalDiskAsync(Token(r), server, "root", RootBytes(server, image), Str(image, "id"));
        }
        server["image_id"] = Str(image, "id");
        if (args.ContainsKey("name")) server["name"] = Name(args, "name");
        if (DiskConfig(args) is { } diskConfig) server["OS-DCF:diskConfig"] = diskConfig;
        if (args["metadata"] is not null) server["metadata"] = ToObject(Metadata(args["metadata"], "metadata"));
        if (AtLeast(r, 19) && args.ContainsKey("description")) server["description"] = JsonBody.OptionalString(args, "description", "rebuild");
        if (AtLeast(r, 54) && args.ContainsKey("key_name"))
        {
            var key = JsonBody.OptionalString(args, "key_name", "rebuild");
            if (key is not null && await LoadAsync(KeypairKind, Me(r).UserId + "/" + key) is null) throw ApiError.BadRequest("Invalid key_name provided.");
            server["key_name"] = key;
        }
        if (AtLeast(r, 57) && args.ContainsKey("user_data")) server["user_data"] = JsonBody.OptionalString(args, "user_data", "rebuild");
        if (current != "stopped") await _driver.StartAsync(await GuestSpecAsync(Token(r), server));
        SetState(server, current == "stopped" ? "SHUTOFF" : "ACTIVE", current == "stopped" ? "stopped" : "active", current == "stopped" ? 4 : 1);
        AppendConsole(server, $"rebuilt from image {Str(image, "id")}");
        await RecordActionAsync(r, server, "rebuild", save: false);
        await SaveServerAsync(server);
        await WriteServerAsync(r, 202, server, JsonBody.OptionalString(args, "adminPass", "rebuild") ?? Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(9)), ServerAnswer.Rebuild);
    }

    private async Task ChangeSecurityGroupAsync(ApiRequest r, JsonObject server, bool add, JsonObject? args)
    {
        var name = args?["name"]?.ToString() ?? throw ApiError.BadRequest("Security group name cannot be empty");
        var group = await FindSecurityGroupAsync(r, name) ?? throw ApiError.NotFound($"Security group {name} not found for project {Project(r)}.");
        var token = Token(r);
        var ports = ((await _clients.NetworkGetAsync(token, $"/ports?device_id={Str(server, "id")}"))?["ports"] as JsonArray ?? []).OfType<JsonObject>().ToList();
        if (ports.Count == 0) throw ApiError.BadRequest($"Server {Str(server, "id")} has no ports to change the security groups of.");
        foreach (var port in ports)
        {
            var groups = (port["security_groups"] as JsonArray ?? []).Select(g => g!.GetValue<string>()).ToList();
            if (add && groups.Contains(group.Id)) throw ApiError.BadRequest($"Security group {name} is already associated with the instance {Str(server, "id")}");
            if (!add && !groups.Contains(group.Id)) throw ApiError.BadRequest($"Security group {name} not associated with the instance {Str(server, "id")}");
            if (add) groups.Add(group.Id);
            else groups.Remove(group.Id);
            await _clients.NetworkSendAsync(HttpMethod.Put, token, $"/ports/{Str(port, "id")}", new JsonObject
            {
                ["port"] = new JsonObject { ["security_groups"] = new JsonArray([.. groups.Select(g => (JsonNode)g)]) },
            });
        }
        await FinishActionAsync(r, server, add ? "addSecurityGroup" : "removeSecurityGroup");
    }
}
