using System.Net;
using Microsoft.Extensions.Configuration;
using StorageCloud.Common.Configuration;

namespace StorageCloud.Service.Hosting;

/// <summary>
/// What every process has whatever services it runs: where it listens, which roles it runs, where its data and rings
/// are, the cluster's secrets and how it logs. Services declare their own sections (and their ports) themselves.
/// </summary>
public static class HostConfig
{
    /// <summary>The "Server" section (services add their ports to it).</summary>
    public static readonly OptionSection Server = new("Server");

    /// <summary>The "Storage" section (the storage roles add theirs to it).</summary>
    public static readonly OptionSection Storage = new("Storage");

    /// <summary>The "Cluster" section.</summary>
    public static readonly OptionSection Cluster = new("Cluster");

    /// <summary>The "Logging" section.</summary>
    public static readonly OptionSection Logging = new("Logging");

    /// <summary>Server:BindAddress.</summary>
    public static readonly StringOption BindAddress = Server.String("BindAddress", "127.0.0.1", "IP address every listener binds to", "--bind");

    /// <summary>Server:Roles.</summary>
    public static readonly ListOption Roles = Server.List("Roles", [], "comma-separated roles this process runs (`storagecloud serve --help` lists them)", "--roles",
        defaultNote: "all roles for `aio`, `proxy` for `serve`");

    /// <summary>Server:TransIdSuffix.</summary>
    public static readonly StringOption TransIdSuffix = Server.String("TransIdSuffix", "", "appended to every transaction id (Swift's `trans_id_suffix`)");

    /// <summary>Server:HealthcheckDisablePath.</summary>
    public static readonly StringOption HealthcheckDisablePath = Server.String("HealthcheckDisablePath", null,
        "while a file exists at this path, `/healthcheck` answers `503 DISABLED BY FILE`");

    /// <summary>Server:InProcessBackend.</summary>
    public static readonly BoolOption InProcessBackend = Server.Bool("InProcessBackend", true,
        "backend requests for this process's own storage roles run in memory instead of over loopback sockets");

    /// <summary>Storage:DataDir.</summary>
    public static readonly StringOption DataDir = Storage.String("DataDir", "./data", "the node's data directory: device directories `d1..dN` and `etc/`", "--data-dir");

    /// <summary>Storage:Devices.</summary>
    public static readonly Int32Option Devices = Storage.Int32("Devices", 4, 1, 256,
        "number of device directories; each carries a `.storagecloud-device` marker file, without which it answers 507 as an unmounted disk", "--devices");

    /// <summary>Cluster:HashPathPrefix.</summary>
    public static readonly StringOption HashPathPrefix = Cluster.String("HashPathPrefix", null,
        "secret prefix of Swift's `hash_path`; generated once and kept in `<DataDir>/etc/cluster.json`", defaultNote: "generated");

    /// <summary>Cluster:HashPathSuffix.</summary>
    public static readonly StringOption HashPathSuffix = Cluster.String("HashPathSuffix", null,
        "secret suffix, likewise. Setting either to a value other than the one the data directory was made with is an error, since it would misplace every object",
        defaultNote: "generated");

    /// <summary>Cluster:Replicas.</summary>
    public static readonly Int32Option Replicas = Cluster.Int32("Replicas", 3, 1, 16, "replicas of every object; the all-in-one appliance needs at least as many devices");

    /// <summary>Cluster:PartPower.</summary>
    public static readonly Int32Option PartPower = Cluster.Int32("PartPower", 10, 0, 24, "log2 of the partition count of the rings the all-in-one appliance builds for itself");

    /// <summary>Cluster:RingCheckSeconds.</summary>
    public static readonly Int32Option RingCheckSeconds = Cluster.Int32("RingCheckSeconds", 15, 1, 3600,
        "how often the ring files' modification times are checked; a changed ring is loaded and used from then on (a damaged one is reported and the old ring kept)");

