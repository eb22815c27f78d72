using Microsoft.AspNetCore.Http;

namespace StorageCloud.Proxy.S3;

/// <summary>
/// Get/PutBucketAcl and Get/PutObjectAcl. An ACL (canned, x-amz-grant-* headers or an AccessControlPolicy document)
/// is kept whole, as AccessControlList's stored form: a bucket's in container sysmeta, an object's in its transient
/// sysmeta. A bucket's READ for everyone (or every signed caller) is also its container read ACL, as the canned ACLs
/// always were, so Swift clients see the same; every other grant is applied by AclEnforcer.
/// </summary>
public static class AclHandlers
{
    /// <summary>Where an object's ACL is kept ("public-read" in objects written before grants existed).</summary>
    public const string ObjectSysmeta = "X-Object-Transient-Sysmeta-S3-Acl";

    private const int DocumentLimit = 64 * 1024;

    /// <summary>The canned ACL of the x-amz-acl header, or null; the ACL headers are checked whole first (before a bucket is made).</summary>
    public static Task<string?> RequestedAsync(S3Request r, bool readBody)
    {
        AccessControlList.FromHeaders(r.Context.Request, r.OwnerId, null);
        var canned = r.Context.Request.Headers["x-amz-acl"].ToString();
        if (canned.Length == 0) return Task.FromResult<string?>(null);
        return Array.IndexOf(AccessControlList.CannedNames, canned) >= 0 ? Task.FromResult<string?>(canned)
            : throw S3Error.InvalidArgument("Invalid canned ACL", "x-amz-acl", canned);
    }

    /// <summary>The container read ACL of a canned bucket ACL.</summary>
    public static string ContainerReadAcl(string canned) => canned switch
    {
        "public-read" or "public-read-write" => ".r:*,.rlistings",
        "authenticated-read" => "*:*",
        _ => "",
    };

    /// <summary>The container read ACL an ACL's group grants stand for.</summary>
    public static string ContainerReadAcl(AccessControlList acl) =>
        acl.GroupHas(AccessControlList.AllUsers, "READ") ? ".r:*,.rlistings" : acl.GroupHas(AccessControlList.AuthenticatedUsers, "READ") ? "*:*" : "";

    /// <summary>The canned ACL a container read ACL stands for.</summary>
    public static string CannedOf(string? containerRead) =>
        containerRead is null ? "private"
        : containerRead.Contains(".r:*", StringComparison.Ordinal) ? "public-read"
        : containerRead.Contains("*:*", StringComparison.Ordinal) ? "authenticated-read" : "private";

    /// <summary>
    /// The stored ACL a CreateBucket's headers ask for (the creator owns it), or null when they ask for none or just
    /// the canned ACLs X-Container-Read already says all of.
    /// </summary>
    public static string? CreatedSysmeta(S3Request r)
    {
        var acl = AccessControlList.FromHeaders(r.Context.Request, r.OwnerId, null);
        var canned = r.Context.Request.Headers["x-amz-acl"].ToString();
        return acl is null || canned is "private" or "public-read" or "authenticated-read" ? null : acl.Encode();
    }

    /// <summary>PUT /bucket?acl.</summary>
    public static async Task PutBucketAsync(S3Request r)
    {
        var head = await r.SwiftAsync("HEAD", r.SwiftPath(r.Bucket!));
        if (!head.IsSuccess) throw S3Error.FromSwift(head.Status, r.Bucket, null);
        // Whoever sets it, the bucket keeps its owner.
        var owner = StoredOwner(head.Header(AclEnforcer.BucketSysmeta)) ?? AclEnforcer.FallbackOwner(r);
        var acl = await RequestedAclAsync(r, owner, null);
        var answer = await r.SwiftAsync("POST", r.SwiftPath(r.Bucket!),
            S3Request.Headers(("X-Container-Read", ContainerReadAcl(acl)), (AclEnforcer.BucketSysmeta, acl.IsPrivate ? "" : acl.Encode())));
        if (!answer.IsSuccess) throw S3Error.FromSwift(answer.Status, r.Bucket, null);
        // A bucket made through Swift becomes reachable by name for other accounts and anonymous callers once it grants something.
        if (acl.GrantsOthers) await r.Registry.RegisterAsync(r.Bucket!, r.Principal.Account, r.Context.RequestAborted);
        r.Context.Response.StatusCode = 200;
        r.Context.Response.ContentLength = 0;
    }

