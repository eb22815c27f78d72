using Microsoft.Extensions.Configuration;
using StorageCloud.Common.Configuration;
using StorageCloud.Service.Sql;

namespace StorageCloud.Compute;

/// <summary>The compute service's settings, read and checked.</summary>
public sealed record ComputeSettings
{
    /// <summary>"sqlite" or "postgres".</summary>
    public required string Database { get; init; }

    /// <summary>The servers database.</summary>
    public required string ConnectionString { get; init; }

    /// <summary>Base URL of the image service (Glance v2), or null when there is none.</summary>
    public string? ImageUrl { get; init; }

    /// <summary>Base URL of the network service (Neutron v2.0), or null when there is none.</summary>
    public string? NetworkUrl { get; init; }

    /// <summary>Base URL of the volume service (Cinder v3), or null when there is none.</summary>
    public string? VolumeUrl { get; init; }

    /// <summary>The one hypervisor's name (os-hypervisors, OS-EXT-SRV-ATTR:host).</summary>
    public string HostName { get; init; } = "storagecloud";

    /// <summary>vCPUs the one host reports.</summary>
    public int Vcpus { get; init; } = Environment.ProcessorCount;

    /// <summary>RAM in MiB the one host reports.</summary>
    public long MemoryMb { get; init; } = 16384;

    /// <summary>"fake" (records and disks only) or "qemu" (a qemu-system-x86_64 process per running server).</summary>
    public string Driver { get; init; } = "fake";

    /// <summary>The QEMU binary the qemu driver runs.</summary>
    public string QemuBinary { get; init; } = "qemu-system-x86_64";

    /// <summary>"auto" (KVM when /dev/kvm opens, else TCG), "kvm" or "tcg".</summary>
    public string QemuAccelerator { get; init; } = "auto";

    /// <summary>Where the qemu driver keeps each guest's console log, QMP socket and pid file.</summary>
    public string InstancesDir { get; init; } = "";

    /// <summary>How long a guest has to power off after an ACPI power-button press, or to let go of a detached disk.</summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(30);
}

/// <summary>The "Compute" section.</summary>
public static class ComputeConfig
{
    /// <summary>The section.</summary>
    public static readonly OptionSection Section = new("Compute");

    private static readonly SqlOptions Sql = new(Section, "servers", Path.Combine("compute", "compute.db"));
    private static readonly StringOption ImageUrl = Section.String("ImageUrl", null, "base URL of the image service servers boot from",
        defaultNote: "the image role's URL when it runs in this process");
    private static readonly StringOption NetworkUrl = Section.String("NetworkUrl", null, "base URL of the network service that gives servers their ports",
        defaultNote: "the network role's URL when it runs in this process");
    private static readonly StringOption VolumeUrl = Section.String("VolumeUrl", null, "base URL of the volume service whose volumes servers attach",
        defaultNote: "the volume role's URL when it runs in this process");
    private static readonly StringOption HostName = Section.String("HostName", "storagecloud", "the hypervisor name servers report as their host");
    private static readonly Int32Option Vcpus = Section.Int32("Vcpus", 0, 0, 4096, "vCPUs the host offers to servers", defaultNote: "the machine's processor count");
    private static readonly Int64Option MemoryMb = Section.Int64("MemoryMb", 0, 0, 1L << 30, "RAM in MiB the host offers to servers", defaultNote: "the machine's memory");

    private static readonly ChoiceOption Driver = Section.Choice("Driver", "fake", ["fake", "qemu"],
        "how servers run: fake (records and disks only, as Nova's fake driver) or qemu (a qemu-system-x86_64 per running server, KVM when /dev/kvm is usable, else TCG)");
    private static readonly StringOption QemuBinary = Section.String("QemuBinary", "qemu-system-x86_64", "the QEMU binary the qemu driver runs");
    private static readonly ChoiceOption QemuAccelerator = Section.Choice("QemuAccelerator", "auto", ["auto", "kvm", "tcg"],
        "what the qemu driver's guests run on: auto (KVM when /dev/kvm can be opened, else TCG), kvm, or tcg (emulation, slower)");
    private static readonly StringOption InstancesDir = Section.String("InstancesDir", null, "where the qemu driver keeps each guest's console log, QMP socket and pid file",
        defaultNote: "compute/instances under the data directory");
    private static readonly Int32Option ShutdownTimeout = Section.Int32("ShutdownTimeout", 30, 0, 3600,
        "seconds a qemu guest has to power off after an ACPI power-button press (stop, delete) before it is killed");

    /// <summary>Reads the section; the database defaults under the data directory.</summary>
    public static ComputeSettings Read(IConfiguration c, string dataDir)
    {
        var (database, connection) = Sql.Read(c, dataDir);
        var vcpus = Vcpus.Read(c);
        var memory = MemoryMb.Read(c);
        return new ComputeSettings
        {
            Database = database,
            ConnectionString = connection,
            ImageUrl = ImageUrl.Read(c)?.TrimEnd('/'),
            NetworkUrl = NetworkUrl.Read(c)?.TrimEnd('/'),
            VolumeUrl = VolumeUrl.Read(c)?.TrimEnd('/'),
            HostName = HostName.Read(c) ?? "storagecloud",
            Vcpus = vcpus > 0 ? vcpus : Environment.ProcessorCount,
            MemoryMb = memory > 0 ? memory : GC.GetGCMemoryInfo().TotalAvailableMemoryBytes >> 20,
            Driver = Driver.Read(c),
            QemuBinary = QemuBinary.Read(c) ?? "qemu-system-x86_64",
            QemuAccelerator = QemuAccelerator.Read(c),
            InstancesDir = InstancesDir.Read(c) ?? Path.Combine(dataDir, "compute", "instances"),
            ShutdownTimeout = TimeSpan.FromSeconds(ShutdownTimeout.Read(c)),
        };
    }
}
