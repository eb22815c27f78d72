using StorageCloud.ObjectLayer;

namespace StorageCloud.Proxy.S3;

/// <summary>
/// S3 bucket names are global, Swift containers belong to an account: buckets made through the S3 API are recorded
/// as containers of the internal account ".s3_buckets" (metadata Owner = the owning account), so a name taken by
/// one account is refused to others (BucketAlreadyExists) and anonymous requests, which name no account, find the
/// bucket's owner.
/// </summary>
public sealed class BucketRegistry(Cluster cluster)
{
    /// <summary>The internal account holding the registry (Swift's auto-create prefix makes it reserved).</summary>
    public const string Account = ".s3_buckets";

    /// <summary>The account that owns the bucket, or null when no S3 bucket has the name.</summary>
    public async Task<string?> OwnerAsync(string bucket, CancellationToken cancellationToken)
    {
        var info = await cluster.GetContainerInfoAsync(Account, bucket, cancellationToken: cancellationToken);
        return info.Exists ? info.Meta("Owner") : null;
    }

    /// <summary>Records the bucket for the account; false when another account holds the name.</summary>
    public async Task<bool> RegisterAsync(string bucket, string account, CancellationToken cancellationToken)
    {
        if (await OwnerAsync(bucket, cancellationToken) is { } owner) return owner == account;
        await cluster.EnsureAccountAsync(Account, [], cancellationToken);
        using var result = await cluster.ContainerWriteAsync(HttpMethod.Put, Account, bucket, [new("X-Container-Meta-Owner", account)], cancellationToken);
        return result.Status is >= 200 and < 300;
    }

    /// <summary>Forgets the bucket, when the account owns it.</summary>
    public async Task UnregisterAsync(string bucket, string account, CancellationToken cancellationToken)
    {
        if (await OwnerAsync(bucket, cancellationToken) != account) return;
        using var _ = await cluster.ContainerWriteAsync(HttpMethod.Delete, Account, bucket, [], cancellationToken);
    }
}
