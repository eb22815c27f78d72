using System.Text.Json;
using System.Xml;
using Microsoft.AspNetCore.Http;
using StorageCloud.ObjectLayer;
using StorageCloud.ObjectLayer.LargeObjects;
using StorageCloud.Proxy.Auth;

namespace StorageCloud.Proxy.S3;

/// <summary>
/// Bucket policies and public access blocks, applied before a request reaches its handler.
/// <list type="bullet">
/// <item>On a bucket of the caller's own account nothing changes, except that the policy's explicit Deny refuses
/// (every user of the account; its owner can still mend the policy itself).</item>
/// <item>On another account's bucket, and for anonymous callers, the request is answered from the owner's account:
/// an operation the owner's policy Allows runs with the owner's rights, by pre-authorizing (as a temp URL is) only
/// the sub-requests its handler makes to the bucket's own containers; anything else gets only what the bucket's ACL
/// opens to the caller (reads, judged by Swift as the caller), or AccessDenied.</item>
/// </list>
/// </summary>
public static class BucketPolicyEnforcer
{
    // What a policy may open to others: listings, and operations on one object, whose handlers keep to the bucket and
    // its segments container. Bucket configuration (ACL, CORS, versioning, the policy itself) stays the owner's, and so
    // does multi-object delete, whose keys a policy would have to judge one by one.
    private static readonly HashSet<string> DelegableOnBucket = new(StringComparer.Ordinal)
    {
        "s3:ListBucket", "s3:ListBucketVersions", "s3:ListBucketMultipartUploads",
    };

    private static readonly HashSet<string> DelegableOnObject = new(StringComparer.Ordinal)
    {
        "s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion", "s3:GetObjectTagging",
        "s3:GetObjectVersionTagging", "s3:PutObjectTagging", "s3:DeleteObjectTagging", "s3:GetObjectAcl", "s3:PutObjectAcl",
        "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts",
    };

    private static readonly HashSet<string> AclReadable = new(StringComparer.Ordinal) { "s3:ListBucket", "s3:GetObject", "s3:GetObjectVersion" };

    private static readonly HashSet<string> PolicyAdministration = new(StringComparer.Ordinal)
    {
        "s3:PutBucketPolicy", "s3:GetBucketPolicy", "s3:DeleteBucketPolicy", "s3:GetBucketPolicyStatus",
        "s3:PutBucketPublicAccessBlock", "s3:GetBucketPublicAccessBlock",
    };

    private const int XmlLimit = 64 * 1024;

