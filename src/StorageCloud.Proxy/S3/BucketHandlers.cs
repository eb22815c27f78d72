using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;

namespace StorageCloud.Proxy.S3;

/// <summary>The service and bucket operations: ListBuckets, Create/Head/DeleteBucket, GetBucketLocation, ListObjects (v1 and v2).</summary>
public static partial class BucketHandlers
{
    /// <summary>Suffix of the hidden container that holds a bucket's multipart parts (Swift s3api's name).</summary>
    public const string SegmentsSuffix = "+segments";

    private const string LocationSysmeta = "X-Container-Sysmeta-S3-Location";

    /// <summary>True when the name follows S3's (DNS-compatible) bucket naming rules.</summary>
    public static bool IsValidName(string name) =>
        name.Length is >= 3 and <= 63 && BucketName().IsMatch(name) && !name.Contains("..", StringComparison.Ordinal)
        && !name.Contains(".-", StringComparison.Ordinal) && !name.Contains("-.", StringComparison.Ordinal) && !IpAddress().IsMatch(name);

    [GeneratedRegex("^[a-z0-9][a-z0-9.-]*[a-z0-9]$")]
    private static partial Regex BucketName();

    [GeneratedRegex(@"^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$")]
    private static partial Regex IpAddress();

    /// <summary>GET /: the account's containers (segment containers left out).</summary>
    public static async Task ListBucketsAsync(S3Request r)
    {
        var answer = await r.SwiftAsync("GET", $"/v1/{r.Principal.Account}?format=json");
        if (!answer.IsSuccess) throw S3Error.FromSwift(answer.Status, null, null);
        var xml = new S3Xml("ListAllMyBucketsResult").Open("Owner").Element("ID", r.OwnerId).Element("DisplayName", r.OwnerId).Close("Owner").Open("Buckets");
        if (answer.Body.Length > 0)
        {
            using var listing = JsonDocument.Parse(answer.Body);
            foreach (var container in listing.RootElement.EnumerateArray())
            {
                var name = container.GetProperty("name").GetString()!;
                if (name.EndsWith(SegmentsSuffix, StringComparison.Ordinal)) continue;
                var created = S3Xml.ParseSwiftTime(container.TryGetProperty("last_modified", out var lm) ? lm.GetString() : null);
                xml.Open("Bucket").Element("Name", name).Element("CreationDate", S3Xml.Time(created)).Close("Bucket");
            }
        }
        await xml.Close("Buckets").WriteAsync(r.Context);
    }

    /// <summary>PUT /bucket, with an optional CreateBucketConfiguration/LocationConstraint.</summary>
    public static async Task CreateAsync(S3Request r)
    {
        var bucket = r.Bucket!;
        if (!IsValidName(bucket)) throw S3Error.InvalidBucketName(bucket);
        string? location = null;
        if (r.Context.Request.ContentLength is > 0 || r.Context.Request.Headers.TransferEncoding.Count > 0)
        {
            var doc = await S3Xml.ReadAsync(r.Context, 64 * 1024);
            if (doc.DocumentElement?.LocalName != "CreateBucketConfiguration") throw S3Error.MalformedXml();
            location = S3Xml.ChildText(doc.DocumentElement, "LocationConstraint");
        }
        var acl = await AclHandlers.RequestedAsync(r, readBody: false);
        if (!await r.Registry.RegisterAsync(bucket, r.Principal.Account, r.Context.RequestAborted))
            throw new S3Error("BucketAlreadyExists", 409, "The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.") { Extra = [("BucketName", bucket)] };
        var existing = await r.SwiftAsync("HEAD", r.SwiftPath(bucket));
        if (existing.IsSuccess)
        {
            // Re-created by its owner: AWS's us-east-1 (and RGW) answer 200 and change nothing, unless the request asks
            // for another ACL (then the name is "taken"); other regions refuse it.
            if ((acl ?? "private") != AclHandlers.CannedOf(existing.Header("X-Container-Read")))
                throw new S3Error("BucketAlreadyExists", 409, "The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.") { Extra = [("BucketName", bucket)] };
            if (location is not (null or "" or "us-east-1"))
                throw new S3Error("BucketAlreadyOwnedByYou", 409, "Your previous request to create the named bucket succeeded and you already own it.") { Extra = [("BucketName", bucket)] };
            r.Context.Response.Headers.Location = "/" + bucket;
            r.Context.Response.StatusCode = 200;
            r.Context.Response.ContentLength = 0;
            return;
        }
        var createHeaders = S3Request.Headers((LocationSysmeta, location), ("X-Container-Read", acl is null ? null : AclHandlers.ContainerReadAcl(acl)),
            (AclEnforcer.BucketSysmeta, AclHandlers.CreatedSysmeta(r)));
        // Object lock (x-amz-bucket-object-lock-enabled): versioning on and the lock switch recorded.
        createHeaders.AddRange(ObjectLockHandlers.CreateBucketHeaders(r));
        var answer = await r.SwiftAsync("PUT", r.SwiftPath(bucket), createHeaders);
        if (!answer.IsSuccess && answer.Status != 202) await r.Registry.UnregisterAsync(bucket, r.Principal.Account, r.Context.RequestAborted);
        if (answer.Status == 202) throw new S3Error("BucketAlreadyOwnedByYou", 409, "Your previous request to create the named bucket succeeded and you already own it.") { Extra = [("BucketName", bucket)] };
        if (!answer.IsSuccess) throw S3Error.FromSwift(answer.Status, bucket, null);
        r.Context.Response.Headers.Location = "/" + bucket;
        r.Context.Response.StatusCode = 200;
        r.Context.Response.ContentLength = 0;
    }

