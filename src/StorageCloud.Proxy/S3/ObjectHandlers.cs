using System.Globalization;
using System.Xml;
using Microsoft.AspNetCore.Http;

namespace StorageCloud.Proxy.S3;

/// <summary>The object operations: Put, Get, Head, Delete, Copy, and DeleteObjects (multi-delete).</summary>
public static class ObjectHandlers
{
    /// <summary>Object sysmeta holding the S3 ETag of a multipart object ("&lt;md5 of part md5s&gt;-N").</summary>
    public const string EtagSysmeta = "X-Object-Sysmeta-S3-Etag";

    private static readonly string[] PassedHeaders = ["Cache-Control", "Content-Disposition", "Content-Encoding", "Content-Language", "Expires"];
    private static readonly (string Query, string Header)[] ResponseOverrides =
    [
        ("response-content-type", "Content-Type"), ("response-content-language", "Content-Language"), ("response-expires", "Expires"),
        ("response-cache-control", "Cache-Control"), ("response-content-disposition", "Content-Disposition"), ("response-content-encoding", "Content-Encoding"),
    ];

    /// <summary>
    /// Sets (or, with a null value, clears) one transient-sysmeta item of an object, by a Swift POST that carries the
    /// object's user metadata and standard headers along (a Swift POST replaces them all).
    /// </summary>
    public static async Task SetTransientSysmetaAsync(S3Request r, string name, string? value)
    {
        var head = await r.SwiftAsync("HEAD", r.SwiftPath(r.Bucket!, r.Key));
        if (!head.IsSuccess) throw S3Error.FromSwift(head.Status, r.Bucket, r.Key);
        var headers = new List<KeyValuePair<string, string>>();
        foreach (var (header, values) in head.Headers)
        {
            if (header.Equals(name, StringComparison.OrdinalIgnoreCase)) continue;
            if (header.StartsWith("X-Object-Meta-", StringComparison.OrdinalIgnoreCase) || header.StartsWith("X-Object-Transient-Sysmeta-", StringComparison.OrdinalIgnoreCase)
                || Array.IndexOf(PassedHeaders, header) >= 0)
                headers.Add(new(header, values.ToString()));
        }
        if (value is not null) headers.Add(new(name, value));
        var answer = await r.SwiftAsync("POST", r.SwiftPath(r.Bucket!, r.Key), headers);
        if (!answer.IsSuccess) throw S3Error.FromSwift(answer.Status, r.Bucket, r.Key);
    }

    /// <summary>The ETag a Swift listing shows for an object, without parameters.</summary>
    public static string ListingETag(string? hash)
    {
        hash ??= "";
        var semicolon = hash.IndexOf(';');
        return semicolon < 0 ? hash : hash[..semicolon].Trim();
    }

    /// <summary>The Swift headers that carry an S3 request's metadata and standard headers.</summary>
    public static List<KeyValuePair<string, string>> MetadataHeaders(HttpRequest request)
    {
        var headers = new List<KeyValuePair<string, string>>();
        foreach (var (name, value) in request.Headers)
        {
            if (name.StartsWith("x-amz-meta-", StringComparison.OrdinalIgnoreCase)) headers.Add(new("X-Object-Meta-" + name["x-amz-meta-".Length..], value.ToString()));
        }
        foreach (var name in PassedHeaders)
        {
            var value = request.Headers[name].ToString();
            if (name == "Content-Encoding")
            {
                // aws-chunked describes the upload, not the object.
                value = string.Join(", ", value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Where(v => v != "aws-chunked"));
            }
            if (value.Length > 0) headers.Add(new(name, value));
        }
        if (request.ContentType is { Length: > 0 } type) headers.Add(new("Content-Type", type));
        if (AclEnforcer.ObjectAclOf(request.HttpContext) is { } acl) headers.Add(new(AclHandlers.ObjectSysmeta, acl));
        else if (request.Headers["x-amz-acl"].ToString() == "public-read") headers.Add(new(AclHandlers.ObjectSysmeta, "public-read"));
        if (request.Headers["x-amz-tagging"].ToString() is { Length: > 0 } tagging)
            headers.Add(new(TaggingHandlers.ObjectSysmeta, TaggingHandlers.Encode(TaggingHandlers.ParseHeader(tagging))));
        return headers;
    }