    /// <summary>The methods an unsigned request on a registered bucket may use (the policy decides which succeed).</summary>
    public static bool AnonymousMethod(HttpRequest request) => HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method)
        || HttpMethods.IsPut(request.Method) || HttpMethods.IsPost(request.Method) || HttpMethods.IsDelete(request.Method);

    /// <summary>A signed request: routed as the caller on its own bucket, else as the owner's policy and ACL allow.</summary>
    public static async Task RouteAsync(S3Request r, RequestDelegate next, Cluster cluster, ProxyOptions options, Func<S3Request, Task> route)
    {
        var action = PolicyActions.Of(r);
        if (r.Bucket is not { } bucket || action == "s3:CreateBucket")
        {
            await route(r);
            return;
        }
        var ct = r.Context.RequestAborted;
        var own = await cluster.GetContainerInfoAsync(r.Principal.Account, bucket, cancellationToken: ct);
        if (own.Status != 404)
        {
            await CheckOwnAsync(r, next, cluster, own, action, options);
            AclEnforcer.PrepareWrite(r, action, own);
            await route(r);
            return;
        }
        var owner = await r.Registry.OwnerAsync(bucket, ct);
        var info = owner is null || owner == r.Principal.Account ? null : await cluster.GetContainerInfoAsync(owner, bucket, cancellationToken: ct);
        if (owner is null || info is not { Exists: true })
        {
            // Not another account's bucket: answered as before (NoSuchBucket).
            await route(r);
            return;
        }
        await ForeignAsync(new Foreign(r, next, cluster, owner, options), info, action, route);
    }

    /// <summary>An unsigned request on a registered bucket (its principal acts on the owner's account, as nobody).</summary>
    public static async Task AnonymousAsync(S3Request r, RequestDelegate next, Cluster cluster, ProxyOptions options, Func<S3Request, Task> route)
    {
        var action = PolicyActions.Of(r);
        // As for signed writes: a key longer than an object name may be is refused before anything is written.
        if (r.Key is not null && (HttpMethods.IsPut(r.Context.Request.Method) || HttpMethods.IsPost(r.Context.Request.Method))
            && System.Text.Encoding.UTF8.GetByteCount(r.Key) > options.Constraints.MaxObjectNameLength)
            throw new S3Error("KeyTooLongError", 400, "Your key is too long");
        var info = await cluster.GetContainerInfoAsync(r.Principal.Account, r.Bucket!, cancellationToken: r.Context.RequestAborted);
        if (info.Exists) await ForeignAsync(new Foreign(r, next, cluster, r.Principal.Account, options), info, action, route);
        else if (action is not null && AclReadable.Contains(action)) await route(r);
        else throw S3Error.AccessDenied();
    }

    /// <summary>
    /// A signed browser upload (POST Object): only into a bucket of the signer's own account (another account's is
    /// AccessDenied, its name being taken), and under the same Deny and public-ACL block as a PutObject there.
    /// </summary>
    public static async Task CheckFormUploadAsync(S3Request r, Cluster cluster, ProxyOptions options, string? acl)
    {
        var bucket = r.Bucket!;
        var info = await cluster.GetContainerInfoAsync(r.Principal.Account, bucket, cancellationToken: r.Context.RequestAborted);
        if (!info.Exists)
            throw await r.Registry.OwnerAsync(bucket, r.Context.RequestAborted) is { } owner && owner != r.Principal.Account
                ? S3Error.AccessDenied() : S3Error.NoSuchBucket(bucket);
        if (PublicAccessBlock.Parse(info.Header(BucketPolicyHandlers.BlockSysmeta))?.BlockPublicAcls == true
            && acl is "public-read" or "public-read-write" or "authenticated-read")
            throw S3Error.AccessDenied();
        if (BucketPolicyHandlers.Load(info.Header, bucket) is not { } policy) return;
        var context = new PolicyContext(r, r.Principal, options.ResellerPrefix);
        if (policy.Evaluate(PolicyCaller.Of(r.Principal, options.ResellerPrefix), "s3:PutObject", BucketPolicy.Arn(bucket, r.Key), context.Values) == PolicyDecision.Deny)
            throw S3Error.AccessDenied();
    }

    private static async Task CheckOwnAsync(S3Request r, RequestDelegate next, Cluster cluster, ContainerInfo info, string? action, ProxyOptions options)
    {
        var bucket = r.Bucket!;
        if (PublicAccessBlock.Parse(info.Header(BucketPolicyHandlers.BlockSysmeta))?.BlockPublicAcls == true) await RefusePublicAclAsync(r, action);
        var policy = BucketPolicyHandlers.Load(info.Header, bucket);
        // The account's owner can always mend or remove a policy, whatever it says (AWS's root user can too).
        if (policy is null || (action is not null && PolicyAdministration.Contains(action) && IsAccountOwner(r.Principal))) return;
        var caller = PolicyCaller.Of(r.Principal, options.ResellerPrefix);
        if (action == "s3:DeleteObject" && r.Key is null)
        {
            await CheckMultiDeleteAsync(r, policy, caller, options);
            return;
        }
        var context = new PolicyContext(r, r.Principal, options.ResellerPrefix);
        await LookUpTagsAsync(r, r, policy, action, context);
        if (policy.Evaluate(caller, action, BucketPolicy.Arn(bucket, r.Key), context.Values) == PolicyDecision.Deny) throw S3Error.AccessDenied();
        if (action != "s3:PutObject" || CopySource(r) is not (var sourceBucket, var sourceKey)) return;
        // A copy reads its source: a Deny on the source bucket refuses it too.
        var sourcePolicy = sourceBucket == bucket ? policy
            : BucketPolicyHandlers.Load((await cluster.GetContainerInfoAsync(r.Principal.Account, sourceBucket, cancellationToken: r.Context.RequestAborted)).Header, sourceBucket);
        if (sourcePolicy is null) return;
        var source = await SourceContextAsync(For(r, r.Principal, next, sourceBucket, sourceKey), sourcePolicy, context, options);
        if (sourcePolicy.Evaluate(caller, "s3:GetObject", BucketPolicy.Arn(sourceBucket, sourceKey), source.Values) == PolicyDecision.Deny) throw S3Error.AccessDenied();
    }

    /// <summary>DeleteObjects: each key is judged as its own DeleteObject; one the policy denies refuses the request.</summary>
    private static async Task CheckMultiDeleteAsync(S3Request r, BucketPolicy policy, PolicyCaller caller, ProxyOptions options)
    {
        if (PolicyInputs.Xml(await PolicyInputs.BufferAsync(r.Context, 2 * 1024 * 1024))?.DocumentElement is not { LocalName: "Delete" } root) return;
        foreach (var entry in S3Xml.Children(root, "Object"))
        {
            if (S3Xml.ChildText(entry, "Key") is not { Length: > 0 } key) continue;
            var version = S3Xml.ChildText(entry, "VersionId");
            var context = new PolicyContext(r, r.Principal, options.ResellerPrefix);
            if (policy.UsesExistingObjectTags)
                context.ExistingTags = PolicyInputs.Tags(await r.SwiftAsync("HEAD",
                    r.SwiftPath(r.Bucket!, key, version is null ? "" : "version-id=" + Uri.EscapeDataString(version)), preAuthorized: true));
            if (policy.Evaluate(caller, version is null ? "s3:DeleteObject" : "s3:DeleteObjectVersion", BucketPolicy.Arn(r.Bucket!, key), context.Values)
                == PolicyDecision.Deny)
                throw S3Error.AccessDenied();
        }
    }

    private static async Task ForeignAsync(Foreign f, ContainerInfo info, string? action, Func<S3Request, Task> route)
    {
        var r = f.Request;
        var bucket = r.Bucket!;
        // The handlers' answers (ACL owners, a written object's owner) must name the bucket's owner and the writer, not the caller.
        r.Context.Items[AclEnforcer.ForeignItem] = f.Owner;
        var policy = BucketPolicyHandlers.Load(info.Header, bucket);
        var block = PublicAccessBlock.Parse(info.Header(BucketPolicyHandlers.BlockSysmeta));
        var context = new PolicyContext(r, r.Principal, f.Options.ResellerPrefix);
        SwiftAnswer? head = null;
        var decision = PolicyDecision.None;
        if (policy is not null && action is not null)
        {
            head = await LookUpTagsAsync(r, f.AsOwner, policy, action, context);
            decision = policy.Evaluate(f.Caller, action, BucketPolicy.Arn(bucket, r.Key), context.Values);
        }
        // RestrictPublicBuckets: a bucket with a public policy is closed to everyone outside the owner's account.
        if (decision == PolicyDecision.Deny || (block?.RestrictPublicBuckets == true && policy?.IsPublic == true)) throw S3Error.AccessDenied();
        if (block?.BlockPublicAcls == true) await RefusePublicAclAsync(r, action);
        AclEnforcer.PrepareWrite(r, action, info);
        if (decision == PolicyDecision.Allow && (r.Key is null ? DelegableOnBucket : DelegableOnObject).Contains(action!))
        {
            var containers = await ContainersAsync(f, policy!, action!, context, head);
            await route(For(r, f.AsOwner.Principal, Gate(f.Next, f.Owner, containers), bucket, r.Key));
            return;
        }
        // The bucket's or object's ACL grants act as Allows of the operations their permissions stand for.
        if (await AclEnforcer.GrantedAsync(f.AsOwner, f.Next, f.Cluster, info, action, block?.IgnorePublicAcls == true) is { } granted)
        {
            await route(For(r, f.AsOwner.Principal, Gate(f.Next, f.Owner, granted), bucket, r.Key));
            return;
        }
        if (action is not null && AclReadable.Contains(action) && block?.IgnorePublicAcls != true)
        {
            // As the caller, on the owner's account: the bucket's (and object's) ACL decides, as for a Swift client.
            await route(f.AsOwner);
            return;
        }
        throw S3Error.AccessDenied();
    }

    /// <summary>
    /// The containers the allowed operation's handler touches, each with whether its sub-requests may reach further
    /// into the owner's account (the segments a large object's manifest names, a copy's checked source) or stay in it.
    /// </summary>
    private static async Task<Dictionary<string, bool>> ContainersAsync(Foreign f, BucketPolicy policy, string action, PolicyContext context, SwiftAnswer? head)
    {
        var r = f.Request;
        var bucket = r.Bucket!;
        var segments = bucket + BucketHandlers.SegmentsSuffix;
        var method = r.Context.Request.Method;
        var containers = new Dictionary<string, bool>(StringComparer.Ordinal);
        switch (action)
        {
            case "s3:GetObject" or "s3:GetObjectVersion" or "s3:DeleteObject" or "s3:DeleteObjectVersion":
                containers[bucket] = !HttpMethods.IsHead(method) && await ConfinedAsync(f.AsOwner, head);
                break;
            case "s3:ListBucketMultipartUploads" or "s3:AbortMultipartUpload" or "s3:ListMultipartUploadParts":
                containers[segments] = false;
                break;
            case "s3:PutObject":
            {
                // As S3: writing an object with an ACL other than private needs s3:PutObjectAcl as well.
                var canned = r.Context.Request.Headers["x-amz-acl"].ToString();
                if (canned.Length > 0 && canned != "private"
                    && policy.Evaluate(f.Caller, "s3:PutObjectAcl", BucketPolicy.Arn(bucket, r.Key), context.Values) != PolicyDecision.Allow)
                    throw S3Error.AccessDenied();
                var source = CopySource(r) is (var sourceBucket, var sourceKey) ? await AuthorizeSourceAsync(f, policy, context, sourceBucket, sourceKey) : null;
                AddWriteContainers(r, containers, source);
                break;
            }
        }
        // Every handler may look at the bucket itself (to tell NoSuchBucket from NoSuchKey).
        containers.TryAdd(bucket, false);
        return containers;
    }

    /// <summary>
    /// The containers an allowed object write touches (granted by a policy or an ACL): a multipart start the segments
    /// container; a completion the bucket (reaching further: the manifest it writes names only this upload's parts,
    /// which the SLO layer reads) and the segments; a put or part the bucket or segments, reaching further only for a
    /// copy, whose already-checked source is read through the destination's request.
    /// </summary>
    internal static void AddWriteContainers(S3Request r, Dictionary<string, bool> containers, string? source)
    {
        var bucket = r.Bucket!;
        var segments = bucket + BucketHandlers.SegmentsSuffix;
        var method = r.Context.Request.Method;
        if (HttpMethods.IsPost(method) && r.Has("uploads")) containers[segments] = false;
        else if (HttpMethods.IsPost(method))
        {
            containers[bucket] = true;
            containers[segments] = false;
        }
        else containers[r.Has("uploadId") ? segments : bucket] = source is not null;
        if (source is not null) containers.TryAdd(source, false);
    }

    /// <summary>
    /// True when the object is a static large object whose parts all live in the bucket or its segments container (an
    /// S3 multipart object): reading or deleting it reaches those. False for any other object, which then keeps to the
    /// bucket (a symlink or dynamic manifest pointing elsewhere is refused by Swift, as to the caller). A manifest that
    /// names other containers is refused outright.
    /// </summary>
    internal static async Task<bool> ConfinedAsync(S3Request asOwner, SwiftAnswer? head)
    {
        head ??= await ObjectHeadAsync(asOwner);
        if (!string.Equals(head.Header("X-Static-Large-Object"), "true", StringComparison.OrdinalIgnoreCase)) return false;
        var bucket = asOwner.Bucket!;
        var version = VersioningHandlers.VersionQuery(asOwner);
        var manifest = await asOwner.SwiftAsync("GET", asOwner.SwiftPath(bucket, asOwner.Key, (version.Length > 0 ? version + "&" : "") + "multipart-manifest=get"),
            preAuthorized: true);
        if (!manifest.IsSuccess) throw S3Error.FromSwift(manifest.Status, bucket, asOwner.Key);
        try
        {
            using var doc = JsonDocument.Parse(manifest.Body);
            foreach (var segment in doc.RootElement.EnumerateArray())
            {
                if (segment.TryGetProperty("sub_slo", out var sub) && sub.ValueKind == JsonValueKind.True) throw S3Error.AccessDenied();
                if (!segment.TryGetProperty("name", out var name)) continue;
                var (container, _) = SloManifest.SplitName(name.GetString() ?? "");
                if (container != bucket && container != bucket + BucketHandlers.SegmentsSuffix) throw S3Error.AccessDenied();
            }
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            throw S3Error.AccessDenied();
        }
        return true;
    }

    /// <summary>A copy's source: only in a bucket of the same owner, and only when that bucket's policy allows the caller s3:GetObject on it.</summary>
    private static async Task<string> AuthorizeSourceAsync(Foreign f, BucketPolicy policy, PolicyContext context, string bucket, string key)
    {
        var r = f.Request;
        var sourcePolicy = policy;
        if (bucket != r.Bucket)
        {
            if (await r.Registry.OwnerAsync(bucket, r.Context.RequestAborted) is { } registered && registered != f.Owner) throw S3Error.AccessDenied();
            var info = await f.Cluster.GetContainerInfoAsync(f.Owner, bucket, cancellationToken: r.Context.RequestAborted);
            if (!info.Exists) throw S3Error.AccessDenied();
            sourcePolicy = BucketPolicyHandlers.Load(info.Header, bucket);
            if (PublicAccessBlock.Parse(info.Header(BucketPolicyHandlers.BlockSysmeta))?.RestrictPublicBuckets == true && sourcePolicy?.IsPublic == true)
                throw S3Error.AccessDenied();
        }
        if (sourcePolicy is null) throw S3Error.AccessDenied();
        var source = await SourceContextAsync(For(r, f.AsOwner.Principal, f.Next, bucket, key), sourcePolicy, context, f.Options);
        if (sourcePolicy.Evaluate(f.Caller, "s3:GetObject", BucketPolicy.Arn(bucket, key), source.Values) != PolicyDecision.Allow) throw S3Error.AccessDenied();
        return bucket;
    }

    /// <summary>The condition keys for reading a copy's source: the request's, with the source object's tags.</summary>
    private static async Task<PolicyContext> SourceContextAsync(S3Request source, BucketPolicy policy, PolicyContext context, ProxyOptions options)
    {
        var keys = new PolicyContext(source, context.Caller, options.ResellerPrefix) { RequestTags = context.RequestTags };
        if (policy.UsesExistingObjectTags)
            keys.ExistingTags = PolicyInputs.Tags(await source.SwiftAsync("HEAD", source.SwiftPath(source.Bucket!, source.Key), preAuthorized: true));
        return keys;
    }

    /// <summary>Looks up what the policy's conditions read beyond the request: the object's tags, the tags a tagging body sets.</summary>
    private static async Task<SwiftAnswer?> LookUpTagsAsync(S3Request r, S3Request asOwner, BucketPolicy policy, string? action, PolicyContext context)
    {
        SwiftAnswer? head = null;
        if (r.Key is not null && policy.UsesExistingObjectTags)
        {
            head = await ObjectHeadAsync(asOwner);
            context.ExistingTags = PolicyInputs.Tags(head);
        }
        if (policy.UsesRequestObjectTags)
        {
            context.RequestTags = action == "s3:PutObjectTagging" ? PolicyInputs.TagSet(PolicyInputs.Xml(await PolicyInputs.BufferAsync(r.Context, XmlLimit)))
                : r.Context.Request.Headers["x-amz-tagging"].ToString() is { Length: > 0 } header ? TaggingHandlers.ParseHeader(header) : null;
        }
        return head;
    }

    /// <summary>The object, read with the owner's rights within its bucket (only to judge the request, never shown).</summary>
    private static Task<SwiftAnswer> ObjectHeadAsync(S3Request asOwner) =>
        asOwner.SwiftAsync("HEAD", asOwner.SwiftPath(asOwner.Bucket!, asOwner.Key, VersioningHandlers.VersionQuery(asOwner)), preAuthorized: true);

    /// <summary>BlockPublicAcls: a canned ACL, grant header or ACL document opening the bucket or an object to everyone is refused.</summary>
    private static async Task RefusePublicAclAsync(S3Request r, string? action)
    {
        if (action is not ("s3:PutBucketAcl" or "s3:PutObjectAcl" or "s3:PutObjectVersionAcl" or "s3:PutObject")) return;
        var headers = r.Context.Request.Headers;
        var canned = headers["x-amz-acl"].ToString();
        if (canned is "public-read" or "public-read-write" or "authenticated-read") throw S3Error.AccessDenied();
        foreach (var (name, value) in headers)
            if (name.StartsWith("x-amz-grant-", StringComparison.OrdinalIgnoreCase) && PublicGrantee(value.ToString())) throw S3Error.AccessDenied();
        if (canned.Length > 0 || action == "s3:PutObject" || PolicyInputs.Xml(await PolicyInputs.BufferAsync(r.Context, XmlLimit)) is not { } doc) return;
        foreach (XmlNode node in doc.GetElementsByTagName("*"))
            if (node.LocalName == "URI" && PublicGrantee(node.InnerText)) throw S3Error.AccessDenied();
    }

    private static bool PublicGrantee(string text) => text.Contains("acs.amazonaws.com/groups/global/AllUsers", StringComparison.OrdinalIgnoreCase)
        || text.Contains("acs.amazonaws.com/groups/global/AuthenticatedUsers", StringComparison.OrdinalIgnoreCase);

    /// <summary>A copy's (or part copy's) source, parsed as the handler parses it; null for any other request.</summary>
    private static (string Bucket, string Key)? CopySource(S3Request r) =>
        HttpMethods.IsPut(r.Context.Request.Method) && r.Context.Request.Headers["x-amz-copy-source"].ToString() is { Length: > 0 } header
            ? ObjectHandlers.ParseCopySource(header) : null;

    private static bool IsAccountOwner(S3Principal principal) =>
        principal.Identity is { } identity && (identity.IsResellerAdmin || identity.Groups.Contains(principal.Account));

    private static S3Request For(S3Request r, S3Principal principal, RequestDelegate next, string bucket, string? key) =>
        new(r.Context, principal, next, bucket, key) { Signed = r.Signed, SigningKey = r.SigningKey, Registry = r.Registry };

    /// <summary>
    /// The pipeline for the allowed operation's sub-requests: one on a listed container of the owner's account is
    /// pre-authorized, for that container or (when listed so) the account; any other runs as the caller, as before.
    /// </summary>
    private static RequestDelegate Gate(RequestDelegate next, string owner, Dictionary<string, bool> containers) => context =>
    {
        var path = global::StorageCloud.Proxy.SwiftPath.Of(context);
        if (path.ValidUtf8 && path.Account == owner && path.Container is { } container && containers.TryGetValue(container, out var wide))
        {
            var state = SwiftAuthState.Of(context);
            state.Overridden = true;
            state.OverrideScope = (owner, wide ? null : container);
        }
        return next(context);
    };

    /// <summary>A request on another account's bucket (or an anonymous one): who asks, and the owner it is answered as.</summary>
    private sealed class Foreign(S3Request request, RequestDelegate next, Cluster cluster, string owner, ProxyOptions options)
    {
        public S3Request Request { get; } = request;

        public RequestDelegate Next { get; } = next;

        public Cluster Cluster { get; } = cluster;

        public string Owner { get; } = owner;

        public ProxyOptions Options { get; } = options;

        /// <summary>The caller as the policy names it: its own account, never the owner's.</summary>
        public PolicyCaller Caller { get; } = PolicyCaller.Of(request.Principal, options.ResellerPrefix);

        /// <summary>The same request on the owner's account, still as the caller (its identity, or nobody).</summary>
        public S3Request AsOwner { get; } = For(request, new S3Principal(request.Principal.Secret, request.Principal.Identity, owner), next, request.Bucket!, request.Key);
    }
}
