using System.Net;
using Microsoft.Extensions.Configuration;
using StorageCloud.Common.Configuration;
using StorageCloud.Common.Constraints;
using StorageCloud.ObjectLayer;
using StorageCloud.Proxy;
using StorageCloud.Storage.Daemons;
using StorageCloud.Storage.Replication;

namespace StorageCloud.Host.Configuration;

/// <summary>
/// The whole configuration of one process: the JSON file, then STORAGECLOUD__Section__Key environment
/// variables, then command-line options, each overriding the one before. Every option is checked once,
/// here, so a bad value stops the process with one line before anything starts.
/// </summary>
public sealed record StorageCloudConfig
{
    /// <summary>Prefix of the environment variables that override the file.</summary>
    public const string EnvironmentPrefix = "STORAGECLOUD__";

    /// <summary>Every option the file and the environment may set, by section (docs/configuration.md lists them).</summary>
    public static readonly IReadOnlyDictionary<string, string[]> KnownOptions = new Dictionary<string, string[]>(StringComparer.OrdinalIgnoreCase)
    {
        ["Server"] = ["BindAddress", "ProxyPort", "ObjectPort", "ContainerPort", "AccountPort", "IdentityPort", "Roles", "TransIdSuffix", "HealthcheckDisablePath", "InProcessBackend"],
        ["Storage"] = ["DataDir", "Devices", "ReclaimAgeSeconds", "FreeSpaceReserveBytes", "GroupCommitDelayMicroseconds"],
        ["Compaction"] = ["IntervalSeconds", "LiveThreshold", "BytesPerSecond"],
        ["Cluster"] = ["HashPathPrefix", "HashPathSuffix", "Replicas", "PartPower", "RingDir", "RingCheckSeconds"],
        ["Proxy"] =
        [
            "Users", "AllowAccountManagement", "AccountAutocreate", "TokenLifeSeconds", "NodeTimeoutSeconds", "ConnTimeoutSeconds",
            "ErrorSuppressionLimit", "ErrorSuppressionIntervalSeconds", "RecheckAccountSeconds", "RecheckContainerSeconds",
            "CorsAllowOrigin", "CorsExposeHeaders", "StrictCorsMode", "DisabledFeatures", "KeystoneAuth", "S3BaseDomain",
        ],
        ["Identity"] = IdentityConfig.Options,
        ["Logging"] = ["Level", "Format"],
        ["Auditor"] = ["BytesPerSecond", "IntervalSeconds"],
        ["Updater"] = ["IntervalSeconds"],
        ["Reaper"] = ["IntervalSeconds", "DelaySeconds"],
        ["Expirer"] = ["IntervalSeconds"],
        ["Replicator"] = ["IntervalSeconds", "Concurrency", "ObjectsPerSecond", "BytesPerSecond"],
        [SwiftConstraintsConfig.Section] =
        [
            "MaxFileSize", "MaxMetaNameLength", "MaxMetaValueLength", "MaxMetaCount", "MaxMetaOverallSize",
            "MaxHeaderSize", "MaxObjectNameLength", "ContainerListingLimit", "AccountListingLimit",
            "MaxAccountNameLength", "MaxContainerNameLength", "ExtraHeaderCount", "ValidApiVersions",
            "AutoCreateAccountPrefix",
        ],
    };

    /// <summary>The roles a process can run.</summary>
    public static readonly string[] AllRoles = ["proxy", "object", "container", "account", "identity", "image", "volume", "compute", "network"];

    /// <summary>Address every listener binds to.</summary>
    public required IPAddress BindAddress { get; init; }

    /// <summary>Port of the proxy (Swift and S3 APIs, /info, /healthcheck).</summary>
    public required int ProxyPort { get; init; }

    /// <summary>Port of the object server (the storage node's object API).</summary>
    public required int ObjectPort { get; init; }

    /// <summary>Port of the container server (the storage node's container API).</summary>
    public required int ContainerPort { get; init; }

