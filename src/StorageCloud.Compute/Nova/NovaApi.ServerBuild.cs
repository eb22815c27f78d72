using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using StorageCloud.Compute.Clients;
using StorageCloud.Service.Api;

namespace StorageCloud.Compute.Nova;

/// <summary>
/// A server's build (ports, local disks, volumes, then the driver starts the guest: ACTIVE), tear-down (volumes detached and those
/// marked delete_on_termination deleted, ports made for the server deleted, ports given to it released), and the
/// network view that servers are shown with.
/// </summary>
public sealed partial class NovaApi
{
    private async Task BuildAsync(string id, BuildPlan plan)
    {
        var server = await LoadAsync(ServerKind, id);
        if (server is null) return;
        var project = Str(server, "tenant_id")!;
        try
        {
            // As Nova's scheduler: the build is accepted (202) and the server ends in ERROR when no host takes it.
            if (!await HostAcceptsServersAsync()) throw new ApiError(500, "No valid host was found. The only compute host is disabled or in maintenance (os-hosts).");
            server["task_state"] = "networking";
            foreach (var nic in plan.Nics) await PlugPortAsync(plan.Token, server, nic, plan.SecurityGroups);
            server["task_state"] = "block_device_mapping";
            await MakeLocalDisksAsync(plan.Token, server, plan);
            foreach (var volume in plan.Volumes.OrderBy(v => v.BootIndex < 0 ? int.MaxValue : v.BootIndex))
            {
                var volumeId = volume.Source == "volume" ? volume.Uuid! : await MakeVolumeAsync(plan.Token, project, volume);
                await AttachVolumeAsync(plan.Token, server, volumeId, volume.Device, volume.DeleteOnTermination, boot: volume.BootIndex == 0);
            }
            server["task_state"] = "spawning";
            await _driver.StartAsync(await GuestSpecAsync(plan.Token, server));
            var view = await NetworkViewForAsync(plan.Token, [server]);
            server["_addresses"] = view.AddressesOf(server);
            server["status"] = "ACTIVE";
            server["vm_state"] = "active";
            server["task_state"] = null;
            server["power_state"] = 1;
            server["launched_at"] = Now();
            if (!_driver.RunsGuests) AppendFakeBootLog(server);
        }
        catch (Exception e)
        {
            _logger.LogWarning("server {Id} failed to build: {Message}", id, e.Message);
            server["status"] = "ERROR";
            server["vm_state"] = "error";
            server["task_state"] = null;
            server["fault"] = new JsonObject { ["code"] = e is ApiError a ? a.Status : 500, ["message"] = $"Build of instance {id} aborted: {e.Message}", ["created"] = Now() };
            await _driver.StopAsync(id, graceful: false);
            await ReleasePortsAsync(plan.Token, server);
            await DeleteLocalDisksQuietlyAsync(plan.Token, server);
        }
        await SaveServerAsync(server);
    }

    /// <summary>What the fake driver's guest "prints" at boot: the flavor and each disk's device and export.</summary>
    private static void AppendFakeBootLog(JsonObject server)
    {
        AppendConsole(server, $"StorageCloud fake driver: {Str(server, "name")} ({Str(server, "id")}) booted with {Long(server["flavor"]!.AsObject(), "vcpus")} vCPU, {Long(server["flavor"]!.AsObject(), "ram")} MiB");
        foreach (var disk in (server["_disks"] as JsonArray ?? []).OfType<JsonObject>())
            AppendConsole(server, $"{Str(disk, "device")}: {Str(disk, "kind")} disk, {Long(disk, "size")} bytes, {Str(disk, "export")}");
        AppendConsole(server, $"{Str(server, "hostname")} login:");
    }

