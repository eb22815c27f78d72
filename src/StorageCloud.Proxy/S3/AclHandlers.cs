using Microsoft.AspNetCore.Http;

namespace StorageCloud.Proxy.S3;

/// <summary>
/// Canned ACLs. A bucket's become its container read ACL (public-read is ".r:*,.rlistings", authenticated-read
/// "*:*", private none); an object's are kept in its transient sysmeta and let anonymous callers read that one
/// object. Grants beyond these have no Swift equivalent and get NotImplemented rather than a silent half-answer.
/// </summary>
public static class AclHandlers
{
    /// <summary>Where an object's canned ACL is kept.</summary>
    public const string ObjectSysmeta = "X-Object-Transient-Sysmeta-S3-Acl";

    private const string AllUsers = "http://acs.amazonaws.com/groups/global/AllUsers";
    private const string AuthenticatedUsers = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers";

    /// <summary>The canned ACL a request asks for: the x-amz-acl header, or an AccessControlPolicy body; null when neither.</summary>
    public static async Task<string?> RequestedAsync(S3Request r, bool readBody)
    {
        if (r.Context.Request.Headers["x-amz-acl"].ToString() is { Length: > 0 } canned)
            return canned is "private" or "public-read" or "authenticated-read" ? canned
                : canned is "public-read-write" or "aws-exec-read" or "bucket-owner-read" or "bucket-owner-full-control" or "log-delivery-write"
                    ? throw S3Error.NotImplemented() : throw S3Error.InvalidArgument("Invalid canned ACL", "x-amz-acl", canned);
        if (!readBody) return null;
        var doc = await S3Xml.ReadAsync(r.Context, 64 * 1024);
        if (doc.DocumentElement?.LocalName != "AccessControlPolicy") throw S3Error.MalformedXml();
        var list = S3Xml.Children(doc.DocumentElement, "AccessControlList").FirstOrDefault() ?? throw S3Error.MalformedXml();
        var result = "private";
        foreach (var grant in S3Xml.Children(list, "Grant"))
        {
            var grantee = S3Xml.Children(grant, "Grantee").FirstOrDefault() ?? throw S3Error.MalformedXml();
            var permission = S3Xml.ChildText(grant, "Permission");
            var uri = S3Xml.ChildText(grantee, "URI");
            if (uri is null && permission == "FULL_CONTROL") continue; // the owner's own grant
            if (uri == AllUsers && permission == "READ") result = "public-read";
            else if (uri == AuthenticatedUsers && permission == "READ" && result == "private") result = "authenticated-read";
            else throw S3Error.NotImplemented();
        }
        return result;
    }

    /// <summary>The container read ACL of a canned bucket ACL.</summary>
    public static string ContainerReadAcl(string canned) => canned switch
    {
        "public-read" => ".r:*,.rlistings",
        "authenticated-read" => "*:*",
        _ => "",
    };

    /// <summary>PUT /bucket?acl.</summary>
    public static async Task PutBucketAsync(S3Request r)
    {
        var canned = await RequestedAsync(r, readBody: true) ?? "private";
        var answer = await r.SwiftAsync("POST", r.SwiftPath(r.Bucket!), S3Request.Headers(("X-Container-Read", ContainerReadAcl(canned))));
        if (!answer.IsSuccess) throw S3Error.FromSwift(answer.Status, r.Bucket, null);
        // A bucket made through Swift becomes reachable by name for anonymous readers once it is public.
        if (canned != "private") await r.Registry.RegisterAsync(r.Bucket!, r.Principal.Account, r.Context.RequestAborted);
        r.Context.Response.StatusCode = 200;
        r.Context.Response.ContentLength = 0;
    }

    /// <summary>GET /bucket?acl.</summary>
    public static async Task GetBucketAsync(S3Request r)
    {
        var head = await r.SwiftAsync("HEAD", r.SwiftPath(r.Bucket!));
        if (!head.IsSuccess) throw S3Error.FromSwift(head.Status, r.Bucket, null);
        await WritePolicyAsync(r, CannedOf(head.Header("X-Container-Read")));
    }

    /// <summary>The canned ACL a container read ACL stands for.</summary>
    public static string CannedOf(string? containerRead) =>
        containerRead is null ? "private"
        : containerRead.Contains(".r:*", StringComparison.Ordinal) ? "public-read"
        : containerRead.Contains("*:*", StringComparison.Ordinal) ? "authenticated-read" : "private";

    /// <summary>PUT /bucket/key?acl: kept with the object (its user metadata is carried along, since a Swift POST replaces it).</summary>
    public static async Task PutObjectAsync(S3Request r)
    {
        var canned = await RequestedAsync(r, readBody: true) ?? "private";
        if (canned == "authenticated-read") throw S3Error.NotImplemented();
        await ObjectHandlers.SetTransientSysmetaAsync(r, ObjectSysmeta, canned == "public-read" ? canned : null);
        if (canned != "private") await r.Registry.RegisterAsync(r.Bucket!, r.Principal.Account, r.Context.RequestAborted);
        r.Context.Response.StatusCode = 200;
        r.Context.Response.ContentLength = 0;
    }

    /// <summary>GET /bucket/key?acl.</summary>
    public static async Task GetObjectAsync(S3Request r)
    {
        var head = await r.SwiftAsync("HEAD", r.SwiftPath(r.Bucket!, r.Key));
        if (!head.IsSuccess) throw S3Error.FromSwift(head.Status, r.Bucket, r.Key);
        await WritePolicyAsync(r, head.Header(ObjectSysmeta) ?? "private");
    }

    private static Task WritePolicyAsync(S3Request r, string canned)
    {
        var xml = new S3Xml("AccessControlPolicy").Open("Owner").Element("ID", r.OwnerId).Element("DisplayName", r.OwnerId).Close("Owner")
            .Open("AccessControlList");
        // The group's grant first, then the owner's, as RGW lists them (clients such as s3-tests compare in order).
        if (canned != "private")
            xml.Raw($"<Grant><Grantee xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:type=\"Group\"><URI>{(canned == "public-read" ? AllUsers : AuthenticatedUsers)}</URI></Grantee><Permission>READ</Permission></Grant>");
        xml.Raw($"<Grant><Grantee xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:type=\"CanonicalUser\"><ID>{System.Security.SecurityElement.Escape(r.OwnerId)}</ID><DisplayName>{System.Security.SecurityElement.Escape(r.OwnerId)}</DisplayName></Grantee><Permission>FULL_CONTROL</Permission></Grant>");
        return xml.Close("AccessControlList").WriteAsync(r.Context);
    }

    /// <summary>
    /// An anonymous GET or HEAD of an object its container's ACL does not open: allowed when the object itself is
    /// public-read, by a pre-authorized read of that one object.
    /// </summary>
    public static async Task<bool> ObjectIsPublicAsync(S3Request r)
    {
        var head = await r.SwiftAsync("HEAD", r.SwiftPath(r.Bucket!, r.Key), preAuthorized: true);
        return head.IsSuccess && head.Header(ObjectSysmeta) == "public-read";
    }

    /// <summary>True for the methods an anonymous caller may try.</summary>
    public static bool AnonymousMethod(HttpRequest request) => HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method);
}
