namespace StorageCloud.Compute.Drivers;

/// <summary>A disk as a guest sees it: its device name (vda is the boot disk), the NBD export that holds it, the volume it is (null for a local disk).</summary>
public sealed record GuestDisk(string Device, string NbdUri, string? VolumeId = null);

/// <summary>A guest's network card: the port it stands for and the port's MAC address.</summary>
public sealed record GuestNic(string PortId, string Mac);

/// <summary>What a guest is started with: the flavor's vCPUs and RAM, its disks in device order, one NIC per port.</summary>
public sealed record GuestSpec(string Id, int Vcpus, long RamMb, IReadOnlyList<GuestDisk> Disks, IReadOnlyList<GuestNic> Nics);

/// <summary>A guest's power as the hypervisor reports it (Nova's power_state numbers).</summary>
public enum GuestPower
{
    /// <summary>Not running: never started, stopped, or its process ended.</summary>
    Shutdown = 4,

    /// <summary>Running.</summary>
    Running = 1,

    /// <summary>Its vCPUs are stopped; memory kept.</summary>
    Paused = 3,
}

/// <summary>
/// How servers run. The compute API keeps the records and makes the disks; the driver runs (or does not run) the
/// guest on them. Every call is for a server the API has already checked the state of.
/// </summary>
public interface IGuestDriver
{
    /// <summary>The driver's name, as `Compute:Driver` spells it.</summary>
    string Name { get; }

    /// <summary>False for the fake driver: nothing runs, states are the records' alone.</summary>
    bool RunsGuests { get; }

    /// <summary>Raised with the server id when a guest stops by itself (it powered off, crashed or was killed).</summary>
    event Action<string>? GuestStopped;

    /// <summary>Starts the guest (nothing when it already runs); returns once the hypervisor reports it running.</summary>
    Task StartAsync(GuestSpec spec);

    /// <summary>Stops the guest: an ACPI power-off it may answer within the shutdown timeout, then a hard stop. Nothing when it does not run.</summary>
    Task StopAsync(string id, bool graceful);

    /// <summary>Stops (true) or continues (false) the guest's vCPUs.</summary>
    Task PauseAsync(string id, bool pause);

    /// <summary>Resets the guest as its reset button would.</summary>
    Task RebootAsync(string id);

    /// <summary>Plugs a disk into a running guest (nothing when it does not run: the next start has it).</summary>
    Task AttachAsync(string id, string volumeId, GuestDisk disk);

    /// <summary>Unplugs a disk from a running guest; false when the guest did not let go of it in time.</summary>
    Task<bool> DetachAsync(string id, string volumeId);

    /// <summary>Plugs a network card into a running guest (nothing when it does not run: the next start has it).</summary>
    Task AttachNicAsync(string id, GuestNic nic);

    /// <summary>Unplugs a network card from a running guest; false when the guest did not let go of it in time.</summary>
    Task<bool> DetachNicAsync(string id, string portId);

    /// <summary>The guest's power now.</summary>
    Task<GuestPower> PowerAsync(string id);

    /// <summary>The guest's serial console output, or null when the driver keeps none (the fake driver's console is the record's).</summary>
    string? ConsoleLog(string id);

    /// <summary>Forgets a deleted server's files (its console log).</summary>
    void Forget(string id);
}

/// <summary>Nova's fake driver: nothing runs; the API's records say what state each server is in.</summary>
public sealed class FakeGuestDriver : IGuestDriver
{
    /// <inheritdoc />
    public string Name => "fake";

    /// <inheritdoc />
    public bool RunsGuests => false;

    /// <inheritdoc />
    public event Action<string>? GuestStopped { add { } remove { } }

    /// <inheritdoc />
    public Task StartAsync(GuestSpec spec) => Task.CompletedTask;

    /// <inheritdoc />
    public Task StopAsync(string id, bool graceful) => Task.CompletedTask;

    /// <inheritdoc />
    public Task PauseAsync(string id, bool pause) => Task.CompletedTask;

    /// <inheritdoc />
    public Task RebootAsync(string id) => Task.CompletedTask;

    /// <inheritdoc />
    public Task AttachAsync(string id, string volumeId, GuestDisk disk) => Task.CompletedTask;

    /// <inheritdoc />
    public Task<bool> DetachAsync(string id, string volumeId) => Task.FromResult(true);

    /// <inheritdoc />
    public Task AttachNicAsync(string id, GuestNic nic) => Task.CompletedTask;

    /// <inheritdoc />
    public Task<bool> DetachNicAsync(string id, string portId) => Task.FromResult(true);

    /// <inheritdoc />
    public Task<GuestPower> PowerAsync(string id) => Task.FromResult(GuestPower.Running);

    /// <inheritdoc />
    public string? ConsoleLog(string id) => null;

    /// <inheritdoc />
    public void Forget(string id)
    {
    }
}
