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