    /// <summary>Gives the server a port: the one asked for (its device fields set), or one made on the network asked for. Returns the port's id.</summary>
    private async Task<string> PlugPortAsync(string token, JsonObject server, NicRequest nic, IReadOnlyList<string> securityGroups)
    {
        var id = Str(server, "id")!;
        if (nic.PortId is not null)
        {
            await _clients.NetworkSendAsync(HttpMethod.Put, token, $"/ports/{nic.PortId}", new JsonObject
            {
                ["port"] = new JsonObject { ["device_id"] = id, ["device_owner"] = "compute:nova", ["binding:host_id"] = _settings.HostName },
            });
            server["_ports"]!.AsArray().Add(new JsonObject { ["id"] = nic.PortId, ["created"] = false });
            return nic.PortId;
        }
        var port = new JsonObject
        {
            ["network_id"] = nic.NetworkId, ["device_id"] = id, ["device_owner"] = "compute:nova", ["binding:host_id"] = _settings.HostName,
        };
        if (securityGroups.Count > 0) port["security_groups"] = new JsonArray([.. securityGroups.Select(g => (JsonNode)g)]);
        if (nic.FixedIp is not null) port["fixed_ips"] = new JsonArray(new JsonObject { ["ip_address"] = nic.FixedIp });
        var made = await _clients.NetworkSendAsync(HttpMethod.Post, token, "/ports", new JsonObject { ["port"] = port });
        var portId = made!["port"]!["id"]!.GetValue<string>();
        server["_ports"]!.AsArray().Add(new JsonObject { ["id"] = portId, ["created"] = true });
        return portId;
    }

    /// <summary>Gives a port back: deleted when the server made it, else its device fields cleared. A port already gone is fine.</summary>
    private async Task UnplugPortAsync(string token, JsonObject server, JsonObject port)
    {
        try
        {
            if (Flag(port, "created")) await _clients.NetworkSendAsync(HttpMethod.Delete, token, $"/ports/{Str(port, "id")}");
            else
                await _clients.NetworkSendAsync(HttpMethod.Put, token, $"/ports/{Str(port, "id")}", new JsonObject
                {
                    ["port"] = new JsonObject { ["device_id"] = "", ["device_owner"] = "", ["binding:host_id"] = "" },
                });
        }
        catch (ApiError e) when (e.Status == 404)
        {
            // Already gone.
        }
        server["_ports"]!.AsArray().Remove(port);
    }

    private const int MaxConsoleLines = 500;

    /// <summary>A console line, as the fake driver's guest would have written it.</summary>
    private static void AppendConsole(JsonObject server, string line)
    {
        var console = server["_console"] as JsonArray ?? [];
        server["_console"] = console;
        console.Add($"[{DateTimeOffset.UtcNow:HH:mm:ss}] {line}");
        // The log is kept in the server's record: its oldest lines go, as a serial console's ring buffer drops them.
        while (console.Count > MaxConsoleLines) console.RemoveAt(0);
    }

    /// <summary>A volume made for a block device mapping (from an image, a snapshot or blank), once the volume service says it is available.</summary>
    private async Task<string> MakeVolumeAsync(string token, string project, VolumeRequest request)
    {
        var volume = new JsonObject { ["size"] = request.SizeGb, ["name"] = "" };
        if (request.Source == "image") volume["imageRef"] = request.Uuid;
        if (request.Source == "snapshot") volume["snapshot_id"] = request.Uuid;
        var answer = await _clients.VolumeSendAsync(HttpMethod.Post, token, project, "/volumes", new JsonObject { ["volume"] = volume });
        if (!answer.Ok) throw CloudClients.Failed("volume", answer);
        var id = answer.Body!["volume"]!["id"]!.GetValue<string>();
        for (var attempt = 0; attempt < 1200; attempt++)
        {
            var shown = await _clients.VolumeSendAsync(HttpMethod.Get, token, project, $"/volumes/{id}");
            var status = shown.Body?["volume"]?["status"]?.GetValue<string>();
            if (status == "available") return id;
            if (status is "error" or null) throw new ApiError(500, $"Volume {id} did not become available (it is {status ?? "gone"}).");
            await Task.Delay(250);
        }
        throw new ApiError(500, $"Volume {id} did not become available in time.");
    }