    /// <summary>Cluster:RingDir.</summary>
    public static readonly StringOption RingDir = Cluster.String("RingDir", null,
        "where `account.ring.gz`, `container.ring.gz` and `object.ring.gz` are; the all-in-one appliance builds them there over its devices (one zone each) and keeps them in step with its ports; other nodes load the operator's rings from it",
        defaultNote: "<DataDir>/etc");

    /// <summary>Logging:Level.</summary>
    public static readonly ChoiceOption LogLevel = Logging.Choice("Level", "information", ["trace", "debug", "information", "warning", "error", "critical", "none"],
        "the least severe events logged", "--log-level");

    /// <summary>Logging:Format.</summary>
    public static readonly ChoiceOption LogFormat = Logging.Choice("Format", "simple", ["simple", "json"], "`simple` (one line per event) or `json` (one JSON object per event)", "--log-format");

    /// <summary>The sections every process has.</summary>
    public static IEnumerable<OptionSection> Sections => [Server, Storage, Cluster, Logging];

    /// <summary>Reads the host's settings; the roles default to <paramref name="defaultRoles"/>.</summary>
    public static HostSettings Read(IConfiguration c, IReadOnlyList<string> defaultRoles)
    {
        var bind = BindAddress.Read(c, "127.0.0.1");
        if (!IPAddress.TryParse(bind, out var address))
            throw new ConfigurationException(BindAddress.Key, $"must be an IP address (got '{bind}')");
        var dataDir = Path.GetFullPath(DataDir.Read(c, "./data"));
        var roles = Roles.Read(c, defaultRoles);
        if (roles.Count == 0) throw new ConfigurationException(Roles.Key, "at least one role is needed");
        return new HostSettings
        {
            BindAddress = address,
            Roles = roles,
            TransIdSuffix = TransIdSuffix.Read(c, ""),
            HealthcheckDisablePath = HealthcheckDisablePath.Read(c),
            InProcessBackend = InProcessBackend.Read(c),
            DataDir = dataDir,
            Devices = Devices.Read(c),
            HashPathPrefix = HashPathPrefix.Read(c),
            HashPathSuffix = HashPathSuffix.Read(c),
            Replicas = Replicas.Read(c),
            PartPower = PartPower.Read(c),
            RingCheckSeconds = RingCheckSeconds.Read(c),
            RingDir = Path.GetFullPath(RingDir.Read(c, Path.Combine(dataDir, "etc"))),
            LogLevel = LogLevel.Read(c),
            LogFormat = LogFormat.Read(c),
        };
    }
}

/// <summary>The host's settings, read and checked.</summary>
public sealed record HostSettings
{
    /// <summary>Address every listener binds to.</summary>
    public required IPAddress BindAddress { get; init; }

    /// <summary>Roles this process runs.</summary>
    public required IReadOnlyList<string> Roles { get; init; }

    /// <summary>Appended to generated transaction ids.</summary>
    public required string TransIdSuffix { get; init; }

    /// <summary>While this file exists, /healthcheck answers 503.</summary>
    public string? HealthcheckDisablePath { get; init; }

    /// <summary>Backend requests for this process's own storage roles run in memory.</summary>
    public required bool InProcessBackend { get; init; }

    /// <summary>Root of the node's data.</summary>
    public required string DataDir { get; init; }

    /// <summary>How many device directories the node keeps.</summary>
    public required int Devices { get; init; }

    /// <summary>Configured path-hash prefix, or null (generated and kept in the data directory).</summary>
    public string? HashPathPrefix { get; init; }

    /// <summary>Configured path-hash suffix, or null.</summary>
    public string? HashPathSuffix { get; init; }

    /// <summary>Replicas of every object.</summary>
    public required int Replicas { get; init; }

    /// <summary>log2 of the partition count of rings the appliance builds itself.</summary>
    public required int PartPower { get; init; }

    /// <summary>How often ring files are checked for changes.</summary>
    public required int RingCheckSeconds { get; init; }

    /// <summary>Directory of the ring files.</summary>
    public required string RingDir { get; init; }

    /// <summary>Minimum log level.</summary>
    public required string LogLevel { get; init; }

    /// <summary>Console log format.</summary>
    public required string LogFormat { get; init; }
}