    /// <summary>PUT /bucket/key (also the body of an UploadPart, to another path).</summary>
    public static async Task PutAsync(S3Request r, string swiftPath, List<KeyValuePair<string, string>> headers)
    {
        if (!r.Has("uploadId")) await CheckConditionalWriteAsync(r, swiftPath, headers);
        // Object lock: the x-amz-object-lock-* headers, or the bucket's default retention.
        if (!r.Has("uploadId")) headers.AddRange(await ObjectLock.PutHeadersAsync(r));
        var (body, length, failure) = Payload.Open(r);
        if (r.Context.Request.Headers.TryGetValue("Content-MD5", out var md5Header))
        {
            var md5 = md5Header.ToString();
            byte[] digest;
            try
            {
                digest = Convert.FromBase64String(md5);
            }
            catch (FormatException)
            {
                throw new S3Error("InvalidDigest", 400, "The Content-MD5 you specified was invalid.");
            }
            if (digest.Length != 16) throw new S3Error("InvalidDigest", 400, "The Content-MD5 you specified was invalid.");
            headers.Add(new("ETag", Convert.ToHexStringLower(digest)));
        }
        SwiftAnswer answer;
        try
        {
            answer = await r.SwiftAsync("PUT", swiftPath, headers, body, length);
        }
        catch (PayloadException e)
        {
            throw e.Error;
        }
        if (failure() is { } error) throw error;
        if (!answer.IsSuccess) throw S3Error.FromSwift(answer.Status, r.Bucket, answer.Status == 404 ? null : r.Key);
        r.Context.Response.StatusCode = 200;
        r.Context.Response.Headers.ETag = answer.Header("ETag") is { } etag ? $"\"{etag.Trim('"')}\"" : null;
        if (answer.Header("X-Object-Version-Id") is { } version) r.Context.Response.Headers["x-amz-version-id"] = version;
        r.Context.Response.ContentLength = 0;
    }

    /// <summary>
    /// S3's conditional writes: If-None-Match: * goes to the object server, which refuses the PUT if the object exists
    /// when it commits; If-Match is checked against the current object first (412 PreconditionFailed, or when absent).
    /// </summary>
    private static async Task CheckConditionalWriteAsync(S3Request r, string swiftPath, List<KeyValuePair<string, string>> headers)
    {
        var request = r.Context.Request;
        var noneMatch = Value(request, "If-None-Match")?.Trim().Trim('"');
        var match = Value(request, "If-Match")?.Trim().Trim('"');
        if (noneMatch == "*") headers.Add(new("If-None-Match", "*"));
        if (match is null && noneMatch is null or "*") return;
        var current = await r.SwiftAsync("HEAD", swiftPath);
        var etag = current.IsSuccess ? current.Header("ETag")?.Trim('"') : null;
        if (match is not null && (etag is null || match != "*" && !string.Equals(match, etag, StringComparison.Ordinal)))
            throw new S3Error("PreconditionFailed", 412, "At least one of the pre-conditions you specified did not hold") { Extra = [("Condition", "If-Match")] };
        if (noneMatch is not (null or "*") && string.Equals(noneMatch, etag, StringComparison.Ordinal))
            throw new S3Error("PreconditionFailed", 412, "At least one of the pre-conditions you specified did not hold") { Extra = [("Condition", "If-None-Match")] };
    }