    /// <summary>Port of the account server (the storage node's account API).</summary>
    public required int AccountPort { get; init; }

    /// <summary>Port of the identity service (Keystone v3).</summary>
    public required int IdentityPort { get; init; }

    /// <summary>The identity service's settings.</summary>
    public required IdentityConfig Identity { get; init; }

    /// <summary>True when the proxy accepts identity tokens (on by default when this process runs the identity role).</summary>
    public required bool KeystoneAuth { get; init; }

    /// <summary>Roles this process runs.</summary>
    public required IReadOnlyList<string> Roles { get; init; }

    /// <summary>Appended to generated transaction ids.</summary>
    public required string TransIdSuffix { get; init; }

    /// <summary>Backend requests for this process's own storage roles run in memory instead of over loopback sockets.</summary>
    public required bool InProcessBackend { get; init; }

    /// <summary>While this file exists, /healthcheck answers 503.</summary>
    public string? HealthcheckDisablePath { get; init; }

    /// <summary>Root of the node's data: device directories and cluster state.</summary>
    public required string DataDir { get; init; }

    /// <summary>How many device directories (d1..dN) the node keeps.</summary>
    public required int Devices { get; init; }

    /// <summary>Cluster secret prefix for path hashing; generated and kept in the data dir when empty.</summary>
    public string? HashPathPrefix { get; init; }

    /// <summary>Cluster secret suffix for path hashing; generated and kept in the data dir when empty.</summary>
    public string? HashPathSuffix { get; init; }

    /// <summary>Replicas of every object.</summary>
    public required int Replicas { get; init; }

    /// <summary>log2 of the partition count of rings the appliance builds itself.</summary>
    public required int PartPower { get; init; }

    /// <summary>Directory holding account.ring.gz, container.ring.gz and object.ring.gz.</summary>
    public required string RingDir { get; init; }

    /// <summary>The Swift front end's settings (tempauth users, CORS, account management).</summary>
    public required ProxyOptions Proxy { get; init; }

    /// <summary>The cluster client's timeouts, error limits and cache lifetimes.</summary>
    public required ObjectLayerOptions ObjectLayer { get; init; }

    /// <summary>Minimum log level (trace, debug, information, warning, error).</summary>
    public required string LogLevel { get; init; }

    /// <summary>Console log format: simple (one line each) or json.</summary>
    public required string LogFormat { get; init; }

    /// <summary>The object auditor's pace and interval.</summary>
    public required AuditorOptions Auditor { get; init; }

    /// <summary>Segment compaction and tombstone reclaim.</summary>
    public required CompactorOptions Compaction { get; init; }

    /// <summary>Writes are refused (507) when fewer bytes than this would stay free on a device.</summary>
    public required long FreeSpaceReserveBytes { get; init; }

    /// <summary>How long a device's group commit may wait for more writers before its fdatasync (0: natural batching only).</summary>
    public required int GroupCommitDelayMicroseconds { get; init; }

    /// <summary>How often the object expirer removes objects past their X-Delete-At.</summary>
    public required ExpirerOptions Expirer { get; init; }

    /// <summary>How often the account reaper looks for deleted accounts, and how long it leaves them first.</summary>
    public required ReaperOptions Reaper { get; init; }

    /// <summary>The object, container and account replicators' interval, concurrency and pace.</summary>
    public required Storage.Replication.ReplicatorOptions Replicator { get; init; }

    /// <summary>How often ring files are checked for changes on disk.</summary>
    public required int RingCheckSeconds { get; init; }

    /// <summary>How often the object updater retries container updates that could not be delivered.</summary>
    public required UpdaterOptions Updater { get; init; }

    /// <summary>Swift's request constraints.</summary>
    public required SwiftConstraints Constraints { get; init; }

