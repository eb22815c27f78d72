using System.Globalization;
using System.Xml;
using Microsoft.AspNetCore.Http;

namespace StorageCloud.Proxy.S3;

/// <summary>
/// The IAM action of an S3 request, decided the way S3Middleware.Route picks its handler, so a policy is always
/// judged on the operation that will actually run. A query parameter this list does not know, or two subresources at
/// once, give null: an operation that cannot be named is never granted by a policy.
/// </summary>
public static class PolicyActions
{
    private static readonly HashSet<string> Subresources = new(StringComparer.Ordinal)
    {
        "acl", "tagging", "uploads", "uploadId", "versions", "versioning", "location", "cors", "policy", "policyStatus",
        "publicAccessBlock", "delete", "lifecycle",
    };

    private static readonly HashSet<string> Parameters = new(StringComparer.Ordinal)
    {
        "versionId", "partNumber", "x-id", "response-content-type", "response-content-language", "response-expires",
        "response-cache-control", "response-content-disposition", "response-content-encoding", "prefix", "delimiter", "marker",
        "max-keys", "list-type", "continuation-token", "start-after", "fetch-owner", "encoding-type", "key-marker",
        "version-id-marker", "max-uploads", "upload-id-marker", "max-parts", "part-number-marker", "allow-unordered",
        "AWSAccessKeyId", "Signature", "Expires",
    };

    /// <summary>s3:GetObject, s3:ListBucket... for the request, or null.</summary>
    public static string? Of(S3Request r)
    {
        var subresources = 0;
        foreach (var (name, _) in r.Context.Request.Query)
        {
            if (Subresources.Contains(name)) subresources++;
            else if (!Parameters.Contains(name) && !name.StartsWith("X-Amz-", StringComparison.OrdinalIgnoreCase)) return null;
        }
        if (subresources > 1) return null;
        var method = r.Context.Request.Method;
        if (r.Bucket is null) return method == "GET" ? "s3:ListAllMyBuckets" : null;
        return r.Key is null ? BucketAction(r, method) : ObjectAction(r, method);
    }

    private static string? BucketAction(S3Request r, string method)
    {
        if (r.Has("policy")) return method switch { "PUT" => "s3:PutBucketPolicy", "GET" => "s3:GetBucketPolicy", "DELETE" => "s3:DeleteBucketPolicy", _ => null };
        if (r.Has("policyStatus")) return method == "GET" ? "s3:GetBucketPolicyStatus" : null;
        if (r.Has("publicAccessBlock")) return method switch { "PUT" or "DELETE" => "s3:PutBucketPublicAccessBlock", "GET" => "s3:GetBucketPublicAccessBlock", _ => null };
        return method switch
        {
            "PUT" or "DELETE" when r.Has("cors") => "s3:PutBucketCORS",
            "GET" when r.Has("cors") => "s3:GetBucketCORS",
            "PUT" or "DELETE" when r.Has("lifecycle") => "s3:PutLifecycleConfiguration",
            "GET" when r.Has("lifecycle") => "s3:GetLifecycleConfiguration",
            "PUT" when r.Has("acl") => "s3:PutBucketAcl",
            "GET" when r.Has("acl") => "s3:GetBucketAcl",
            "PUT" when r.Has("versioning") => "s3:PutBucketVersioning",
            "GET" when r.Has("versioning") => "s3:GetBucketVersioning",
            "GET" when r.Has("versions") => "s3:ListBucketVersions",
            "GET" when r.Has("tagging") => "s3:GetBucketTagging",
            "PUT" or "DELETE" when r.Has("tagging") => "s3:PutBucketTagging",
            "PUT" => "s3:CreateBucket",
            "HEAD" => "s3:ListBucket",
            "DELETE" => "s3:DeleteBucket",
            "GET" when r.Has("location") => "s3:GetBucketLocation",
            "GET" when r.Has("uploads") => "s3:ListBucketMultipartUploads",
            "GET" => "s3:ListBucket",
            "POST" when r.Has("delete") => "s3:DeleteObject",
            _ => null,
        };
    }