    /// <summary>GET or HEAD /bucket/key: the body streams from the object layer to the client.</summary>
    public static async Task GetAsync(S3Request r)
    {
        var request = r.Context.Request;
        var partRange = r.Has("partNumber") ? await PartRangeAsync(r) : null;
        var headers = S3Request.Headers(("Range", partRange ?? (request.Headers.Range.ToString() is { Length: > 0 } range ? range : null)),
            ("If-Match", Value(request, "If-Match")), ("If-None-Match", Value(request, "If-None-Match")),
            ("If-Modified-Since", Value(request, "If-Modified-Since")), ("If-Unmodified-Since", Value(request, "If-Unmodified-Since")));
        var path = r.SwiftPath(r.Bucket!, r.Key, VersioningHandlers.VersionQuery(r));
        var preAuthorized = false;
        while (true)
        {
            SwiftAnswer answer;
            bool passed;
            if (HttpMethods.IsHead(request.Method))
            {
                answer = await r.SwiftAsync("HEAD", path, headers, preAuthorized: preAuthorized);
                passed = Start(r, answer);
                // A HEAD answers with the whole object's length; a part's HEAD describes just the part.
                if (passed && partRange is not null && long.TryParse(answer.Header("Content-Length"), out var total))
                {
                    var bounds = partRange["bytes=".Length..].Split('-');
                    var (first, last) = (long.Parse(bounds[0], CultureInfo.InvariantCulture), long.Parse(bounds[1], CultureInfo.InvariantCulture));
                    r.Context.Response.StatusCode = 206;
                    r.Context.Response.ContentLength = last - first + 1;
                    r.Context.Response.Headers.ContentRange = $"bytes {first}-{last}/{total}";
                }
            }
            else (answer, passed) = await r.SwiftStreamAsync("GET", path, headers, a => Start(r, a), preAuthorized: preAuthorized);
            if (passed) return;
            // Nobody may read an object its container does not open only when the object itself is public-read.
            if (r.Principal.Anonymous && !preAuthorized && answer.Status == 401 && await AclHandlers.ObjectIsPublicAsync(r))
            {
                preAuthorized = true;
                continue;
            }
            await FailAsync(r, answer);
            return;
        }
    }

