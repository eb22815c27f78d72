using System.Globalization;
using System.Text.Json;
using StorageCloud.Proxy.Middleware.Versioning;

namespace StorageCloud.Proxy.S3;

/// <summary>
/// Bucket versioning mapped onto Swift's object versioning (X-Versions-Enabled): Put/GetBucketVersioning and
/// ListObjectVersions; versionId on GET, HEAD and DELETE becomes Swift's version-id, delete markers are Swift's.
/// </summary>
public static class VersioningHandlers
{
    /// <summary>PUT /bucket?versioning: Enabled or Suspended.</summary>
    public static async Task PutAsync(S3Request r)
    {
        var doc = await S3Xml.ReadAsync(r.Context, 64 * 1024);
        if (doc.DocumentElement?.LocalName != "VersioningConfiguration") throw S3Error.MalformedXml();
        var enabled = S3Xml.ChildText(doc.DocumentElement, "Status") switch
        {
            "Enabled" => "true",
            "Suspended" => "false",
            _ => throw S3Error.MalformedXml(),
        };
        if (enabled == "false") await ObjectLockHandlers.CheckSuspendAsync(r);
        var answer = await r.SwiftAsync("POST", r.SwiftPath(r.Bucket!), S3Request.Headers(("X-Versions-Enabled", enabled)));
        if (!answer.IsSuccess) throw S3Error.FromSwift(answer.Status, r.Bucket, null);
        r.Context.Response.StatusCode = 200;
        r.Context.Response.ContentLength = 0;
    }

    /// <summary>GET /bucket?versioning: Enabled, Suspended, or no status when it was never turned on.</summary>
    public static async Task GetAsync(S3Request r)
    {
        var answer = await r.SwiftAsync("HEAD", r.SwiftPath(r.Bucket!));
        if (!answer.IsSuccess) throw S3Error.FromSwift(answer.Status, r.Bucket, null);
        var xml = new S3Xml("VersioningConfiguration");
        var state = answer.Header("X-Versions-Enabled");
        if (state is not null) xml.Element("Status", string.Equals(state, "true", StringComparison.OrdinalIgnoreCase) ? "Enabled" : "Suspended");
        await xml.WriteAsync(r.Context);
    }

    /// <summary>GET /bucket?versions: every version and delete marker, newest first within a key.</summary>
    public static async Task ListAsync(S3Request r)
    {
        var maxKeys = 1000;
        if (r.Query("max-keys") is { } mk && (!int.TryParse(mk, NumberStyles.None, CultureInfo.InvariantCulture, out maxKeys)))
            throw S3Error.InvalidArgument("Provided max-keys not an integer or within integer range", "max-keys", mk);
        maxKeys = Math.Min(maxKeys, 1000);
        var prefix = r.Query("prefix") ?? "";
        var keyMarker = r.Query("key-marker") ?? "";
        var versionMarker = r.Query("version-id-marker") ?? "";
        var query = $"versions&format=json&limit={maxKeys + 1}&prefix={Uri.EscapeDataString(prefix)}&marker={Uri.EscapeDataString(keyMarker)}";
        if (versionMarker.Length > 0) query += "&version_marker=" + Uri.EscapeDataString(versionMarker);
        var answer = await r.SwiftAsync("GET", r.SwiftPath(r.Bucket!, query: query));
        if (!answer.IsSuccess) throw S3Error.FromSwift(answer.Status, r.Bucket, null);
        using var listing = JsonDocument.Parse(answer.Body.Length == 0 ? "[]"u8.ToArray() : answer.Body);
        var rows = listing.RootElement.EnumerateArray().ToList();
        var truncated = rows.Count > maxKeys;
        if (truncated) rows.RemoveRange(maxKeys, rows.Count - maxKeys);
        var xml = new S3Xml("ListVersionsResult").Element("Name", r.Bucket).Element("Prefix", prefix).Element("KeyMarker", keyMarker)
            .Element("VersionIdMarker", versionMarker).Element("MaxKeys", maxKeys).Element("IsTruncated", truncated);
        if (truncated && rows.Count > 0)
            xml.Element("NextKeyMarker", rows[^1].GetProperty("name").GetString()).Element("NextVersionIdMarker", rows[^1].GetProperty("version_id").GetString());
        foreach (var row in rows)
        {
            var marker = row.GetProperty("content_type").GetString() == ObjectVersioningMiddleware.DeleteMarker;
            xml.Open(marker ? "DeleteMarker" : "Version").Element("Key", row.GetProperty("name").GetString())
                .Element("VersionId", row.GetProperty("version_id").GetString()).Element("IsLatest", row.GetProperty("is_latest").GetBoolean())
                .Element("LastModified", S3Xml.Time(S3Xml.ParseSwiftTime(row.GetProperty("last_modified").GetString())));
            if (!marker) xml.Element("ETag", $"\"{ObjectHandlers.ListingETag(row.GetProperty("hash").GetString())}\"").Element("Size", row.GetProperty("bytes").GetInt64());
            xml.Open("Owner").Element("ID", r.OwnerId).Element("DisplayName", r.OwnerId).Close("Owner");
            if (!marker) xml.Element("StorageClass", "STANDARD");
            xml.Close(marker ? "DeleteMarker" : "Version");
        }
        await xml.WriteAsync(r.Context);
    }

    /// <summary>Swift's version-id query for an S3 versionId, or "" when the request names none.</summary>
    public static string VersionQuery(S3Request r) => r.Query("versionId") is { } id ? "version-id=" + Uri.EscapeDataString(id) : "";
}