    private static string? ObjectAction(S3Request r, string method)
    {
        // Bucket configuration named on a key is refused by the handlers; nothing to grant.
        if (r.Has("policy") || r.Has("policyStatus") || r.Has("publicAccessBlock") || r.Has("lifecycle")) return null;
        var version = r.Has("versionId");
        return method switch
        {
            "PUT" when r.Has("acl") => version ? "s3:PutObjectVersionAcl" : "s3:PutObjectAcl",
            "GET" when r.Has("acl") => version ? "s3:GetObjectVersionAcl" : "s3:GetObjectAcl",
            "GET" when r.Has("tagging") => version ? "s3:GetObjectVersionTagging" : "s3:GetObjectTagging",
            "PUT" when r.Has("tagging") => version ? "s3:PutObjectVersionTagging" : "s3:PutObjectTagging",
            "DELETE" when r.Has("tagging") => version ? "s3:DeleteObjectVersionTagging" : "s3:DeleteObjectTagging",
            "PUT" => "s3:PutObject",
            "GET" when r.Has("uploadId") => "s3:ListMultipartUploadParts",
            "GET" or "HEAD" => version ? "s3:GetObjectVersion" : "s3:GetObject",
            "DELETE" when r.Has("uploadId") => "s3:AbortMultipartUpload",
            "DELETE" => version ? "s3:DeleteObjectVersion" : "s3:DeleteObject",
            "POST" when r.Has("uploads") || r.Has("uploadId") => "s3:PutObject",
            _ => null,
        };
    }
}

/// <summary>The condition keys of one request, as a policy's Condition block reads them.</summary>
/// <param name="request">The request.</param>
/// <param name="caller">Who signed it (not the bucket owner it may be answered as).</param>
/// <param name="resellerPrefix">The accounts' prefix, left out of aws:PrincipalAccount.</param>
public sealed class PolicyContext(S3Request request, S3Principal caller, string resellerPrefix)
{
    /// <summary>Who signed the request.</summary>
    public S3Principal Caller => caller;

    /// <summary>The object's tags (s3:ExistingObjectTag/...), when looked up; null when the object has none to show.</summary>
    public Dictionary<string, string>? ExistingTags { get; set; }

    /// <summary>The tags the request sets (s3:RequestObjectTag/...), when it sets some.</summary>
    public List<(string Key, string Value)>? RequestTags { get; set; }

    /// <summary>The values of a key, or null when the request does not have it (key names are case-insensitive, tag keys not).</summary>
    public string[]? Values(string key)
    {
        var http = request.Context;
        switch (key.ToLowerInvariant())
        {
            case "aws:sourceip":
                return http.Connection.RemoteIpAddress is { } ip ? [(ip.IsIPv4MappedToIPv6 ? ip.MapToIPv4() : ip).ToString()] : null;
            case "aws:referer":
                return Header("Referer");
            case "aws:useragent":
                return Header("User-Agent");
            case "aws:securetransport":
                return [http.Request.IsHttps ? "true" : "false"];
            case "aws:currenttime":
                return [DateTimeOffset.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)];
            case "aws:epochtime":
                return [DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)];
            case "aws:principaltype":
                return [caller.Anonymous ? "Anonymous" : "User"];
            case "aws:username":
                return caller.Identity?.User is { } user ? [user[(user.IndexOf(':') + 1)..]] : null;
            case "aws:userid":
                return caller.Identity?.User is { } id ? [id] : null;
            case "aws:principalaccount":
                return caller.Anonymous ? null
                    : [caller.Account.StartsWith(resellerPrefix, StringComparison.Ordinal) ? caller.Account[resellerPrefix.Length..] : caller.Account];
            case "s3:prefix":
                return Query("prefix");
            case "s3:delimiter":
                return Query("delimiter");
            case "s3:max-keys":
                return Query("max-keys");
            case "s3:versionid":
                return Query("versionId");
            case "s3:signatureversion":
                return caller.Anonymous ? null : [request.Signed.Scope.Length > 0 ? "AWS4-HMAC-SHA256" : "AWS"];
            case "s3:authtype":
                return caller.Anonymous ? null : [request.Signed.Presigned ? "REST-QUERY-STRING" : "REST-HEADER"];
            case "s3:requestobjecttagkeys":
                return RequestTags?.Select(t => t.Key).ToArray();
            case "s3:x-amz-copy-source":
                // As S3 compares it: "bucket/key", decoded, whichever form the client sent.
                return Header("x-amz-copy-source") is [var source] ? [Uri.UnescapeDataString(source).TrimStart('/')] : null;
        }
        if (key.StartsWith("s3:x-amz-", StringComparison.OrdinalIgnoreCase)) return Header(key["s3:".Length..]);
        if (key.StartsWith("s3:ExistingObjectTag/", StringComparison.OrdinalIgnoreCase))
            return ExistingTags is not null && ExistingTags.TryGetValue(key["s3:ExistingObjectTag/".Length..], out var existing) ? [existing] : null;
        if (key.StartsWith("s3:RequestObjectTag/", StringComparison.OrdinalIgnoreCase))
        {
            var name = key["s3:RequestObjectTag/".Length..];
            return RequestTags?.Where(t => t.Key == name).Select(t => t.Value).ToArray() is { Length: > 0 } values ? values : null;
        }
        return null;
    }

    private string[]? Header(string name) => request.Context.Request.Headers[name].ToString() is { Length: > 0 } value ? [value] : null;

    private string[]? Query(string name) => request.Query(name) is { } value ? [value] : null;
}