    /// <summary>
    /// Attaches a volume as Nova does with the volume service's attachments API (3.44): an attachment for the server
    /// with this host's connector, then os-complete, which makes the volume in-use.
    /// </summary>
    private async Task<JsonObject> AttachVolumeAsync(string token, JsonObject server, string volumeId, string? device, bool deleteOnTermination, bool boot)
    {
        var project = Str(server, "tenant_id")!;
        var attached = server["_volumes"]!.AsArray();
        if (attached.Any(a => Str(a!.AsObject(), "volumeId") == volumeId))
            throw ApiError.BadRequest($"Invalid volume: volume {volumeId} is already attached to instance {Str(server, "id")}");
        device ??= boot ? "/dev/vda" : NextDevice(server);
        var answer = await _clients.VolumeSendAsync(HttpMethod.Post, token, project, "/attachments", new JsonObject
        {
            ["attachment"] = new JsonObject
            {
                ["volume_uuid"] = volumeId,
                ["instance_uuid"] = Str(server, "id"),
                ["connector"] = new JsonObject
                {
                    ["host"] = _settings.HostName, ["ip"] = "127.0.0.1", ["platform"] = "x86_64", ["os_type"] = "linux", ["multipath"] = false,
                    ["mountpoint"] = device,
                },
                ["mode"] = "rw",
            },
        });
        if (answer.Status == HttpStatusCode.NotFound) throw ApiError.NotFound($"Volume {volumeId} could not be found.");
        if (!answer.Ok) throw new ApiError((int)answer.Status is >= 400 and < 500 ? 400 : 503, CloudClients.MessageOf(answer.Body) ?? $"Volume {volumeId} could not be attached.");
        var attachmentId = answer.Body!["attachment"]!["id"]!.GetValue<string>();
        var export = answer.Body!["attachment"]!["connection_info"]?["data"]?["uri"]?.ToString();
        try
        {
            // A running guest gets the disk plugged in before the volume is marked in-use.
            if (export is not null) await _driver.AttachAsync(Str(server, "id")!, volumeId, new Drivers.GuestDisk(device, export));
        }
        catch
        {
            await _clients.VolumeSendAsync(HttpMethod.Delete, token, project, $"/attachments/{attachmentId}");
            throw;
        }
        var complete = await _clients.VolumeSendAsync(HttpMethod.Post, token, project, $"/attachments/{attachmentId}/action", new JsonObject { ["os-complete"] = null });
        if (!complete.Ok)
        {
            await _clients.VolumeSendAsync(HttpMethod.Delete, token, project, $"/attachments/{attachmentId}");
            throw CloudClients.Failed("volume", complete);
        }
        var record = new JsonObject
        {
            ["id"] = volumeId, ["volumeId"] = volumeId, ["serverId"] = Str(server, "id"), ["device"] = device, ["tag"] = null,
            ["delete_on_termination"] = deleteOnTermination, ["attachment_id"] = attachmentId, ["boot"] = boot, ["export"] = export,
        };
        attached.Add(record);
        return record;
    }

    private static string NextDevice(JsonObject server)
    {
        var used = (server["_volumes"] as JsonArray ?? []).Concat(server["_disks"] as JsonArray ?? []).Select(a => Str(a!.AsObject(), "device")).ToHashSet();
        // vda is the root disk; vdb and vdc the flavor's ephemeral and swap disks when it has them.
        for (var letter = 'b'; letter <= 'z'; letter++)
            if (!used.Contains($"/dev/vd{letter}")) return $"/dev/vd{letter}";
        throw ApiError.BadRequest("No free disk device names for prefix 'vd'");
    }

    /// <summary>Detaches a volume (the attachment deleted, so the volume service makes it available again) and deletes it when asked.</summary>
    private async Task DetachVolumeAsync(string token, JsonObject server, JsonObject record, bool deleteVolume)
    {
        var project = Str(server, "tenant_id")!;
        if (!await _driver.DetachAsync(Str(server, "id")!, Str(record, "volumeId")!))
            throw ApiError.Conflict($"The guest of instance {Str(server, "id")} did not release volume {Str(record, "volumeId")}; it stays attached.");
        var attachment = Str(record, "attachment_id");
        if (attachment is not null)
        {
            var answer = await _clients.VolumeSendAsync(HttpMethod.Delete, token, project, $"/attachments/{attachment}");
            if (!answer.Ok && answer.Status != HttpStatusCode.NotFound) throw CloudClients.Failed("volume", answer);
        }
        server["_volumes"]!.AsArray().Remove(record);
        if (deleteVolume)
        {
            var deleted = await _clients.VolumeSendAsync(HttpMethod.Delete, token, project, $"/volumes/{Str(record, "volumeId")}");
            if (!deleted.Ok && deleted.Status != HttpStatusCode.NotFound)
                _logger.LogWarning("volume {Volume} of deleted server {Server} was not deleted: {Status}", Str(record, "volumeId"), Str(server, "id"), deleted.Status);
        }
    }

