using Microsoft.Extensions.Configuration;
using StorageCloud.Common.Configuration;

namespace StorageCloud.ObjectLayer;

/// <summary>Timeouts, error limiting and cache lifetimes of the cluster client (Swift's proxy-server settings).</summary>
public sealed record ObjectLayerOptions
{
    /// <summary>How long to wait for a storage node to accept a connection (Swift's conn_timeout).</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(0.5);

    /// <summary>How long to wait for a storage node's answer or its next body chunk (Swift's node_timeout).</summary>
    public TimeSpan NodeTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Errors after which a node is skipped for <see cref="ErrorSuppressionInterval"/>.</summary>
    public int ErrorSuppressionLimit { get; init; } = 10;

    /// <summary>How long an error-limited node is skipped, and how long its errors are remembered.</summary>
    public TimeSpan ErrorSuppressionInterval { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How long an account's existence and metadata are cached.</summary>
    public TimeSpan RecheckAccountExistence { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How long a container's existence and metadata are cached.</summary>
    public TimeSpan RecheckContainerExistence { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How long a "does not exist" answer is cached (short, so a container made elsewhere appears soon).</summary>
    public TimeSpan RecheckMissing { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>Handoff nodes tried per replica when primaries fail (Swift's request_node_count = 2 * replicas).</summary>
    public int RequestNodeFactor { get; init; } = 2;

    /// <summary>Bytes per chunk when streaming bodies.</summary>
    public int ChunkSize { get; init; } = 64 * 1024;

    /// <summary>Create accounts on first use (Swift's account_autocreate).</summary>
    public bool AccountAutocreate { get; init; } = true;
}

/// <summary>
/// The cluster client's options, in the "Proxy" section where Swift's proxy-server.conf has them: every service that
/// reaches objects through the object layer uses the same timeouts, error limits and cache lifetimes.
/// </summary>
public static class ObjectLayerConfig
{
    /// <summary>The object layer's options in the "Proxy" section.</summary>
    public static readonly OptionSection Section = new("Proxy");

    private static readonly BoolOption AccountAutocreate = Section.Bool("AccountAutocreate", true, "accounts are made on first use");
    private static readonly Int32Option NodeTimeoutSeconds = Section.Int32("NodeTimeoutSeconds", 10, 1, 3600, "longest wait for a storage node's answer or its next body chunk");
    private static readonly Int32Option ConnTimeoutSeconds = Section.Int32("ConnTimeoutSeconds", 1, 1, 60, "longest wait for a storage node to accept a connection");
    private static readonly Int32Option ErrorSuppressionLimit = Section.Int32("ErrorSuppressionLimit", 10, 0, 1_000_000, "errors after which a device is skipped");
    private static readonly Int32Option ErrorSuppressionIntervalSeconds = Section.Int32("ErrorSuppressionIntervalSeconds", 60, 0, 86400,
        "how long a device is skipped, and how long its errors count");
    private static readonly Int32Option RecheckAccountSeconds = Section.Int32("RecheckAccountSeconds", 60, 0, 86400, "how long account info is cached");
    private static readonly Int32Option RecheckContainerSeconds = Section.Int32("RecheckContainerSeconds", 60, 0, 86400,
        "how long container info (existence, ACLs, CORS, keys) is cached");

    /// <summary>Reads the options.</summary>
    public static ObjectLayerOptions Read(IConfiguration c) => new()
    {
        AccountAutocreate = AccountAutocreate.Read(c),
        NodeTimeout = TimeSpan.FromSeconds(NodeTimeoutSeconds.Read(c)),
        ConnectTimeout = TimeSpan.FromSeconds(ConnTimeoutSeconds.Read(c)),
        ErrorSuppressionLimit = ErrorSuppressionLimit.Read(c),
        ErrorSuppressionInterval = TimeSpan.FromSeconds(ErrorSuppressionIntervalSeconds.Read(c)),
        RecheckAccountExistence = TimeSpan.FromSeconds(RecheckAccountSeconds.Read(c)),
        RecheckContainerExistence = TimeSpan.FromSeconds(RecheckContainerSeconds.Read(c)),
    };
}
