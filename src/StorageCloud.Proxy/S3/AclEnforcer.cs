using Microsoft.AspNetCore.Http;
using StorageCloud.ObjectLayer;

namespace StorageCloud.Proxy.S3;

/// <summary>
/// S3 ACL grants as the bucket policy enforcer applies them: on another account's bucket (or for an anonymous
/// caller) a grant acts as an Allow of the operations its permission stands for, limited to listings, the ACLs
/// themselves and single objects. Like a policy's Allow, the operation then runs with its sub-requests pre-authorized
/// for the bucket's own containers only; bucket configuration other than the ACL is never opened.
/// </summary>
public static class AclEnforcer
{
    /// <summary>Where a bucket's ACL is kept (nothing stored: the owner's private ACL, or the canned ACL of X-Container-Read).</summary>
    public const string BucketSysmeta = "X-Container-Sysmeta-S3-Acl";

    /// <summary>Marks a request answered on another account's bucket, so handlers name its owner rather than the caller.</summary>
    public const string ForeignItem = "S3.Acl.ForeignOwner";

    /// <summary>The object ACL (stored form) a write is to store, worked out before the handler runs.</summary>
    public const string ObjectAclItem = "S3.Acl.Object";

    // Each bucket permission and the operations it opens; READ_ACP and WRITE_ACP open the ACL and nothing else.
    private static readonly Dictionary<string, string> OnBucket = new(StringComparer.Ordinal)
    {
        ["s3:ListBucket"] = "READ", ["s3:ListBucketVersions"] = "READ", ["s3:ListBucketMultipartUploads"] = "READ",
        ["s3:PutObject"] = "WRITE", ["s3:DeleteObject"] = "WRITE", ["s3:DeleteObjectVersion"] = "WRITE",
        ["s3:AbortMultipartUpload"] = "WRITE", ["s3:ListMultipartUploadParts"] = "WRITE",
        ["s3:GetBucketAcl"] = "READ_ACP", ["s3:PutBucketAcl"] = "WRITE_ACP",
    };

    private static readonly Dictionary<string, string> OnObject = new(StringComparer.Ordinal)
    {
        ["s3:GetObject"] = "READ", ["s3:GetObjectVersion"] = "READ",
        ["s3:GetObjectAcl"] = "READ_ACP", ["s3:GetObjectVersionAcl"] = "READ_ACP",
        ["s3:PutObjectAcl"] = "WRITE_ACP", ["s3:PutObjectVersionAcl"] = "WRITE_ACP",
    };

    /// <summary>The canonical ID a request's answers name as owner when nothing is stored: the caller on its own bucket, else the owner's account.</summary>
    public static string FallbackOwner(S3Request r) => r.Context.Items.TryGetValue(ForeignItem, out var owner) && owner is string id ? id : r.OwnerId;

    /// <summary>
    /// The containers a granted operation may reach (each with whether its sub-requests may reach further into the
    /// owner's account, as for a policy's Allow), or null when no grant opens it.
    /// </summary>
    /// <param name="asOwner">The request on the owner's account, still as the caller.</param>
    /// <param name="next">The pipeline, for looking at a copy's source.</param>
    /// <param name="cluster">For the source bucket's container info.</param>
    /// <param name="info">The bucket's container info (its stored ACL).</param>
    /// <param name="action">The request's IAM action.</param>
    /// <param name="ignorePublic">IgnorePublicAcls: group grants count for nothing.</param>
    public static async Task<Dictionary<string, bool>?> GrantedAsync(S3Request asOwner, RequestDelegate next, Cluster cluster, ContainerInfo info, string? action,
        bool ignorePublic)
    {
        if (action is null) return null;
        var r = asOwner;
        var bucket = r.Bucket!;
        var segments = bucket + BucketHandlers.SegmentsSuffix;
        var method = r.Context.Request.Method;
        var caller = r.Principal;
        var containers = new Dictionary<string, bool>(StringComparer.Ordinal);
        if (r.Key is null)
        {
            // Multi-object delete names its keys in the body: not opened by a grant, as not by a policy.
            if (action == "s3:DeleteObject" || !OnBucket.TryGetValue(action, out var permission)) return null;
            if (!BucketAcl(info, r.Principal.Account).Allows(caller, permission, ignorePublic)) return null;
            if (action == "s3:ListBucketMultipartUploads") containers[segments] = false;
        }
        else if (OnObject.TryGetValue(action, out var objectPermission))
        {
            var head = await HeadAsync(r);
            if (!head.IsSuccess || !AccessControlList.Decode(head.Header(AclHandlers.ObjectSysmeta), r.Principal.Account).Allows(caller, objectPermission, ignorePublic))
                return null;
            if (objectPermission == "READ") containers[bucket] = !HttpMethods.IsHead(method) && await BucketPolicyEnforcer.ConfinedAsync(r, head);
        }
        else if (OnBucket.TryGetValue(action, out var writePermission))
        {
            if (!BucketAcl(info, r.Principal.Account).Allows(caller, writePermission, ignorePublic)) return null;
            switch (action)
            {
                case "s3:DeleteObject" or "s3:DeleteObjectVersion":
                    containers[bucket] = await BucketPolicyEnforcer.ConfinedAsync(r, null);
                    break;
                case "s3:AbortMultipartUpload" or "s3:ListMultipartUploadParts":
                    containers[segments] = false;
                    break;
                case "s3:PutObject":
                    var source = CopySource(r) is (var sourceBucket, var sourceKey)
                        ? await AuthorizeSourceAsync(r, next, cluster, sourceBucket, sourceKey, ignorePublic) : null;
                    BucketPolicyEnforcer.AddWriteContainers(r, containers, source);
                    break;
            }
        }
        else return null;
        containers.TryAdd(bucket, false);
        return containers;
    }

