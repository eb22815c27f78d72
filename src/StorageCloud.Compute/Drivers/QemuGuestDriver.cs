using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using StorageCloud.Service.Api;

namespace StorageCloud.Compute.Drivers;

/// <summary>
/// Runs each started server as a <c>qemu-system-x86_64</c> process: KVM when /dev/kvm can be opened, else TCG; the
/// flavor's vCPUs and RAM; the server's disks as virtio disks reading and writing their NBD exports (the boot disk
/// first; a volume's QEMU names derive from its id, so it can be unplugged whether it was plugged at start or later); one user-mode NIC per port with the port's MAC; the serial console appended to a file that is the
/// console log; a QMP socket for power-off, pause, reset and disk hot-plug. A guest whose process ends by itself is
/// reported through <see cref="GuestStopped"/>. Each guest's files live in InstancesDir/&lt;server id&gt;.
/// </summary>
public sealed class QemuGuestDriver : IGuestDriver, IDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);
    private readonly ComputeSettings _settings;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, Guest> _guests = new();
    private readonly bool _kvm;

    /// <summary>A running guest's process and whether the API asked it to stop.</summary>
    private sealed class Guest(Process process, string directory)
    {
        public Process Process { get; } = process;

        public string Directory { get; } = directory;

        public string QmpSocket => Path.Combine(Directory, "qmp.sock");

        public volatile bool StopRequested;

        public readonly StringBuilder Errors = new();
    }

    /// <summary>Makes the instances directory and ends guests a previous run of this process left behind.</summary>
    public QemuGuestDriver(ComputeSettings settings, ILogger<QemuGuestDriver> logger)
    {
        (_settings, _logger) = (settings, logger);
        Directory.CreateDirectory(settings.InstancesDir);
        _kvm = settings.QemuAccelerator == "kvm" || (settings.QemuAccelerator == "auto" && KvmUsable());
        EndLeftoverGuests();
    }

    /// <inheritdoc />
    public string Name => "qemu";

    /// <inheritdoc />
    public bool RunsGuests => true;

    /// <summary>"kvm" or "tcg": what guests run on here.</summary>
    public string Accelerator => _kvm ? "kvm" : "tcg";

    /// <inheritdoc />
    public event Action<string>? GuestStopped;

    private string DirectoryOf(string id) => Path.Combine(_settings.InstancesDir, id);

    private static bool KvmUsable()
    {
        try
        {
            using var kvm = new FileStream("/dev/kvm", FileMode.Open, FileAccess.ReadWrite);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>
    /// A guest process outlives the compute service that started it when that service is killed; its record says it
    /// runs but nothing would manage it. Such leftovers are ended at start (the power-state sync then shows them
    /// SHUTOFF, as Nova shows guests after a host restart).
    /// </summary>
    private void EndLeftoverGuests()
    {
        foreach (var directory in Directory.EnumerateDirectories(_settings.InstancesDir))
        {
            var pidFile = Path.Combine(directory, "qemu.pid");
            if (!File.Exists(pidFile) || !int.TryParse(File.ReadAllText(pidFile).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)) continue;
            try
            {
                var commandLine = File.ReadAllText($"/proc/{pid}/cmdline");
                if (commandLine.Contains(directory, StringComparison.Ordinal))
                {
                    using var process = Process.GetProcessById(pid);
                    process.Kill();
                    _logger.LogWarning("ended guest process {Pid} left running by an earlier compute service ({Directory})", pid, directory);
                }
            }
            catch (Exception e) when (e is IOException or ArgumentException or InvalidOperationException or UnauthorizedAccessException)
            {
                // The process is gone already.
            }
            File.Delete(pidFile);
        }
    }

    /// <summary>QEMU's option syntax: a comma inside a value is written twice.</summary>
    private static string Escape(string value) => value.Replace(",", ",,", StringComparison.Ordinal);

    private List<string> Arguments(GuestSpec spec, string directory)
    {
        var args = new List<string>
        {
            "-name", spec.Id, "-uuid", spec.Id,
            "-accel", Accelerator,
            "-smp", spec.Vcpus.ToString(CultureInfo.InvariantCulture),
            "-m", spec.RamMb.ToString(CultureInfo.InvariantCulture),
            "-nodefaults", "-no-user-config", "-display", "none",
            "-chardev", $"file,id=console,path={Escape(Path.Combine(directory, "console.log"))},append=on",
            "-serial", "chardev:console",
            "-qmp", $"unix:{Escape(Path.Combine(directory, "qmp.sock"))},server=on,wait=off",
            "-pidfile", Path.Combine(directory, "qemu.pid"),
        };
        for (var i = 0; i < spec.Disks.Count; i++)
        {
            var disk = spec.Disks[i];
            var (node, device) = disk.VolumeId is { } volume ? (NodeName(volume), DeviceNameOf(volume)) : ("disk-" + DeviceId(disk.Device), DeviceId(disk.Device));
            var uri = new Uri(disk.NbdUri);
            args.AddRange(["-blockdev", $"driver=raw,node-name={node},file.driver=nbd,file.server.type=inet,file.server.host={Escape(uri.DnsSafeHost)}," +
                $"file.server.port={uri.Port.ToString(CultureInfo.InvariantCulture)},file.export={Escape(uri.AbsolutePath.TrimStart('/'))}"]);
            args.AddRange(["-device", $"virtio-blk-pci,drive={node},id={device},bootindex={i.ToString(CultureInfo.InvariantCulture)}"]);
        }
        foreach (var nic in spec.Nics)
        {
            args.AddRange(["-netdev", $"user,id={NetdevName(nic.PortId)}"]);
            args.AddRange(["-device", $"virtio-net-pci,netdev={NetdevName(nic.PortId)},mac={Escape(nic.Mac)},id={NicName(nic.PortId)}"]);
        }
        return args;
    }

    /// <summary>The QEMU device id of a disk: its device name without /dev/ (vda, vdb, ...).</summary>
    private static string DeviceId(string device) => device.StartsWith("/dev/", StringComparison.Ordinal) ? device[5..] : device;

    /// <inheritdoc />
    public async Task StartAsync(GuestSpec spec)
    {
        if (_guests.TryGetValue(spec.Id, out var running) && !running.Process.HasExited) return;
        var directory = DirectoryOf(spec.Id);
        Directory.CreateDirectory(directory);
        File.Delete(Path.Combine(directory, "qmp.sock"));
        var start = new ProcessStartInfo(_settings.QemuBinary) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var arg in Arguments(spec, directory)) start.ArgumentList.Add(arg);
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException("no process");
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            throw new ApiError(500, $"The qemu driver could not run {_settings.QemuBinary}: {e.Message}");
        }
        var guest = new Guest(process, directory);
        process.EnableRaisingEvents = true;
        process.ErrorDataReceived += (_, line) =>
        {
            if (line.Data is null) return;
            lock (guest.Errors) guest.Errors.AppendLine(line.Data);
        };
        process.OutputDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        process.Exited += (_, _) => Exited(spec.Id, guest);
        _guests[spec.Id] = guest;
        var deadline = DateTime.UtcNow + StartTimeout;
        while (true)
        {
            if (process.HasExited)
            {
                await process.WaitForExitAsync();
                string errors;
                lock (guest.Errors) errors = guest.Errors.ToString().Trim();
                throw new ApiError(500, $"QEMU ended at start (exit code {process.ExitCode}): {errors}");
            }
            if (await PowerOfAsync(guest) == GuestPower.Running) break;
            if (DateTime.UtcNow > deadline)
            {
                await KillAsync(guest);
                throw new ApiError(500, "QEMU did not report the guest running in time.");
            }
            await Task.Delay(50);
        }
        _logger.LogInformation("guest {Id} started: pid {Pid}, {Accelerator}, {Vcpus} vCPU, {Ram} MiB, {Disks} disks", spec.Id, process.Id, Accelerator, spec.Vcpus, spec.RamMb, spec.Disks.Count);
    }

    private void Exited(string id, Guest guest)
    {
        _guests.TryRemove(new KeyValuePair<string, Guest>(id, guest));
        File.Delete(Path.Combine(guest.Directory, "qemu.pid"));
        if (guest.StopRequested) return;
        _logger.LogWarning("guest {Id} stopped by itself (exit code {Code})", id, guest.Process.ExitCode);
        GuestStopped?.Invoke(id);
    }

    /// <inheritdoc />
    public async Task StopAsync(string id, bool graceful)
    {
        if (!_guests.TryGetValue(id, out var guest)) return;
        guest.StopRequested = true;
        if (graceful && _settings.ShutdownTimeout > TimeSpan.Zero && await TryCommandAsync(guest, "system_powerdown"))
        {
            using var wait = new CancellationTokenSource(_settings.ShutdownTimeout);
            try
            {
                await guest.Process.WaitForExitAsync(wait.Token);
            }
            catch (OperationCanceledException)
            {
                _logger.LogInformation("guest {Id} did not power off within {Timeout}; stopping it", id, _settings.ShutdownTimeout);
            }
        }
        await KillAsync(guest);
    }

    /// <summary>Ends the process: QMP quit, then a kill if QEMU does not go.</summary>
    private static async Task KillAsync(Guest guest)
    {
        guest.StopRequested = true;
        if (guest.Process.HasExited) return;
        await TryCommandAsync(guest, "quit");
        using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            await guest.Process.WaitForExitAsync(wait.Token);
        }
        catch (OperationCanceledException)
        {
            guest.Process.Kill();
            await guest.Process.WaitForExitAsync();
        }
    }

    private static async Task<bool> TryCommandAsync(Guest guest, string command)
    {
        try
        {
            await using var qmp = await QmpConnection.OpenAsync(guest.QmpSocket);
            await qmp.ExecuteAsync(command);
            return true;
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or QmpException or OperationCanceledException)
        {
            return false;
        }
    }

    private async Task<JsonNode?> CommandAsync(string id, string command, JsonObject? arguments = null)
    {
        if (!_guests.TryGetValue(id, out var guest)) throw ApiError.Conflict($"Instance {id} is not running.");
        try
        {
            await using var qmp = await QmpConnection.OpenAsync(guest.QmpSocket);
            return await qmp.ExecuteAsync(command, arguments);
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or OperationCanceledException)
        {
            throw new ApiError(500, $"The guest's QEMU did not answer {command}: {e.Message}");
        }
    }

    /// <inheritdoc />
    public Task PauseAsync(string id, bool pause) => _guests.ContainsKey(id) ? CommandAsync(id, pause ? "stop" : "cont") : Task.CompletedTask;

    /// <inheritdoc />
    public Task RebootAsync(string id) => CommandAsync(id, "system_reset");

    /// <inheritdoc />
    public async Task AttachAsync(string id, string volumeId, GuestDisk disk)
    {
        if (!_guests.ContainsKey(id)) return;
        var uri = new Uri(disk.NbdUri);
        await CommandAsync(id, "blockdev-add", new JsonObject
        {
            ["driver"] = "raw",
            ["node-name"] = NodeName(volumeId),
            ["file"] = new JsonObject
            {
                ["driver"] = "nbd",
                ["server"] = new JsonObject { ["type"] = "inet", ["host"] = uri.DnsSafeHost, ["port"] = uri.Port.ToString(CultureInfo.InvariantCulture) },
                ["export"] = uri.AbsolutePath.TrimStart('/'),
            },
        });
        try
        {
            await CommandAsync(id, "device_add", new JsonObject { ["driver"] = "virtio-blk-pci", ["drive"] = NodeName(volumeId), ["id"] = DeviceNameOf(volumeId) });
        }
        catch
        {
            await CommandAsync(id, "blockdev-del", new JsonObject { ["node-name"] = NodeName(volumeId) });
            throw;
        }
    }

    /// <summary>QEMU's names for a hot-plugged volume (node names are at most 31 characters).</summary>
    private static string NodeName(string volumeId) => "v" + volumeId.Replace("-", "", StringComparison.Ordinal)[..24];

    private static string DeviceNameOf(string volumeId) => "volume-" + volumeId;

    /// <inheritdoc />
    public Task<bool> DetachAsync(string id, string volumeId) =>
        UnplugAsync(id, DeviceNameOf(volumeId), "blockdev-del", new JsonObject { ["node-name"] = NodeName(volumeId) });

    /// <summary>QEMU's names for a port's network card and its user-mode backend.</summary>
    private static string NicName(string portId) => "port-" + portId;

    private static string NetdevName(string portId) => "net-" + portId.Replace("-", "", StringComparison.Ordinal)[..24];

    /// <inheritdoc />
    public async Task AttachNicAsync(string id, GuestNic nic)
    {
        if (!_guests.ContainsKey(id)) return;
        await CommandAsync(id, "netdev_add", new JsonObject { ["type"] = "user", ["id"] = NetdevName(nic.PortId) });
        try
        {
            await CommandAsync(id, "device_add", new JsonObject
            {
                ["driver"] = "virtio-net-pci", ["netdev"] = NetdevName(nic.PortId), ["mac"] = nic.Mac, ["id"] = NicName(nic.PortId),
            });
        }
        catch
        {
            await CommandAsync(id, "netdev_del", new JsonObject { ["id"] = NetdevName(nic.PortId) });
            throw;
        }
    }

    /// <inheritdoc />
    public Task<bool> DetachNicAsync(string id, string portId) =>
        UnplugAsync(id, NicName(portId), "netdev_del", new JsonObject { ["id"] = NetdevName(portId) });

    /// <summary>
    /// Unplugs a device, then drops its backend. PCI unplug needs the guest's consent (ACPI eject): a guest that does
    /// not give it within the shutdown timeout keeps the device, as under libvirt, and the answer is false.
    /// </summary>
    private async Task<bool> UnplugAsync(string id, string device, string dropCommand, JsonObject dropArguments)
    {
        if (!_guests.ContainsKey(id)) return true;
        try
        {
            await CommandAsync(id, "device_del", new JsonObject { ["id"] = device });
        }
        catch (QmpException e) when (e.ErrorClass == "DeviceNotFound")
        {
            return true;
        }
        var deadline = DateTime.UtcNow + _settings.ShutdownTimeout;
        while (DateTime.UtcNow < deadline)
        {
            var devices = await CommandAsync(id, "qom-list", new JsonObject { ["path"] = "/machine/peripheral" }) as JsonArray ?? [];
            if (!devices.OfType<JsonObject>().Any(d => d["name"]?.ToString() == device))
            {
                await CommandAsync(id, dropCommand, dropArguments);
                return true;
            }
            await Task.Delay(200);
        }
        return false;
    }

    /// <inheritdoc />
    public Task<GuestPower> PowerAsync(string id) => _guests.TryGetValue(id, out var guest) ? PowerOfAsync(guest) : Task.FromResult(GuestPower.Shutdown);

    private static async Task<GuestPower> PowerOfAsync(Guest guest)
    {
        if (guest.Process.HasExited) return GuestPower.Shutdown;
        try
        {
            await using var qmp = await QmpConnection.OpenAsync(guest.QmpSocket);
            var status = await qmp.ExecuteAsync("query-status");
            return status?["status"]?.ToString() switch
            {
                "running" => GuestPower.Running,
                "shutdown" or "guest-panicked" or "internal-error" => GuestPower.Shutdown,
                _ => GuestPower.Paused,
            };
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or QmpException or OperationCanceledException)
        {
            // Still starting (no socket yet) or ending.
            return guest.Process.HasExited ? GuestPower.Shutdown : GuestPower.Paused;
        }
    }

    /// <inheritdoc />
    public string? ConsoleLog(string id)
    {
        var path = Path.Combine(DirectoryOf(id), "console.log");
        if (!File.Exists(path)) return "";
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        // The tail only: Nova's console log is bounded too, and a chatty guest's file grows without end.
        const long MaxBytes = 1 << 20;
        if (file.Length > MaxBytes) file.Seek(-MaxBytes, SeekOrigin.End);
        using var reader = new StreamReader(file, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    /// <inheritdoc />
    public void Forget(string id)
    {
        try
        {
            Directory.Delete(DirectoryOf(id), recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
            // Never started.
        }
    }

    /// <summary>Ends every guest when the compute service stops: nothing would manage them after it.</summary>
    public void Dispose()
    {
        foreach (var guest in _guests.Values) KillAsync(guest).GetAwaiter().GetResult();
    }
}