    /// <summary>HEAD /bucket: 200, or the error status without a body.</summary>
    public static async Task HeadAsync(S3Request r)
    {
        var answer = await r.SwiftAsync("HEAD", r.SwiftPath(r.Bucket!));
        if (!answer.IsSuccess) throw S3Error.FromSwift(answer.Status, r.Bucket, null);
        r.Context.Response.StatusCode = 200;
        r.Context.Response.ContentLength = 0;
    }

    /// <summary>DELETE /bucket: BucketNotEmpty while it holds objects or unfinished uploads; the segments container goes with it.</summary>
    public static async Task DeleteAsync(S3Request r)
    {
        var bucket = r.Bucket!;
        var answer = await r.SwiftAsync("DELETE", r.SwiftPath(bucket));
        if (answer.Status == 409) throw BucketNotEmpty(bucket);
        if (!answer.IsSuccess) throw S3Error.FromSwift(answer.Status, bucket, null);
        // With no object or version left, what the segments container holds belongs to nothing but unfinished
        // multipart uploads, which go with the bucket (as on AWS and RGW).
        await DeleteSegmentsAsync(r, bucket + SegmentsSuffix);
        await r.Registry.UnregisterAsync(bucket, r.Principal.Account, r.Context.RequestAborted);
        r.Context.Response.StatusCode = 204;
    }

    private static async Task DeleteSegmentsAsync(S3Request r, string container)
    {
        while (true)
        {
            var listing = await r.SwiftAsync("GET", r.SwiftPath(container, query: "format=json&limit=1000"));
            if (listing.Status != 200) return;
            using var names = System.Text.Json.JsonDocument.Parse(listing.Body);
            if (names.RootElement.GetArrayLength() == 0) break;
            var deleted = 0;
            foreach (var entry in names.RootElement.EnumerateArray())
                if (entry.TryGetProperty("name", out var name) && name.GetString() is { } segment
                    && (await r.SwiftAsync("DELETE", r.SwiftPath(container, segment))).Status is 204 or 404)
                    deleted++;
            // Nothing could be deleted: leave the rest (the bucket itself is gone) rather than loop.
            if (deleted == 0) return;
        }
        await r.SwiftAsync("DELETE", r.SwiftPath(container));
    }

    private static S3Error BucketNotEmpty(string bucket) =>
        new("BucketNotEmpty", 409, "The bucket you tried to delete is not empty") { Extra = [("BucketName", bucket)] };

    /// <summary>GET /bucket?location.</summary>
    public static async Task LocationAsync(S3Request r)
    {
        var answer = await r.SwiftAsync("HEAD", r.SwiftPath(r.Bucket!));
        if (!answer.IsSuccess) throw S3Error.FromSwift(answer.Status, r.Bucket, null);
        var location = answer.Header(LocationSysmeta);
        var bytes = System.Text.Encoding.UTF8.GetBytes(
            $"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<LocationConstraint xmlns=\"{S3Xml.Namespace}\">{System.Security.SecurityElement.Escape(location ?? "")}</LocationConstraint>");
        r.Context.Response.StatusCode = 200;
        r.Context.Response.ContentType = "application/xml";
        r.Context.Response.ContentLength = bytes.Length;
        await r.Context.Response.Body.WriteAsync(bytes, r.Context.RequestAborted);
    }