    /// <summary>Builds the layered configuration and checks it; throws <see cref="ConfigurationException"/> on any bad value.</summary>
    public static StorageCloudConfig Load(string? configFile, IReadOnlyDictionary<string, string?> commandLine,
        IReadOnlyList<string> defaultRoles)
    {
        var builder = new ConfigurationBuilder();
        if (configFile is not null)
        {
            var full = Path.GetFullPath(configFile);
            if (!File.Exists(full)) throw new ConfigurationException("--config", $"file not found: {configFile}");
            builder.AddJsonFile(full, optional: false, reloadOnChange: false);
        }
        builder.AddEnvironmentVariables(EnvironmentPrefix);
        builder.AddInMemoryCollection(commandLine);
        IConfigurationRoot config;
        try
        {
            config = builder.Build();
        }
        catch (Exception e) when (e is InvalidDataException or FormatException or System.Text.Json.JsonException)
        {
            var reason = (e.InnerException ?? e).Message.ReplaceLineEndings(" ");
            throw new ConfigurationException("--config", $"{configFile} is not valid JSON: {reason}");
        }
        CheckKnownKeys(config);
        return FromConfiguration(config, defaultRoles);
    }

    private static void CheckKnownKeys(IConfiguration config)
    {
        foreach (var (key, value) in config.AsEnumerable())
        {
            if (value is null) continue;
            var parts = key.Split(':');
            if (!KnownOptions.TryGetValue(parts[0], out var options))
                throw new ConfigurationException(key, $"unknown section '{parts[0]}' (known: {string.Join(", ", KnownOptions.Keys)})");
            if (parts.Length < 2) throw new ConfigurationException(key, "must be a section of options");
            // Microsoft-style per-category levels (Logging:LogLevel:Category) are passed through.
            if (parts[0].Equals("Logging", StringComparison.OrdinalIgnoreCase) && parts[1].Equals("LogLevel", StringComparison.OrdinalIgnoreCase))
                continue;
            if (!options.Contains(parts[1], StringComparer.OrdinalIgnoreCase))
                throw new ConfigurationException(key, $"unknown option (known in {parts[0]}: {string.Join(", ", options)})");
        }
    }