    /// <summary>GET /bucket?acl.</summary>
    public static async Task GetBucketAsync(S3Request r)
    {
        var head = await r.SwiftAsync("HEAD", r.SwiftPath(r.Bucket!));
        if (!head.IsSuccess) throw S3Error.FromSwift(head.Status, r.Bucket, null);
        var owner = AclEnforcer.FallbackOwner(r);
        var acl = head.Header(AclEnforcer.BucketSysmeta) is { Length: > 0 } stored ? AccessControlList.Decode(stored, owner)
            : AccessControlList.Canned(CannedOf(head.Header("X-Container-Read")), owner, null);
        await acl.WriteAsync(r.Context);
    }

    /// <summary>PUT /bucket/key?acl: kept with the object (its user metadata is carried along, since a Swift POST replaces it).</summary>
    public static async Task PutObjectAsync(S3Request r)
    {
        var head = await r.SwiftAsync("HEAD", r.SwiftPath(r.Bucket!, r.Key, VersioningHandlers.VersionQuery(r)));
        if (!head.IsSuccess) throw S3Error.FromSwift(head.Status, r.Bucket, r.Key);
        var owner = StoredOwner(head.Header(ObjectSysmeta)) ?? AclEnforcer.FallbackOwner(r);
        var acl = await RequestedAclAsync(r, owner, await BucketOwnerAsync(r));
        // The owner's own private ACL is what no stored ACL means: nothing is kept.
        var keep = acl.IsPrivate && owner == AclEnforcer.FallbackOwner(r) ? null : acl.Encode();
        await ObjectHandlers.SetTransientSysmetaAsync(r, ObjectSysmeta, keep);
        if (acl.GrantsOthers) await r.Registry.RegisterAsync(r.Bucket!, r.Principal.Account, r.Context.RequestAborted);
        r.Context.Response.StatusCode = 200;
        r.Context.Response.ContentLength = 0;
    }

    /// <summary>GET /bucket/key?acl.</summary>
    public static async Task GetObjectAsync(S3Request r)
    {
        var head = await r.SwiftAsync("HEAD", r.SwiftPath(r.Bucket!, r.Key, VersioningHandlers.VersionQuery(r)));
        if (!head.IsSuccess) throw S3Error.FromSwift(head.Status, r.Bucket, r.Key);
        await AccessControlList.Decode(head.Header(ObjectSysmeta), AclEnforcer.FallbackOwner(r)).WriteAsync(r.Context);
    }

    /// <summary>
    /// An anonymous GET or HEAD of an object its container's ACL does not open: allowed when the object's own ACL
    /// lets everyone read it, by a pre-authorized read of that one object.
    /// </summary>
    public static async Task<bool> ObjectIsPublicAsync(S3Request r)
    {
        var head = await r.SwiftAsync("HEAD", r.SwiftPath(r.Bucket!, r.Key), preAuthorized: true);
        return head.IsSuccess && AccessControlList.Decode(head.Header(ObjectSysmeta), r.Principal.Account).GroupHas(AccessControlList.AllUsers, "READ");
    }

    /// <summary>True for the methods an anonymous caller may try.</summary>
    public static bool AnonymousMethod(HttpRequest request) => HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method);

    /// <summary>The ACL a Put*Acl asks for: its headers, else its AccessControlPolicy document.</summary>
    private static async Task<AccessControlList> RequestedAclAsync(S3Request r, string owner, string? bucketOwner)
    {
        if (AccessControlList.FromHeaders(r.Context.Request, owner, bucketOwner) is { } fromHeaders) return fromHeaders;
        return AccessControlList.FromXml(await S3Xml.ReadAsync(r.Context, DocumentLimit), owner);
    }

    private static string? StoredOwner(string? stored)
    {
        if (stored is not { Length: > 0 } || stored == "public-read") return null;
        var owner = AccessControlList.Decode(stored, "").Owner;
        return owner.Length > 0 ? owner : null;
    }

    private static async Task<string> BucketOwnerAsync(S3Request r)
    {
        var head = await r.SwiftAsync("HEAD", r.SwiftPath(r.Bucket!));
        return StoredOwner(head.IsSuccess ? head.Header(AclEnforcer.BucketSysmeta) : null) ?? AclEnforcer.FallbackOwner(r);
    }
}