/// <summary>What a policy's conditions read beyond the request line: small XML bodies, and tags.</summary>
internal static class PolicyInputs
{
    /// <summary>A small body read whole (at most <paramref name="limit"/> bytes, else MalformedXML) and put back for the handler, which reads it again.</summary>
    public static async Task<byte[]> BufferAsync(HttpContext context, int limit)
    {
        if (context.Request.Body is MemoryStream { CanWrite: false } held) return held.ToArray();
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int n;
        while ((n = await context.Request.Body.ReadAsync(chunk, context.RequestAborted)) > 0)
        {
            if (buffer.Length + n > limit) throw S3Error.MalformedXml();
            buffer.Write(chunk, 0, n);
        }
        var bytes = buffer.ToArray();
        context.Request.Body = new MemoryStream(bytes, writable: false);
        return bytes;
    }

    /// <summary>The body as XML, read as S3Xml reads it (whitespace kept: a key may be spaces), or null when it is not XML.</summary>
    public static XmlDocument? Xml(byte[] body)
    {
        try
        {
            var doc = new XmlDocument { XmlResolver = null, PreserveWhitespace = true };
            using var reader = XmlReader.Create(new MemoryStream(body), new XmlReaderSettings { DtdProcessing = DtdProcessing.Prohibit, XmlResolver = null });
            doc.Load(reader);
            return doc;
        }
        catch (XmlException)
        {
            return null;
        }
    }

    /// <summary>An object's tags from its HEAD (empty when it has none), or null when there is no such object.</summary>
    public static Dictionary<string, string>? Tags(SwiftAnswer head)
    {
        if (!head.IsSuccess) return null;
        var tags = new Dictionary<string, string>(StringComparer.Ordinal);
        if (head.Header(TaggingHandlers.ObjectSysmeta) is not { Length: > 0 } stored) return tags;
        try
        {
            foreach (var (key, value) in TaggingHandlers.ParseHeader(stored, int.MaxValue)) tags[key] = value;
        }
        catch (S3Error)
        {
            return null;
        }
        return tags;
    }

    /// <summary>The tags of a Tagging document, or null when the body is not one (the handler then refuses it).</summary>
    public static List<(string Key, string Value)>? TagSet(XmlDocument? doc)
    {
        if (doc?.DocumentElement is not { LocalName: "Tagging" } root) return null;
        var tags = new List<(string Key, string Value)>();
        foreach (var set in S3Xml.Children(root, "TagSet"))
            foreach (var tag in S3Xml.Children(set, "Tag"))
                tags.Add((S3Xml.ChildText(tag, "Key") ?? "", S3Xml.ChildText(tag, "Value") ?? ""));
        return tags;
    }
}