    /// <summary>GET /bucket (ListObjects) and GET /bucket?list-type=2 (ListObjectsV2).</summary>
    public static async Task ListObjectsAsync(S3Request r)
    {
        var v2 = r.Query("list-type") == "2";
        if (r.Query("list-type") is { } listType && listType != "2") throw S3Error.InvalidArgument("Invalid List Type specified.", "list-type", listType);
        var maxKeys = 1000;
        if (r.Query("max-keys") is { } mk)
        {
            if (!int.TryParse(mk, NumberStyles.None, CultureInfo.InvariantCulture, out maxKeys)) throw S3Error.InvalidArgument("Provided max-keys not an integer or within integer range", "max-keys", mk);
            maxKeys = Math.Min(maxKeys, 1000);
        }
        var encodeUrl = r.Query("encoding-type") is { } et
            ? et == "url" ? true : throw S3Error.InvalidArgument("Invalid Encoding Method specified in Request", "encoding-type", et)
            : false;
        var prefix = r.Query("prefix") ?? "";
        var delimiter = r.Query("delimiter") ?? "";
        string marker;
        if (v2) marker = r.Query("continuation-token") is { } token ? S3Request.FromToken(token) : r.Query("start-after") ?? "";
        else marker = r.Query("marker") ?? "";

        var entries = new List<(string? Key, string? Prefix, long Size, string ETag, DateTimeOffset Modified)>();
        var truncated = false;
        if (maxKeys > 0)
        {
            var query = $"format=json&limit={maxKeys + 1}&prefix={Uri.EscapeDataString(prefix)}&marker={Uri.EscapeDataString(marker)}";
            if (delimiter.Length > 0) query += "&delimiter=" + Uri.EscapeDataString(delimiter);
            var answer = await r.SwiftAsync("GET", r.SwiftPath(r.Bucket!, query: query));
            if (!answer.IsSuccess) throw S3Error.FromSwift(answer.Status, r.Bucket, null);
            using var listing = JsonDocument.Parse(answer.Body.Length == 0 ? "[]"u8.ToArray() : answer.Body);
            foreach (var item in listing.RootElement.EnumerateArray())
            {
                if (entries.Count == maxKeys)
                {
                    truncated = true;
                    break;
                }
                if (item.TryGetProperty("subdir", out var subdir)) entries.Add((null, subdir.GetString(), 0, "", default));
                else entries.Add((item.GetProperty("name").GetString(), null, item.GetProperty("bytes").GetInt64(),
                    ObjectHandlers.ListingETag(item.GetProperty("hash").GetString()), S3Xml.ParseSwiftTime(item.GetProperty("last_modified").GetString())));
            }
        }
        else
        {
            var head = await r.SwiftAsync("HEAD", r.SwiftPath(r.Bucket!));
            if (!head.IsSuccess) throw S3Error.FromSwift(head.Status, r.Bucket, null);
        }

        string Out(string value) => encodeUrl ? Common.Text.PercentEncoding.QuoteKeepSlash(value) : value;
        var xml = new S3Xml("ListBucketResult").Element("Name", r.Bucket).Element("Prefix", Out(prefix));
        if (v2)
        {
            if (r.Query("start-after") is { } startAfter) xml.Element("StartAfter", Out(startAfter));
            if (r.Query("continuation-token") is { } ct) xml.Element("ContinuationToken", ct);
            xml.Element("KeyCount", entries.Count);
        }
        else xml.Element("Marker", Out(marker));
        if (!v2 && truncated && delimiter.Length > 0) xml.Element("NextMarker", Out(entries[^1].Key ?? entries[^1].Prefix!));
        if (v2 && truncated) xml.Element("NextContinuationToken", S3Request.Token(entries[^1].Key ?? entries[^1].Prefix!));
        xml.Element("MaxKeys", maxKeys);
        if (delimiter.Length > 0) xml.Element("Delimiter", Out(delimiter));
        if (encodeUrl) xml.Element("EncodingType", "url");
        xml.Element("IsTruncated", truncated);
        var owner = !v2 || r.Query("fetch-owner") == "true";
        foreach (var e in entries)
        {
            if (e.Key is null) continue;
            xml.Open("Contents").Element("Key", Out(e.Key)).Element("LastModified", S3Xml.Time(e.Modified)).Element("ETag", $"\"{e.ETag}\"").Element("Size", e.Size);
            if (owner) xml.Open("Owner").Element("ID", r.OwnerId).Element("DisplayName", r.OwnerId).Close("Owner");
            xml.Element("StorageClass", "STANDARD").Close("Contents");
        }
        foreach (var e in entries)
            if (e.Prefix is not null) xml.Open("CommonPrefixes").Element("Prefix", Out(e.Prefix)).Close("CommonPrefixes");
        await xml.WriteAsync(r.Context);
    }
}