    /// <summary>
    /// Works out the ACL an object write stores (PutObject, a copy, or a multipart upload's start) and validates its
    /// headers before anything is written. On the caller's own bucket nothing is stored unless the request sets an
    /// ACL; on another account's the writer owns the object, as on RGW.
    /// </summary>
    public static void PrepareWrite(S3Request r, string? action, ContainerInfo? info)
    {
        if (action != "s3:PutObject" || r.Key is null) return;
        var method = r.Context.Request.Method;
        if (!(HttpMethods.IsPut(method) && !r.Has("uploadId")) && !(HttpMethods.IsPost(method) && r.Has("uploads"))) return;
        var foreign = r.Context.Items.ContainsKey(ForeignItem);
        var writer = !foreign ? r.OwnerId : r.Principal.Identity?.User ?? AccessControlList.AnonymousOwner;
        var bucketOwner = AccessControlList.Decode(info?.Header(BucketSysmeta), FallbackOwner(r)).Owner;
        var acl = AccessControlList.FromHeaders(r.Context.Request, writer, bucketOwner)
            ?? (foreign ? AccessControlList.Canned("private", writer, null) : null);
        if (acl is not null) r.Context.Items[ObjectAclItem] = acl.Encode();
    }

    /// <summary>The stored ACL a write prepared by <see cref="PrepareWrite"/> carries, or null.</summary>
    public static string? ObjectAclOf(HttpContext context) => context.Items.TryGetValue(ObjectAclItem, out var acl) ? acl as string : null;

    /// <summary>A bucket's ACL from its container info.</summary>
    public static AccessControlList BucketAcl(ContainerInfo info, string fallbackOwner) =>
        info.Header(BucketSysmeta) is { Length: > 0 } stored ? AccessControlList.Decode(stored, fallbackOwner)
            : AccessControlList.Canned(AclHandlers.CannedOf(info.Header("X-Container-Read")), fallbackOwner, null);

    /// <summary>
    /// A granted copy's source: in a bucket of the same owner, and an object whose own ACL lets the caller read it.
    /// Returns the source bucket, whose container the copy then reaches.
    /// </summary>
    private static async Task<string> AuthorizeSourceAsync(S3Request asOwner, RequestDelegate next, Cluster cluster, string bucket, string key, bool ignorePublic)
    {
        var owner = asOwner.Principal.Account;
        if (bucket != asOwner.Bucket)
        {
            if (await asOwner.Registry.OwnerAsync(bucket, asOwner.Context.RequestAborted) is { } registered && registered != owner) throw S3Error.AccessDenied();
            if (!(await cluster.GetContainerInfoAsync(owner, bucket, cancellationToken: asOwner.Context.RequestAborted)).Exists) throw S3Error.AccessDenied();
        }
        var source = new S3Request(asOwner.Context, asOwner.Principal, next, bucket, key)
        {
            Signed = asOwner.Signed, SigningKey = asOwner.SigningKey, Registry = asOwner.Registry,
        };
        var head = await HeadAsync(source);
        if (!head.IsSuccess || !AccessControlList.Decode(head.Header(AclHandlers.ObjectSysmeta), owner).Allows(asOwner.Principal, "READ", ignorePublic))
            throw S3Error.AccessDenied();
        return bucket;
    }

    /// <summary>The object, read with the owner's rights within its bucket (only to judge the request, never shown).</summary>
    private static Task<SwiftAnswer> HeadAsync(S3Request r) =>
        r.SwiftAsync("HEAD", r.SwiftPath(r.Bucket!, r.Key, VersioningHandlers.VersionQuery(r)), preAuthorized: true);

    private static (string Bucket, string Key)? CopySource(S3Request r) =>
        HttpMethods.IsPut(r.Context.Request.Method) && r.Context.Request.Headers["x-amz-copy-source"].ToString() is { Length: > 0 } header
            ? ObjectHandlers.ParseCopySource(header) : null;
}
