using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using StorageCloud.Compute.Drivers;
using StorageCloud.Service.Api;

namespace StorageCloud.Compute.Nova;

/// <summary>
/// The driver's side of server actions: what each power action asks of the guest, the guest a server is started as
/// (its flavor, its disks' NBD exports in device order, its ports' MACs), a stop in the background (an ACPI power-off
/// may take the shutdown timeout, so the API answers at once with task_state powering-off, as Nova does), and the
/// power-state sync: a guest that stops by itself makes its server SHUTOFF.
/// </summary>
public sealed partial class NovaApi
{
    /// <summary>The guest a server runs as now.</summary>
    private async Task<GuestSpec> GuestSpecAsync(string token, JsonObject server)
    {
        var id = Str(server, "id")!;
        var flavor = server["flavor"]!.AsObject();
        var disks = new List<GuestDisk>();
        foreach (var disk in (server["_disks"] as JsonArray ?? []).OfType<JsonObject>())
            if (Str(disk, "export") is { } export) disks.Add(new GuestDisk(Str(disk, "device")!, export));
        foreach (var volume in (server["_volumes"] as JsonArray ?? []).OfType<JsonObject>())
            if (Str(volume, "export") is { } export) disks.Add(new GuestDisk(Str(volume, "device")!, export, Str(volume, "volumeId")));
        disks.Sort((a, b) => a.Device.Length != b.Device.Length ? a.Device.Length - b.Device.Length : string.CompareOrdinal(a.Device, b.Device));
        var nics = new List<GuestNic>();
        if (_clients.NetworkUrl is not null && server["_ports"] is JsonArray { Count: > 0 })
            foreach (var port in ((await _clients.NetworkGetAsync(token, $"/ports?device_id={id}"))?["ports"] as JsonArray ?? []).OfType<JsonObject>())
                if (Str(port, "mac_address") is { } mac) nics.Add(new GuestNic(Str(port, "id")!, mac));
        return new GuestSpec(id, (int)Math.Max(1, Long(flavor, "vcpus")), Math.Max(16, Long(flavor, "ram")), disks, nics);
    }

    /// <summary>Asks the driver for what a power action does to the guest; a stop is left to <see cref="StopInBackground"/>.</summary>
    private async Task DrivePowerAsync(ApiRequest r, JsonObject server, string action)
    {
        if (!_driver.RunsGuests) return;
        var id = Str(server, "id")!;
        switch (action)
        {
            case "os-start" or "unshelve":
                await _driver.StartAsync(await GuestSpecAsync(Token(r), server));
                break;
            case "pause" or "suspend":
                await _driver.PauseAsync(id, pause: true);
                break;
            case "unpause":
                await _driver.PauseAsync(id, pause: false);
                break;
            case "resume" or "reboot":
                if (await _driver.PowerAsync(id) == GuestPower.Shutdown)
                {
                    await _driver.StartAsync(await GuestSpecAsync(Token(r), server));
                    break;
                }
                if (action == "reboot") await _driver.RebootAsync(id);
                await _driver.PauseAsync(id, pause: false);
                break;
        }
    }

    /// <summary>True when the action stops the guest, which the qemu driver does in the background.</summary>
    private bool StopsInBackground(string action) => _driver.RunsGuests && action is "os-stop" or "shelve";

    /// <summary>Stops the guest, then records the state the action leaves (the record says powering-off meanwhile).</summary>
    private void StopInBackground(string id, string status, string vmState, int power) => _ = Task.Run(async () =>
    {
        try
        {
            await _driver.StopAsync(id, graceful: true);
        }
        catch (Exception e)
        {
            _logger.LogWarning("guest {Id} did not stop cleanly: {Message}", id, e.Message);
        }
        if (await LoadAsync(ServerKind, id) is not { } server || Flag(server, "_deleted")) return;
        SetState(server, status, vmState, power);
        await SaveServerAsync(server);
    });

    /// <summary>Restarts a running guest (after its flavor changed: a new process has the new vCPUs and RAM).</summary>
    private async Task RestartGuestAsync(string token, JsonObject server)
    {
        if (!_driver.RunsGuests || await _driver.PowerAsync(Str(server, "id")!) == GuestPower.Shutdown) return;
        await _driver.StopAsync(Str(server, "id")!, graceful: true);
        await _driver.StartAsync(await GuestSpecAsync(token, server));
    }

    /// <summary>A guest that stopped by itself: its server becomes SHUTOFF, as Nova's power-state sync makes it.</summary>
    private async Task GuestStoppedAsync(string id)
    {
        try
        {
            if (await LoadAsync(ServerKind, id) is not { } server || Flag(server, "_deleted")) return;
            if (Str(server, "vm_state") is not ("active" or "paused" or "suspended" or "rescued") || Str(server, "task_state") is not null) return;
            SetState(server, "SHUTOFF", "stopped", 4);
            AppendConsole(server, "the guest stopped by itself");
            await SaveServerAsync(server);
        }
        catch (Exception e)
        {
            _logger.LogWarning("the stopped guest {Id} was not recorded: {Message}", id, e.Message);
        }
    }

    /// <summary>
    /// Every running server's guest asked for its power: one whose process is gone (the host restarted, or the
    /// process was killed while this service was not watching) becomes SHUTOFF.
    /// </summary>
    public async Task SyncPowerStatesAsync(CancellationToken cancellationToken)
    {
        if (!_driver.RunsGuests) return;
        foreach (var server in await AllAsync(ServerKind))
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (Flag(server, "_deleted") || Str(server, "vm_state") is not ("active" or "paused") || Str(server, "task_state") is not null) continue;
            if (await _driver.PowerAsync(Str(server, "id")!) == GuestPower.Shutdown) await GuestStoppedAsync(Str(server, "id")!);
        }
    }

    /// <summary>The console output: the guest's serial console when a driver keeps it, else the record's lines.</summary>
    private List<string> ConsoleLines(JsonObject server)
    {
        if (_driver.ConsoleLog(Str(server, "id")!) is { } log)
            return log.Length == 0 ? [] : [.. log.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n', StringSplitOptions.None).SkipLast(log.EndsWith('\n') ? 1 : 0)];
        return (server["_console"] as JsonArray ?? []).Select(l => l!.GetValue<string>()).ToList();
    }
}