    private static StorageCloudConfig FromConfiguration(IConfiguration c, IReadOnlyList<string> defaultRoles)
    {
        var bind = ConfigValues.GetString(c, "Server:BindAddress", "127.0.0.1");
        if (!IPAddress.TryParse(bind, out var address))
            throw new ConfigurationException("Server:BindAddress", $"must be an IP address (got '{bind}')");
        var roles = ConfigValues.GetList(c, "Server:Roles", defaultRoles);
        foreach (var role in roles)
        {
            if (Array.IndexOf(AllRoles, role) < 0)
                throw new ConfigurationException("Server:Roles", $"unknown role '{role}' (known: {string.Join(", ", AllRoles)})");
        }
        if (roles.Count == 0) throw new ConfigurationException("Server:Roles", "at least one role is needed");
        var prefix = c["Cluster:HashPathPrefix"];
        var dataDir = Path.GetFullPath(ConfigValues.GetString(c, "Storage:DataDir", "./data"));
        var constraints = SwiftConstraintsConfig.Load(c);
        var suffix = c["Cluster:HashPathSuffix"];
        return new StorageCloudConfig
        {
            BindAddress = address,
            ProxyPort = ConfigValues.GetInt32(c, "Server:ProxyPort", 8080, 1, 65535),
            ObjectPort = ConfigValues.GetInt32(c, "Server:ObjectPort", 6200, 1, 65535),
            ContainerPort = ConfigValues.GetInt32(c, "Server:ContainerPort", 6201, 1, 65535),
            AccountPort = ConfigValues.GetInt32(c, "Server:AccountPort", 6202, 1, 65535),
            IdentityPort = ConfigValues.GetInt32(c, "Server:IdentityPort", 5000, 1, 65535),
            Identity = IdentityConfig.Load(c, dataDir),
            KeystoneAuth = ConfigValues.GetBool(c, "Proxy:KeystoneAuth", roles.Contains("identity")),
            Roles = roles,
            TransIdSuffix = ConfigValues.GetString(c, "Server:TransIdSuffix", ""),
            HealthcheckDisablePath = c["Server:HealthcheckDisablePath"],
            InProcessBackend = ConfigValues.GetBool(c, "Server:InProcessBackend", true),
            DataDir = dataDir,
            Devices = ConfigValues.GetInt32(c, "Storage:Devices", 4, 1, 256),
            HashPathPrefix = string.IsNullOrEmpty(prefix) ? null : prefix,
            HashPathSuffix = string.IsNullOrEmpty(suffix) ? null : suffix,
            Replicas = ConfigValues.GetInt32(c, "Cluster:Replicas", 3, 1, 16),
            LogLevel = ConfigValues.GetChoice(c, "Logging:Level", "information", "trace", "debug", "information", "warning", "error", "critical", "none"),
            LogFormat = ConfigValues.GetChoice(c, "Logging:Format", "simple", "simple", "json"),
            Constraints = constraints,
            PartPower = ConfigValues.GetInt32(c, "Cluster:PartPower", 10, 0, 24),
            RingDir = Path.GetFullPath(ConfigValues.GetString(c, "Cluster:RingDir", Path.Combine(dataDir, "etc"))),
            Proxy = LoadProxy(c, constraints),
            ObjectLayer = new ObjectLayerOptions
            {
                AccountAutocreate = ConfigValues.GetBool(c, "Proxy:AccountAutocreate", true),
                NodeTimeout = TimeSpan.FromSeconds(ConfigValues.GetInt32(c, "Proxy:NodeTimeoutSeconds", 10, 1, 3600)),
                ConnectTimeout = TimeSpan.FromMilliseconds(ConfigValues.GetInt32(c, "Proxy:ConnTimeoutSeconds", 1, 1, 60) * 1000),
                ErrorSuppressionLimit = ConfigValues.GetInt32(c, "Proxy:ErrorSuppressionLimit", 10, 0, 1_000_000),
                ErrorSuppressionInterval = TimeSpan.FromSeconds(ConfigValues.GetInt32(c, "Proxy:ErrorSuppressionIntervalSeconds", 60, 0, 86400)),
                RecheckAccountExistence = TimeSpan.FromSeconds(ConfigValues.GetInt32(c, "Proxy:RecheckAccountSeconds", 60, 0, 86400)),
                RecheckContainerExistence = TimeSpan.FromSeconds(ConfigValues.GetInt32(c, "Proxy:RecheckContainerSeconds", 60, 0, 86400)),
            },
            FreeSpaceReserveBytes = ConfigValues.GetInt64(c, "Storage:FreeSpaceReserveBytes", 64L * 1024 * 1024, 0, long.MaxValue),
            GroupCommitDelayMicroseconds = ConfigValues.GetInt32(c, "Storage:GroupCommitDelayMicroseconds", 0, 0, 100_000),
            Compaction = new CompactorOptions(
                ConfigValues.GetInt32(c, "Compaction:IntervalSeconds", 300, 0, 7 * 24 * 3600),
                new Storage.Engine.CompactionOptions
                {
                    LiveThreshold = ConfigValues.GetInt32(c, "Compaction:LiveThreshold", 50, 1, 100) / 100.0,
                    BytesPerSecond = ConfigValues.GetInt64(c, "Compaction:BytesPerSecond", 20_000_000, 0, long.MaxValue),
                    ReclaimAge = TimeSpan.FromSeconds(ConfigValues.GetInt64(c, "Storage:ReclaimAgeSeconds", 604_800, 0, long.MaxValue / 10_000_000)),
                }),
            Replicator = new Storage.Replication.ReplicatorOptions
            {
                IntervalSeconds = ConfigValues.GetInt32(c, "Replicator:IntervalSeconds", 30, 0, 7 * 24 * 3600),
                Concurrency = ConfigValues.GetInt32(c, "Replicator:Concurrency", 4, 1, 256),
                ObjectsPerSecond = ConfigValues.GetInt32(c, "Replicator:ObjectsPerSecond", 0, 0, 1_000_000_000),
                BytesPerSecond = ConfigValues.GetInt64(c, "Replicator:BytesPerSecond", 0, 0, long.MaxValue),
            },
            RingCheckSeconds = ConfigValues.GetInt32(c, "Cluster:RingCheckSeconds", 15, 1, 3600),
            Updater = new UpdaterOptions(ConfigValues.GetInt32(c, "Updater:IntervalSeconds", 30, 0, 24 * 3600)),
            Expirer = new ExpirerOptions(ConfigValues.GetInt32(c, "Expirer:IntervalSeconds", 300, 0, 24 * 3600)),
            Reaper = new ReaperOptions(ConfigValues.GetInt32(c, "Reaper:IntervalSeconds", 3600, 0, 7 * 24 * 3600),
                ConfigValues.GetInt32(c, "Reaper:DelaySeconds", 0, 0, 365 * 24 * 3600)),
            Auditor = new AuditorOptions(
                ConfigValues.GetInt64(c, "Auditor:BytesPerSecond", 10_000_000, 0, long.MaxValue),
                ConfigValues.GetInt32(c, "Auditor:IntervalSeconds", 1800, 0, 7 * 24 * 3600)),
        };
    }