    /// <summary>Gives back what a server holds: its volumes (deleted when asked) and its ports. Failures are logged; the server goes anyway.</summary>
    private async Task TearDownAsync(string token, JsonObject server)
    {
        foreach (var record in (server["_volumes"] as JsonArray ?? []).OfType<JsonObject>().ToList())
        {
            try
            {
                await DetachVolumeAsync(token, server, record, Flag(record, "delete_on_termination"));
            }
            catch (ApiError e)
            {
                _logger.LogWarning("volume {Volume} of server {Server} was not detached: {Message}", Str(record, "volumeId"), Str(server, "id"), e.Message);
            }
        }
        await ReleasePortsAsync(token, server);
        await DeleteLocalDisksQuietlyAsync(token, server);
    }

    private async Task DeleteLocalDisksQuietlyAsync(string token, JsonObject server)
    {
        try
        {
            await DeleteLocalDisksAsync(token, server);
        }
        catch (ApiError e)
        {
            _logger.LogWarning("local disks of server {Server} were not deleted: {Message}", Str(server, "id"), e.Message);
        }
    }

    private async Task ReleasePortsAsync(string token, JsonObject server)
    {
        foreach (var port in (server["_ports"] as JsonArray ?? []).OfType<JsonObject>().ToList())
        {
            try
            {
                await UnplugPortAsync(token, server, port);
            }
            catch (ApiError e)
            {
                _logger.LogWarning("port {Port} of server {Server} was not released: {Message}", Str(port, "id"), Str(server, "id"), e.Message);
            }
        }
        server["_ports"] = new JsonArray();
    }

    private Task<NetworkView> NetworkViewAsync(ApiRequest r, IReadOnlyList<JsonObject> servers) => NetworkViewForAsync(Token(r), servers);

    /// <summary>The servers' ports, networks, floating addresses and security groups from the network service (4 requests, whatever the count).</summary>
    private async Task<NetworkView> NetworkViewForAsync(string token, IReadOnlyList<JsonObject> servers)
    {
        if (_clients.NetworkUrl is null || servers.Count == 0) return NetworkView.Empty;
        try
        {
            var ids = servers.Select(s => Str(s, "id")!).ToHashSet();
            var query = servers.Count == 1 ? $"/ports?device_id={Str(servers[0], "id")}" : "/ports?device_owner=compute:nova";
            var ports = ((await _clients.NetworkGetAsync(token, query))?["ports"] as JsonArray ?? []).OfType<JsonObject>()
                .Where(p => ids.Contains(Str(p, "device_id") ?? "")).ToList();
            var byServer = new Dictionary<string, List<JsonObject>>();
            foreach (var s in servers)
                if (!Flag(s, "_deleted") && Str(s, "status") != "BUILD") byServer[Str(s, "id")!] = [];
            foreach (var p in ports)
                if (byServer.TryGetValue(Str(p, "device_id")!, out var list)) list.Add(p);
            var networkNames = new Dictionary<string, string>();
            var floating = new Dictionary<string, List<string>>();
            var groupNames = new Dictionary<string, string>();
            if (ports.Count > 0)
            {
                foreach (var n in ((await _clients.NetworkGetAsync(token, "/networks?fields=id&fields=name"))?["networks"] as JsonArray ?? []).OfType<JsonObject>())
                    networkNames[Str(n, "id")!] = Str(n, "name") ?? "";
                foreach (var f in ((await _clients.NetworkGetAsync(token, "/floatingips"))?["floatingips"] as JsonArray ?? []).OfType<JsonObject>())
                {
                    if (Str(f, "port_id") is not { } port) continue;
                    if (!floating.TryGetValue(port, out var list)) floating[port] = list = [];
                    list.Add(Str(f, "floating_ip_address")!);
                }
                foreach (var g in ((await _clients.NetworkGetAsync(token, "/security-groups?fields=id&fields=name"))?["security_groups"] as JsonArray ?? []).OfType<JsonObject>())
                    groupNames[Str(g, "id")!] = Str(g, "name") ?? "";
            }
            return new NetworkView(byServer, networkNames, floating, groupNames);
        }
        catch (ApiError e)
        {
            _logger.LogWarning("network view unavailable: {Message}", e.Message);
            return NetworkView.Empty;
        }
    }
}