    /// <summary>
    /// ?partNumber=N: the byte range of that part of a multipart object (with x-amz-mp-parts-count), or null for part 1
    /// of an ordinary object, which is all of it.
    /// </summary>
    private static async Task<string?> PartRangeAsync(S3Request r)
    {
        var text = r.Query("partNumber") ?? "";
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var number) || number is < 1 or > MultipartHandlers.MaxPartNumber)
            throw S3Error.InvalidArgument("Part number must be an integer between 1 and 10000, inclusive", "partNumber", text);
        var invalid = new S3Error("InvalidPartNumber", 416, "The requested partnumber is not satisfiable");
        var head = await r.SwiftAsync("HEAD", r.SwiftPath(r.Bucket!, r.Key, VersioningHandlers.VersionQuery(r)));
        if (!head.IsSuccess) return null;
        if (!string.Equals(head.Header("X-Static-Large-Object"), "true", StringComparison.OrdinalIgnoreCase))
            return number == 1 ? null : throw invalid;
        var query = VersioningHandlers.VersionQuery(r);
        var manifest = await r.SwiftAsync("GET", r.SwiftPath(r.Bucket!, r.Key, (query.Length > 0 ? query + "&" : "") + "multipart-manifest=get"));
        if (!manifest.IsSuccess) throw S3Error.FromSwift(manifest.Status, r.Bucket, r.Key);
        using var parts = System.Text.Json.JsonDocument.Parse(manifest.Body);
        var sizes = parts.RootElement.EnumerateArray().Select(p => p.GetProperty("bytes").GetInt64()).ToList();
        if (number > sizes.Count) throw invalid;
        var offset = sizes.Take(number - 1).Sum();
        r.Context.Response.Headers["x-amz-mp-parts-count"] = sizes.Count.ToString(CultureInfo.InvariantCulture);
        return $"bytes={offset}-{offset + sizes[number - 1] - 1}";
    }

    private static string? Value(HttpRequest request, string name) => request.Headers[name].ToString() is { Length: > 0 } v ? v : null;

    /// <summary>Sets the client's status and headers from a successful Swift answer; false for anything else.</summary>
    private static bool Start(S3Request r, SwiftAnswer answer)
    {
        if (answer.Status is not (200 or 206)) return false;
        var response = r.Context.Response;
        response.StatusCode = answer.Status;
        foreach (var (name, value) in answer.Headers)
        {
            if (name.StartsWith("X-Object-Meta-", StringComparison.OrdinalIgnoreCase))
                response.Headers["x-amz-meta-" + name["X-Object-Meta-".Length..].ToLowerInvariant()] = value;
            else if (name is "Content-Type" or "Content-Length" or "Content-Range" or "Last-Modified" or "Accept-Ranges"
                     || Array.IndexOf(PassedHeaders, name) >= 0)
                response.Headers[name] = value;
        }
        var etag = answer.Header(EtagSysmeta) ?? answer.Header("ETag")?.Trim('"');
        if (etag is not null) response.Headers.ETag = $"\"{etag}\"";
        if (answer.Header("X-Object-Version-Id") is { } version) response.Headers["x-amz-version-id"] = version;
        ObjectLock.AddResponseHeaders(answer, response);
        if (answer.Header(TaggingHandlers.ObjectSysmeta) is { Length: > 0 } tags) response.Headers["x-amz-tagging-count"] = (tags.Count(c => c == '&') + 1).ToString(CultureInfo.InvariantCulture);
        foreach (var (query, header) in ResponseOverrides)
            if (r.Query(query) is { } v) response.Headers[header] = v;
        return true;
    }

    private static async Task FailAsync(S3Request r, SwiftAnswer answer)
    {
        if (answer.Status == 304)
        {
            r.Context.Response.StatusCode = 304;
            if (answer.Header("ETag") is { } etag) r.Context.Response.Headers.ETag = $"\"{(answer.Header(EtagSysmeta) ?? etag).Trim('"')}\"";
            return;
        }
        if (answer.Status == 404 && !r.Principal.Anonymous && !await BucketExistsAsync(r)) throw S3Error.NoSuchBucket(r.Bucket!);
        throw S3Error.FromSwift(answer.Status, r.Bucket, r.Key);
    }

    /// <summary>True when the request's bucket exists (to tell NoSuchBucket from NoSuchKey).</summary>
    public static async Task<bool> BucketExistsAsync(S3Request r) => (await r.SwiftAsync("HEAD", r.SwiftPath(r.Bucket!))).Status != 404;

    /// <summary>DELETE /bucket/key: 204 whether or not it existed; a multipart object takes its parts with it.</summary>
    public static async Task DeleteAsync(S3Request r)
    {
        var (status, version, marker) = await DeleteObjectAsync(r, r.Key!, r.Query("versionId"));
        if (status == 404 && !await BucketExistsAsync(r)) throw S3Error.NoSuchBucket(r.Bucket!);
        if (status is not (>= 200 and < 300 or 404)) throw S3Error.FromSwift(status, r.Bucket, r.Key);
        if (version is not null) r.Context.Response.Headers["x-amz-version-id"] = version;
        if (marker) r.Context.Response.Headers["x-amz-delete-marker"] = "true";
        r.Context.Response.StatusCode = 204;
    }

    /// <summary>
    /// Deletes a key (or one version of it). An unversioned multipart object takes its parts with it; in a versioned
    /// bucket the parts stay, since older versions may still use them.
    /// </summary>
    private static async Task<(int Status, string? Version, bool Marker)> DeleteObjectAsync(S3Request r, string key, string? versionId)
    {
        var versionQuery = versionId is null ? "" : "version-id=" + Uri.EscapeDataString(versionId);
        var head = await r.SwiftAsync("HEAD", r.SwiftPath(r.Bucket!, key, versionQuery));
        // Object lock: a version under retention or legal hold stays (403 AccessDenied); a plain DELETE adds a marker.
        if (versionId is not null && ObjectLock.Blocks(r, head)) return (403, null, false);
        var slo = head.IsSuccess && string.Equals(head.Header("X-Static-Large-Object"), "true", StringComparison.OrdinalIgnoreCase);
        if (slo && versionId is null)
        {
            var container = await r.SwiftAsync("HEAD", r.SwiftPath(r.Bucket!));
            slo = !string.Equals(container.Header("X-Versions-Enabled"), "true", StringComparison.OrdinalIgnoreCase);
        }
        var query = slo ? versionQuery.Length == 0 ? "multipart-manifest=delete" : versionQuery + "&multipart-manifest=delete" : versionQuery;
        // S3's model: deleting the current version by id makes the previous one current (Swift's leaves a 404).
        var answer = await r.SwiftAsync("DELETE", r.SwiftPath(r.Bucket!, key, query),
            versionId is null ? null : [new(Middleware.Versioning.ObjectVersioningMiddleware.RestorePreviousHeader, "true")]);
        var version = answer.Header("X-Object-Version-Id");
        return (answer.Status, version, versionId is null && version is not null);
    }

    /// <summary>POST /bucket?delete: up to 1000 keys, each reported as deleted or with its error (quiet mode reports errors only).</summary>
    public static async Task DeleteObjectsAsync(S3Request r)
    {
        var doc = await S3Xml.ReadAsync(r.Context);
        var root = doc.DocumentElement;
        if (root?.LocalName != "Delete") throw S3Error.MalformedXml();
        var quiet = string.Equals(S3Xml.ChildText(root, "Quiet"), "true", StringComparison.OrdinalIgnoreCase);
        var keys = new List<(string Key, string? Version)>();
        foreach (var o in S3Xml.Children(root, "Object"))
            keys.Add((S3Xml.ChildText(o, "Key") ?? throw S3Error.MalformedXml(), S3Xml.ChildText(o, "VersionId")));
        if (keys.Count is 0 or > 1000) throw S3Error.MalformedXml();
        if (!await BucketExistsAsync(r)) throw S3Error.NoSuchBucket(r.Bucket!);
        var xml = new S3Xml("DeleteResult");
        foreach (var (key, versionId) in keys)
        {
            if (key.Length == 0)
            {
                // An empty key would name the bucket itself to the Swift API.
                xml.Open("Error").Element("Key", key).Element("Code", "UserKeyMustBeSpecified").Element("Message", "The request specified a bucket, but no object key.").Close("Error");
                continue;
            }
            var (status, version, marker) = await DeleteObjectAsync(r, key, versionId);
            if (status is >= 200 and < 300 or 404)
            {
                if (quiet) continue;
                xml.Open("Deleted").Element("Key", key);
                if (versionId is not null) xml.Element("VersionId", versionId);
                if (marker) xml.Element("DeleteMarker", true).Element("DeleteMarkerVersionId", version);
                xml.Close("Deleted");
                continue;
            }
            var error = S3Error.FromSwift(status, r.Bucket, key);
            xml.Open("Error").Element("Key", key);
            if (versionId is not null) xml.Element("VersionId", versionId);
            xml.Element("Code", error.Code).Element("Message", error.Message).Close("Error");
        }
        await xml.WriteAsync(r.Context);
    }

    /// <summary>PUT /bucket/key with x-amz-copy-source: a server-side copy, metadata copied or replaced.</summary>
    public static async Task CopyAsync(S3Request r, string destination, List<KeyValuePair<string, string>>? extra = null, bool partCopy = false)
    {
        var (sourceBucket, sourceKey) = ParseCopySource(r.Context.Request.Headers["x-amz-copy-source"].ToString());
        var version = CopySourceVersionQuery(r.Context.Request.Headers["x-amz-copy-source"].ToString());
        var request = r.Context.Request;
        var conditions = S3Request.Headers(("If-Match", Value(request, "x-amz-copy-source-if-match")), ("If-None-Match", Value(request, "x-amz-copy-source-if-none-match")),
            ("If-Modified-Since", Value(request, "x-amz-copy-source-if-modified-since")), ("If-Unmodified-Since", Value(request, "x-amz-copy-source-if-unmodified-since")));
        var source = await r.SwiftAsync("HEAD", r.SwiftPath(sourceBucket, sourceKey, version), conditions);
        if (source.Status is 304 or 412) throw S3Error.FromSwift(412, null, null);
        if (!source.IsSuccess) throw source.Status == 404 ? S3Error.NoSuchKey(sourceKey) : S3Error.FromSwift(source.Status, sourceBucket, sourceKey);
        var replace = request.Headers["x-amz-metadata-directive"].ToString() switch
        {
            "" or "COPY" => false,
            "REPLACE" => true,
            var other => throw S3Error.InvalidArgument("Unknown metadata directive.", "x-amz-metadata-directive", other),
        };
        if (!partCopy && !replace && sourceBucket == r.Bucket && sourceKey == r.Key)
            throw new S3Error("InvalidRequest", 400,
                "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.");
        var headers = replace && !partCopy ? MetadataHeaders(request) : [];
        // S3 does not copy an ACL: the one the request sets (or its writer's, in another account's bucket) replaces the source's.
        if (!replace && !partCopy && AclEnforcer.ObjectAclOf(r.Context) is { } acl) headers.Add(new(AclHandlers.ObjectSysmeta, acl));
        headers.Add(new("X-Copy-From", $"/{Uri.EscapeDataString(sourceBucket)}/{SwiftPath.QuoteKeepSlash(sourceKey)}"));
        if (replace) headers.Add(new("X-Fresh-Metadata", "true"));
        if (extra is not null) headers.AddRange(extra);
        // As Swift's copy reads its source with the PUT's query, a version of the source is named there.
        if (version.Length > 0) destination += (destination.Contains('?') ? "&" : "?") + version;
        var answer = await r.SwiftAsync("PUT", destination, headers, Stream.Null, 0);
        if (!answer.IsSuccess) throw S3Error.FromSwift(answer.Status, r.Bucket, r.Key);
        var modified = DateTimeOffset.TryParse(answer.Header("Last-Modified"), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at) ? at : DateTimeOffset.UtcNow;
        await new S3Xml(partCopy ? "CopyPartResult" : "CopyObjectResult")
            .Element("LastModified", S3Xml.Time(modified)).Element("ETag", $"\"{answer.Header("ETag")?.Trim('"')}\"").WriteAsync(r.Context);
    }

    /// <summary>The Swift query that reads the version an x-amz-copy-source names with ?versionId= ("" for the latest).</summary>
    public static string CopySourceVersionQuery(string header)
    {
        var q = header.IndexOf('?');
        if (q < 0) return "";
        foreach (var pair in header[(q + 1)..].Split('&'))
            if (pair.StartsWith("versionId=", StringComparison.Ordinal) && pair.Length > "versionId=".Length)
                return "version-id=" + Uri.EscapeDataString(Uri.UnescapeDataString(pair["versionId=".Length..]));
        return "";
    }

    /// <summary>x-amz-copy-source: "/bucket/key" or "bucket/key", URL-encoded, optionally with ?versionId.</summary>
    public static (string Bucket, string Key) ParseCopySource(string header)
    {
        var q = header.IndexOf('?');
        if (q >= 0) header = header[..q];
        var decoded = Uri.UnescapeDataString(header).TrimStart('/');
        var slash = decoded.IndexOf('/');
        if (slash <= 0 || slash == decoded.Length - 1) throw S3Error.InvalidArgument("Copy Source must mention the source bucket and key: sourcebucket/sourcekey", "x-amz-copy-source", header);
        return (decoded[..slash], decoded[(slash + 1)..]);
    }
}