    private static ProxyOptions LoadProxy(IConfiguration c, SwiftConstraints constraints)
    {
        var users = new List<TempAuthUser>();
        foreach (var line in ConfigValues.GetList(c, "Proxy:Users", []))
        {
            // "account:user key [group ...]", as tempauth's user_<account>_<user> = <key> [group ...] lines.
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var colon = parts.Length > 0 ? parts[0].IndexOf(':') : -1;
            if (parts.Length < 2 || colon <= 0 || colon == parts[0].Length - 1)
                throw new ConfigurationException("Proxy:Users", $"each user is \"account:user key [group ...]\" (got '{line}')");
            users.Add(new TempAuthUser(parts[0][..colon], parts[0][(colon + 1)..], parts[1], parts[2..]));
        }
        return new ProxyOptions
        {
            Constraints = constraints,
            Users = users.Count > 0 ? users : TempAuthUser.FunctionalTestUsers,
            TokenLife = TimeSpan.FromSeconds(ConfigValues.GetInt32(c, "Proxy:TokenLifeSeconds", 86400, 1, 365 * 86400)),
            AllowAccountManagement = ConfigValues.GetBool(c, "Proxy:AllowAccountManagement", false),
            CorsAllowOrigin = ConfigValues.GetList(c, "Proxy:CorsAllowOrigin", []),
            CorsExposeHeaders = ConfigValues.GetList(c, "Proxy:CorsExposeHeaders", []),
            StrictCorsMode = ConfigValues.GetBool(c, "Proxy:StrictCorsMode", true),
            DisabledFeatures = DisabledFeatures(c),
            S3BaseDomain = string.IsNullOrWhiteSpace(c["Proxy:S3BaseDomain"]) ? null : c["Proxy:S3BaseDomain"]!.Trim().TrimStart('.'),
        };
    }

    private static HashSet<string> DisabledFeatures(IConfiguration c)
    {
        var disabled = new HashSet<string>(StringComparer.Ordinal);
        foreach (var feature in ConfigValues.GetList(c, "Proxy:DisabledFeatures", []))
        {
            if (Array.IndexOf(SwiftProxy.OptionalFeatures, feature) < 0)
                throw new ConfigurationException("Proxy:DisabledFeatures", $"unknown feature '{feature}' (known: {string.Join(", ", SwiftProxy.OptionalFeatures)})");
            disabled.Add(feature);
        }
        return disabled;
    }
}
