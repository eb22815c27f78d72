using Microsoft.AspNetCore.Http;
using StorageCloud.Common.Http;
using StorageCloud.Service.Http;
using StorageCloud.Proxy.Auth;

namespace StorageCloud.Proxy.S3;

/// <summary>
/// The S3 front end on the proxy's port: recognises signed S3 requests, checks the signature against the access
/// key's secret (tempauth users, or identity EC2 credentials), and answers them by running Swift sub-requests
/// through the rest of the pipeline as the caller, so ACLs, quotas and every feature apply alike. Requests that
/// are not S3's pass through untouched.
/// </summary>
public sealed class S3Middleware(RequestDelegate next, IEnumerable<IS3CredentialSource> sources, BucketRegistry registry, ObjectLayer.Cluster cluster,
    ProxyOptions options, TimeProvider? clock = null)
{
    /// <summary>Largest difference between the request's time and ours (S3's RequestTimeTooSkewed).</summary>
    public static readonly TimeSpan MaxSkew = TimeSpan.FromMinutes(15);

    private readonly TimeProvider _clock = clock ?? TimeProvider.System;

    /// <summary>Runs the step.</summary>
    public async Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        var v2 = SigV2.IsSigned(request);
        if (!v2 && !SigV4.IsSigned(request))
        {
            // A browser's form upload (POST Object) carries its signature in the form, not the request.
            if (PostObjectHandler.IsFormUpload(request) && SplitPath(context) is ({ } bucket, null) && Array.IndexOf(SwiftRoots, bucket) < 0 && BucketHandlers.IsValidName(bucket))
                await new PostObjectHandler(context, next, sources, registry, cluster, options, _clock).HandleAsync(bucket);
            else if (!await PreflightAsync(context) && !await AnonymousAsync(context)) await next(context);
            return;
        }
        var requestId = TransactionIdMiddleware.Of(context) ?? "";
        context.Response.Headers["x-amz-request-id"] = requestId;
        context.Response.Headers["x-amz-id-2"] = requestId;
        VirtualBucket(context);
        try
        {
            // An OPTIONS is a CORS preflight or nothing: without an Origin S3 refuses it before looking at a signature.
            if (HttpMethods.IsOptions(request.Method) && !request.Headers.ContainsKey("Origin"))
                throw new S3Error("BadRequest", 400, "Insufficient information. Origin request header needed.");
            var (principal, signed) = await AuthenticateAsync(request, v2);
            SwiftAuthState.Of(context).Identity = principal.Identity;
            await DispatchAsync(context, principal, signed);
        }
        catch (S3Error e)
        {
            await e.WriteAsync(context);
        }
    }

    private async Task<(S3Principal, SignedRequest)> AuthenticateAsync(HttpRequest request, bool v2)
    {
        var signed = v2 ? SigV2.Parse(request) : SigV4.Parse(request);
        if (!v2 && signed.Scope.Split('/') is [_, var region, ..] && !options.S3Regions.Contains(region, StringComparer.Ordinal))
        {
            // As AWS answers a request signed for a region the endpoint does not serve.
            var detail = $"the region '{region}' is wrong; expecting '{options.S3Regions[0]}'";
            throw signed.Presigned
                ? new S3Error("AuthorizationQueryParametersError", 400, $"Error parsing the X-Amz-Credential parameter; {detail}") { Extra = [("Region", options.S3Regions[0])] }
                : new S3Error("AuthorizationHeaderMalformed", 400, $"The authorization header is malformed; {detail}") { Extra = [("Region", options.S3Regions[0])] };
        }
        var now = _clock.GetUtcNow();
        if (signed.Presigned)
        {
            // A SigV4 URL carries its signing time (which must not be in the future); a SigV2 URL only its expiry.
            if (!v2 && signed.Time - now > MaxSkew) throw S3Error.RequestTimeTooSkewed();
            if (now > signed.Time + signed.Expires!.Value) throw S3Error.AccessDenied("Request has expired");
        }
        else if ((now - signed.Time).Duration() > MaxSkew) throw S3Error.RequestTimeTooSkewed();
        S3Principal? principal = null;
        foreach (var source in sources)
        {
            principal = await source.FindAsync(signed.AccessKey);
            if (principal is not null) break;
        }
        if (principal is null) throw S3Error.InvalidAccessKeyId();
        if (!(v2 ? SigV2.Verify(request, signed, principal.Secret) : SigV4.Verify(request, signed, principal.Secret))) throw S3Error.SignatureDoesNotMatch();
        return (principal, signed);
    }

    /// <summary>Subresources this front end does not implement yet: a request naming one gets NotImplemented, never a wrong answer.</summary>
    private static readonly string[] Unsupported =
    [
        "logging", "notification", "replication",
        "website", "encryption", "torrent", "requestPayment", "accelerate", "analytics",
        "inventory", "metrics", "ownershipControls", "restore", "select", "attributes",
    ];

    private async Task DispatchAsync(HttpContext context, S3Principal principal, SignedRequest signed)
    {
        var (bucket, key) = SplitPath(context);
        // As s3api: a key longer than an object name may be is refused before anything is written (it was a 500).
        if (key is not null && (HttpMethods.IsPut(context.Request.Method) || HttpMethods.IsPost(context.Request.Method))
            && System.Text.Encoding.UTF8.GetByteCount(key) is var keyBytes && keyBytes > options.Constraints.MaxObjectNameLength)
            throw new S3Error("KeyTooLongError", 400, "Your key is too long")
            {
                Extra = [("Size", keyBytes.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                    ("MaxSizeAllowed", options.Constraints.MaxObjectNameLength.ToString(System.Globalization.CultureInfo.InvariantCulture))],
            };
        if (bucket is not null) await CorsHandlers.AddHeadersAsync(context, cluster, principal.Account, bucket);
        var r = new S3Request(context, principal, next, bucket, key)
        {
            Cluster = cluster,
            Signed = signed, SigningKey = signed.Scope.Length == 0 ? [] : SigV4.SigningKey(principal.Secret, signed.Scope), Registry = registry,
        };
        // Bucket policies: a Deny refuses; another account's bucket is answered as its owner's policy and ACL allow.
        await BucketPolicyEnforcer.RouteAsync(r, next, cluster, options, Route);
    }

    private static Task Route(S3Request r)
    {
        var context = r.Context;
        var (bucket, key) = (r.Bucket, r.Key);
        var method = context.Request.Method;
        foreach (var name in Unsupported)
            if (r.Has(name)) throw S3Error.NotImplemented();
        if (bucket is null)
            return method == "GET" ? BucketHandlers.ListBucketsAsync(r) : throw MethodNotAllowed();
        if (BucketPolicyHandlers.Handles(r)) return BucketPolicyHandlers.HandleAsync(r);
        if (ObjectLockHandlers.Handles(r)) return ObjectLockHandlers.HandleAsync(r);
        if (key is null)
        {
            return method switch
            {
                "PUT" when r.Has("cors") => CorsHandlers.PutAsync(r),
                "GET" when r.Has("cors") => CorsHandlers.GetAsync(r),
                "DELETE" when r.Has("cors") => CorsHandlers.DeleteAsync(r),
                "PUT" when r.Has("lifecycle") => LifecycleHandlers.PutAsync(r),
                "GET" when r.Has("lifecycle") => LifecycleHandlers.GetAsync(r),
                "DELETE" when r.Has("lifecycle") => LifecycleHandlers.DeleteAsync(r),
                "PUT" when r.Has("acl") => AclHandlers.PutBucketAsync(r),
                "GET" when r.Has("acl") => AclHandlers.GetBucketAsync(r),
                "PUT" when r.Has("versioning") => VersioningHandlers.PutAsync(r),
                "GET" when r.Has("versioning") => VersioningHandlers.GetAsync(r),
                "GET" when r.Has("versions") => VersioningHandlers.ListAsync(r),
                "GET" when r.Has("tagging") => TaggingHandlers.GetBucketAsync(r),
                "PUT" or "DELETE" when r.Has("tagging") => TaggingHandlers.SetBucketAsync(r),
                "PUT" => BucketHandlers.CreateAsync(r),
                "HEAD" => BucketHandlers.HeadAsync(r),
                "DELETE" => BucketHandlers.DeleteAsync(r),
                "GET" when r.Has("location") => BucketHandlers.LocationAsync(r),
                "GET" when r.Has("uploads") => MultipartHandlers.ListUploadsAsync(r),
                "GET" => BucketHandlers.ListObjectsAsync(r),
                "POST" when r.Has("delete") => ObjectHandlers.DeleteObjectsAsync(r),
                _ => throw MethodNotAllowed(),
            };
        }
        return method switch
        {
            _ when r.Has("lifecycle") => throw S3Error.NotImplemented(),
            "PUT" when r.Has("acl") => AclHandlers.PutObjectAsync(r),
            "GET" when r.Has("acl") => AclHandlers.GetObjectAsync(r),
            "GET" when r.Has("tagging") => TaggingHandlers.GetObjectAsync(r),
            "PUT" or "DELETE" when r.Has("tagging") => TaggingHandlers.SetObjectAsync(r),
            "PUT" when r.Has("uploadId") => MultipartHandlers.UploadPartAsync(r),
            "PUT" when context.Request.Headers.ContainsKey("x-amz-copy-source") => ObjectHandlers.CopyAsync(r, r.SwiftPath(bucket, key)),
            "PUT" => ObjectHandlers.PutAsync(r, r.SwiftPath(bucket, key), ObjectHandlers.MetadataHeaders(context.Request)),
            "GET" when r.Has("uploadId") => MultipartHandlers.ListPartsAsync(r),
            "GET" or "HEAD" => ObjectHandlers.GetAsync(r),
            "DELETE" when r.Has("uploadId") => MultipartHandlers.AbortAsync(r),
            "DELETE" => ObjectHandlers.DeleteAsync(r),
            "POST" when r.Has("uploads") => MultipartHandlers.CreateAsync(r),
            "POST" when r.Has("uploadId") => MultipartHandlers.CompleteAsync(r),
            _ => throw MethodNotAllowed(),
        };
    }

    /// <summary>The bucket named by the Host header ("bucket.&lt;S3BaseDomain&gt;"), or null for path-style requests.</summary>
    private string? VirtualBucket(HttpContext context)
    {
        if (options.S3BaseDomain is not { Length: > 0 } domain) return null;
        var host = context.Request.Host.Host;
        if (host.Length <= domain.Length + 1 || !host.EndsWith("." + domain, StringComparison.OrdinalIgnoreCase)) return null;
        var bucket = host[..^(domain.Length + 1)];
        context.Items[SigV2.VirtualBucketItem] = bucket;
        return bucket;
    }

    /// <summary>Paths that are the Swift API's own, never an anonymous S3 bucket.</summary>
    private static readonly string[] SwiftRoots = ["v1", "v1.0", "auth", "info", "healthcheck", "crossdomain.xml"];

    /// <summary>
    /// An unsigned request on a bucket the S3 API registered (the only way to know its account): answered as nobody,
    /// so only what the bucket policy or ACLs open is allowed. False when the request is not one (it goes on to the Swift API).
    /// </summary>
    private async Task<bool> AnonymousAsync(HttpContext context)
    {
        var request = context.Request;
        if (!BucketPolicyEnforcer.AnonymousMethod(request) || request.Headers.ContainsKey("X-Auth-Token") || request.Headers.ContainsKey("X-Storage-Token")) return false;
        var (bucket, key) = SplitPath(context);
        if (bucket is null || Array.IndexOf(SwiftRoots, bucket) >= 0 || !BucketHandlers.IsValidName(bucket)) return false;
        var owner = await registry.OwnerAsync(bucket, context.RequestAborted);
        // No S3 bucket has the name: the Swift API answers, as Swift with s3api does (412 Bad URL; RGW would say NoSuchBucket).
        if (owner is null) return false;
        await CorsHandlers.AddHeadersAsync(context, cluster, owner, bucket);
        var requestId = TransactionIdMiddleware.Of(context) ?? "";
        context.Response.Headers["x-amz-request-id"] = requestId;
        context.Response.Headers["x-amz-id-2"] = requestId;
        var r = new S3Request(context, new S3Principal("", null, owner), next, bucket, key)
        {
            Signed = new SignedRequest("", "", "", [], "", "UNSIGNED-PAYLOAD", _clock.GetUtcNow(), false, null), SigningKey = [], Registry = registry,
        };
        try
        {
            // What the bucket policy allows anonymous callers, else the reads (object, listing) its ACL opens; nothing else.
            await BucketPolicyEnforcer.AnonymousAsync(r, next, cluster, options, Route);
        }
        catch (S3Error e)
        {
            await e.WriteAsync(context);
        }
        return true;
    }

    /// <summary>An unsigned OPTIONS with an Origin on a registered bucket: S3's CORS preflight.</summary>
    private async Task<bool> PreflightAsync(HttpContext context)
    {
        if (!HttpMethods.IsOptions(context.Request.Method) || !context.Request.Headers.ContainsKey("Origin")) return false;
        var (bucket, _) = SplitPath(context);
        if (bucket is null || Array.IndexOf(SwiftRoots, bucket) >= 0 || !BucketHandlers.IsValidName(bucket)) return false;
        var owner = await registry.OwnerAsync(bucket, context.RequestAborted);
        if (owner is null) return false;
        try
        {
            await CorsHandlers.PreflightAsync(context, cluster, owner, bucket);
        }
        catch (S3Error e)
        {
            await e.WriteAsync(context);
        }
        return true;
    }

    private static S3Error MethodNotAllowed() => new("MethodNotAllowed", 405, "The specified method is not allowed against this resource.");

    /// <summary>The bucket and key of a path-style request, decoded from the raw target (so "%2F" in a key stays a slash of the key).</summary>
    private (string? Bucket, string? Key) SplitPath(HttpContext context)
    {
        var raw = context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestFeature>()?.RawTarget ?? context.Request.Path.Value ?? "/";
        var q = raw.IndexOf('?');
        var path = (q < 0 ? raw : raw[..q]).TrimStart('/');
        if (VirtualBucket(context) is { } hosted) return (hosted, path.Length == 0 ? null : Uri.UnescapeDataString(path));
        if (path.Length == 0) return (null, null);
        var slash = path.IndexOf('/');
        if (slash < 0 || slash == path.Length - 1) return (Uri.UnescapeDataString(slash < 0 ? path : path[..slash]), null);
        return (Uri.UnescapeDataString(path[..slash]), Uri.UnescapeDataString(path[(slash + 1)..]));
    }
}
