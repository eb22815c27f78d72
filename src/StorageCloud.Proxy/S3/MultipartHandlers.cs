using System.Globalization;
using System.IO.Pipelines;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace StorageCloud.Proxy.S3;

/// <summary>
/// Multipart uploads, stored as Swift's s3api stores them: an upload is a marker object "&lt;key&gt;/&lt;upload id&gt;"
/// (carrying the object's content type and metadata) in the hidden "&lt;bucket&gt;+segments" container, each part is
/// "&lt;key&gt;/&lt;upload id&gt;/&lt;part number&gt;" there, and completion writes a static large object over the parts.
/// </summary>
public static class MultipartHandlers
{
    /// <summary>Smallest part S3 accepts, except for the last.</summary>
    public const long MinPartSize = 5 * 1024 * 1024;

    /// <summary>Highest part number.</summary>
    public const int MaxPartNumber = 10_000;

    private static string Segments(S3Request r) => r.Bucket + BucketHandlers.SegmentsSuffix;

    private static string Marker(S3Request r, string uploadId) => $"{r.Key}/{uploadId}";

    /// <summary>POST /bucket/key?uploads.</summary>
    public static async Task CreateAsync(S3Request r)
    {
        if (!await ObjectHandlers.BucketExistsAsync(r)) throw S3Error.NoSuchBucket(r.Bucket!);
        var container = await r.SwiftAsync("PUT", r.SwiftPath(Segments(r)));
        if (!container.IsSuccess) throw S3Error.FromSwift(container.Status, r.Bucket, null);
        var uploadId = Guid.NewGuid().ToString("N");
        var answer = await r.SwiftAsync("PUT", r.SwiftPath(Segments(r), Marker(r, uploadId)), ObjectHandlers.MetadataHeaders(r.Context.Request), Stream.Null, 0);
        if (!answer.IsSuccess) throw S3Error.FromSwift(answer.Status, r.Bucket, r.Key);
        await new S3Xml("InitiateMultipartUploadResult").Element("Bucket", r.Bucket).Element("Key", r.Key).Element("UploadId", uploadId).WriteAsync(r.Context);
    }

    /// <summary>The upload's marker object (404 → NoSuchUpload).</summary>
    private static async Task<SwiftAnswer> UploadAsync(S3Request r, string uploadId)
    {
        if (uploadId.Length != 32 || !uploadId.All(char.IsAsciiHexDigitLower)) throw S3Error.NoSuchUpload(uploadId);
        var marker = await r.SwiftAsync("HEAD", r.SwiftPath(Segments(r), Marker(r, uploadId)));
        if (marker.Status == 404) throw S3Error.NoSuchUpload(uploadId);
        if (!marker.IsSuccess) throw S3Error.FromSwift(marker.Status, r.Bucket, r.Key);
        return marker;
    }

    private static int PartNumber(S3Request r)
    {
        var text = r.Query("partNumber") ?? "";
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n is < 1 or > MaxPartNumber)
            throw S3Error.InvalidArgument($"Part number must be an integer between 1 and {MaxPartNumber}, inclusive", "partNumber", text);
        return n;
    }

    /// <summary>PUT /bucket/key?partNumber=N&amp;uploadId=ID, from the body or (UploadPartCopy) from another object, optionally a range of it.</summary>
    public static async Task UploadPartAsync(S3Request r)
    {
        var part = PartNumber(r);
        var uploadId = r.Query("uploadId")!;
        await UploadAsync(r, uploadId);
        var path = r.SwiftPath(Segments(r), $"{Marker(r, uploadId)}/{part}");
        if (!r.Context.Request.Headers.ContainsKey("x-amz-copy-source"))
        {
            await ObjectHandlers.PutAsync(r, path, []);
            return;
        }
        if (r.Context.Request.Headers["x-amz-copy-source-range"].ToString() is not { Length: > 0 } range)
        {
            await ObjectHandlers.CopyAsync(r, path, partCopy: true);
            return;
        }
        await CopyRangeAsync(r, path, range);
    }

    /// <summary>UploadPartCopy with x-amz-copy-source-range: the source's range streams from a GET into the part's PUT.</summary>
    private static async Task CopyRangeAsync(S3Request r, string path, string range)
    {
        var (bucket, key) = ObjectHandlers.ParseCopySource(r.Context.Request.Headers["x-amz-copy-source"].ToString());
        var version = ObjectHandlers.CopySourceVersionQuery(r.Context.Request.Headers["x-amz-copy-source"].ToString());
        if (!range.StartsWith("bytes=", StringComparison.Ordinal) || range[6..].Split('-') is not [var a, var b]
            || !long.TryParse(a, NumberStyles.None, CultureInfo.InvariantCulture, out var first)
            || !long.TryParse(b, NumberStyles.None, CultureInfo.InvariantCulture, out var last) || last < first)
            throw S3Error.InvalidArgument("The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy",
                "x-amz-copy-source-range", range);
        var source = await r.SwiftAsync("HEAD", r.SwiftPath(bucket, key, version));
        if (!source.IsSuccess) throw source.Status == 404 ? S3Error.NoSuchKey(key) : S3Error.FromSwift(source.Status, bucket, key);
        if (!long.TryParse(source.Header("Content-Length"), out var size) || last >= size)
            throw new S3Error("InvalidRange", 416, "The requested range is not satisfiable");
        var pipe = new Pipe();
        var reader = Task.Run(async () =>
        {
            try
            {
                var (answer, passed) = await r.SwiftStreamAsync("GET", r.SwiftPath(bucket, key, version), S3Request.Headers(("Range", range)), a => a.Status == 206, pipe.Writer.AsStream());
                if (!passed) throw S3Error.FromSwift(answer.Status, bucket, key);
                await pipe.Writer.CompleteAsync();
            }
            catch (Exception e)
            {
                // The part's PUT sees a broken body and stores nothing.
                await pipe.Writer.CompleteAsync(new IOException("copy source failed", e));
                throw;
            }
        });
        var put = await r.SwiftAsync("PUT", path, [], pipe.Reader.AsStream(), last - first + 1);
        await reader;
        if (!put.IsSuccess) throw S3Error.FromSwift(put.Status, r.Bucket, r.Key);
        var modified = DateTimeOffset.TryParse(put.Header("Last-Modified"), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at) ? at : DateTimeOffset.UtcNow;
        await new S3Xml("CopyPartResult").Element("LastModified", S3Xml.Time(modified)).Element("ETag", $"\"{put.Header("ETag")?.Trim('"')}\"").WriteAsync(r.Context);
    }

    /// <summary>The parts uploaded so far, by number.</summary>
    private static async Task<SortedDictionary<int, (string ETag, long Size, DateTimeOffset Modified)>> PartsAsync(S3Request r, string uploadId)
    {
        var prefix = Marker(r, uploadId) + "/";
        var parts = new SortedDictionary<int, (string, long, DateTimeOffset)>();
        var marker = "";
        while (true)
        {
            var answer = await r.SwiftAsync("GET", r.SwiftPath(Segments(r), query: $"format=json&prefix={Uri.EscapeDataString(prefix)}&marker={Uri.EscapeDataString(marker)}"));
            if (!answer.IsSuccess) throw S3Error.FromSwift(answer.Status, r.Bucket, r.Key);
            using var listing = JsonDocument.Parse(answer.Body.Length == 0 ? "[]"u8.ToArray() : answer.Body);
            var count = 0;
            foreach (var item in listing.RootElement.EnumerateArray())
            {
                count++;
                var name = item.GetProperty("name").GetString()!;
                marker = name;
                if (int.TryParse(name.AsSpan(prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var number))
                    parts[number] = (item.GetProperty("hash").GetString()!, item.GetProperty("bytes").GetInt64(), S3Xml.ParseSwiftTime(item.GetProperty("last_modified").GetString()));
            }
            if (count == 0) return parts;
        }
    }

    /// <summary>GET /bucket/key?uploadId=ID: the parts, paged by part-number-marker and max-parts.</summary>
    public static async Task ListPartsAsync(S3Request r)
    {
        var uploadId = r.Query("uploadId")!;
        await UploadAsync(r, uploadId);
        var maxParts = ParseInt(r, "max-parts", 1000, 0, 1000);
        var after = ParseInt(r, "part-number-marker", 0, 0, MaxPartNumber);
        var parts = (await PartsAsync(r, uploadId)).Where(p => p.Key > after).ToList();
        var page = parts.Take(maxParts).ToList();
        var xml = new S3Xml("ListPartsResult").Element("Bucket", r.Bucket).Element("Key", r.Key).Element("UploadId", uploadId)
            .Open("Initiator").Element("ID", r.OwnerId).Element("DisplayName", r.OwnerId).Close("Initiator")
            .Open("Owner").Element("ID", r.OwnerId).Element("DisplayName", r.OwnerId).Close("Owner")
            .Element("StorageClass", "STANDARD").Element("PartNumberMarker", after)
            .Element("NextPartNumberMarker", page.Count > 0 ? page[^1].Key : after).Element("MaxParts", maxParts).Element("IsTruncated", parts.Count > page.Count);
        foreach (var (number, (etag, size, modified)) in page)
            xml.Open("Part").Element("PartNumber", number).Element("LastModified", S3Xml.Time(modified)).Element("ETag", $"\"{etag}\"").Element("Size", size).Close("Part");
        await xml.WriteAsync(r.Context);
    }

    private static int ParseInt(S3Request r, string name, int fallback, int min, int max)
    {
        if (r.Query(name) is not { } text) return fallback;
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value < min)
            throw S3Error.InvalidArgument($"Provided {name} not an integer or within integer range", name, text);
        return Math.Min(value, max);
    }

    /// <summary>POST /bucket/key?uploadId=ID: checks the listed parts and writes the object as a static large object over them.</summary>
    public static async Task CompleteAsync(S3Request r)
    {
        var uploadId = r.Query("uploadId")!;
        SwiftAnswer marker;
        try
        {
            marker = await UploadAsync(r, uploadId);
        }
        catch (S3Error e) when (e.Code == "NoSuchUpload")
        {
            // Completing an upload that this very request's object finished is answered again, as S3 and RGW do
            // (a client that lost the first answer retries).
            var current = await r.SwiftAsync("HEAD", r.SwiftPath(r.Bucket!, r.Key));
            if (current.IsSuccess && current.Header(UploadIdSysmeta) == uploadId && current.Header(ObjectHandlers.EtagSysmeta) is { } finished)
            {
                await CompletedAsync(r, finished);
                return;
            }
            throw;
        }
        var doc = await S3Xml.ReadAsync(r.Context);
        if (doc.DocumentElement?.LocalName != "CompleteMultipartUpload") throw S3Error.MalformedXml();
        var requested = new List<(int Number, string ETag)>();
        foreach (var p in S3Xml.Children(doc.DocumentElement, "Part"))
        {
            if (!int.TryParse(S3Xml.ChildText(p, "PartNumber"), NumberStyles.None, CultureInfo.InvariantCulture, out var number)) throw S3Error.MalformedXml();
            requested.Add((number, (S3Xml.ChildText(p, "ETag") ?? "").Trim().Trim('"')));
        }
        if (requested.Count == 0) throw S3Error.MalformedXml();
        for (var i = 1; i < requested.Count; i++)
        {
            if (requested[i].Number <= requested[i - 1].Number)
                throw new S3Error("InvalidPartOrder", 400, "The list of parts was not in ascending order. The parts list must be specified in order by part number.");
        }
        var parts = await PartsAsync(r, uploadId);
        var manifest = new JsonArray();
        using var md5s = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
        for (var i = 0; i < requested.Count; i++)
        {
            var (number, etag) = requested[i];
            if (!parts.TryGetValue(number, out var stored) || !string.Equals(stored.ETag, etag, StringComparison.OrdinalIgnoreCase))
                throw new S3Error("InvalidPart", 400, "One or more of the specified parts could not be found. The part might not have been uploaded, or the specified entity tag might not have matched the part's entity tag.")
                { Extra = [("UploadId", uploadId), ("PartNumber", number.ToString(CultureInfo.InvariantCulture)), ("ETag", etag)] };
            if (stored.Size < MinPartSize && i < requested.Count - 1)
                throw new S3Error("EntityTooSmall", 400, "Your proposed upload is smaller than the minimum allowed object size.")
                { Extra = [("ProposedSize", stored.Size.ToString(CultureInfo.InvariantCulture)), ("MinSizeAllowed", MinPartSize.ToString(CultureInfo.InvariantCulture)), ("PartNumber", number.ToString(CultureInfo.InvariantCulture))] };
            md5s.AppendData(Convert.FromHexString(stored.ETag));
            manifest.Add(new JsonObject
            {
                ["path"] = $"/{Segments(r)}/{Marker(r, uploadId)}/{number}", ["etag"] = stored.ETag, ["size_bytes"] = stored.Size,
            });
        }
        var s3Etag = $"{Convert.ToHexStringLower(md5s.GetHashAndReset())}-{requested.Count}";
        var headers = new List<KeyValuePair<string, string>>
        {
            new(ObjectHandlers.EtagSysmeta, s3Etag),
            new(UploadIdSysmeta, uploadId),
            new("X-Object-Sysmeta-Container-Update-Override-Etag", s3Etag),
        };
        foreach (var (name, value) in marker.Headers)
        {
            if (name.StartsWith("X-Object-Meta-", StringComparison.OrdinalIgnoreCase) || name.Equals(AclHandlers.ObjectSysmeta, StringComparison.OrdinalIgnoreCase)
                    || name is "Content-Type" or "Cache-Control" or "Content-Disposition"
                    or "Content-Encoding" or "Content-Language" or "Expires")
                headers.Add(new(name, value.ToString()));
        }
        var body = Encoding.UTF8.GetBytes(manifest.ToJsonString());
        var put = await r.SwiftAsync("PUT", r.SwiftPath(r.Bucket!, r.Key, "multipart-manifest=put"), headers, new MemoryStream(body), body.Length);
        if (!put.IsSuccess) throw S3Error.FromSwift(put.Status, r.Bucket, r.Key);
        // Parts left out of the object are not kept, and the upload is over.
        foreach (var number in parts.Keys)
            if (!requested.Any(p => p.Number == number)) await r.SwiftAsync("DELETE", r.SwiftPath(Segments(r), $"{Marker(r, uploadId)}/{number}"));
        await r.SwiftAsync("DELETE", r.SwiftPath(Segments(r), Marker(r, uploadId)));
        await CompletedAsync(r, s3Etag);
    }

    /// <summary>The upload a completed object came from, so a repeated CompleteMultipartUpload can be recognised.</summary>
    private const string UploadIdSysmeta = "X-Object-Sysmeta-S3-Upload-Id";

    private static Task CompletedAsync(S3Request r, string s3Etag) =>
        new S3Xml("CompleteMultipartUploadResult").Element("Location", $"{r.Context.Request.Scheme}://{r.Context.Request.Host}/{r.Bucket}/{r.Key}")
            .Element("Bucket", r.Bucket).Element("Key", r.Key).Element("ETag", $"\"{s3Etag}\"").WriteAsync(r.Context);

    /// <summary>DELETE /bucket/key?uploadId=ID: the parts and the upload go.</summary>
    public static async Task AbortAsync(S3Request r)
    {
        var uploadId = r.Query("uploadId")!;
        await UploadAsync(r, uploadId);
        foreach (var number in (await PartsAsync(r, uploadId)).Keys)
            await r.SwiftAsync("DELETE", r.SwiftPath(Segments(r), $"{Marker(r, uploadId)}/{number}"));
        await r.SwiftAsync("DELETE", r.SwiftPath(Segments(r), Marker(r, uploadId)));
        r.Context.Response.StatusCode = 204;
    }

    /// <summary>GET /bucket?uploads: the unfinished uploads, by key (prefix, key-marker and max-uploads honoured).</summary>
    public static async Task ListUploadsAsync(S3Request r)
    {
        if (!await ObjectHandlers.BucketExistsAsync(r)) throw S3Error.NoSuchBucket(r.Bucket!);
        var prefix = r.Query("prefix") ?? "";
        var keyMarker = r.Query("key-marker") ?? "";
        var maxUploads = ParseInt(r, "max-uploads", 1000, 0, 1000);
        var uploads = new List<(string Key, string Id, DateTimeOffset Initiated)>();
        var marker = keyMarker;
        var truncated = false;
        while (!truncated)
        {
            var answer = await r.SwiftAsync("GET", r.SwiftPath(Segments(r), query: $"format=json&prefix={Uri.EscapeDataString(prefix)}&marker={Uri.EscapeDataString(marker)}"));
            if (answer.Status == 404 || answer.Body.Length <= 2) break;
            if (!answer.IsSuccess) throw S3Error.FromSwift(answer.Status, r.Bucket, null);
            using var listing = JsonDocument.Parse(answer.Body);
            foreach (var item in listing.RootElement.EnumerateArray())
            {
                var name = item.GetProperty("name").GetString()!;
                marker = name;
                var slash = name.LastIndexOf('/');
                var id = slash < 0 ? "" : name[(slash + 1)..];
                if (id.Length != 32 || !id.All(char.IsAsciiHexDigitLower)) continue;
                if (uploads.Count == maxUploads)
                {
                    truncated = true;
                    break;
                }
                uploads.Add((name[..slash], id, S3Xml.ParseSwiftTime(item.GetProperty("last_modified").GetString())));
            }
        }
        var xml = new S3Xml("ListMultipartUploadsResult").Element("Bucket", r.Bucket).Element("KeyMarker", keyMarker).Element("UploadIdMarker", r.Query("upload-id-marker") ?? "");
        if (truncated && uploads.Count > 0) xml.Element("NextKeyMarker", uploads[^1].Key + "/" + uploads[^1].Id).Element("NextUploadIdMarker", uploads[^1].Id);
        if (prefix.Length > 0) xml.Element("Prefix", prefix);
        xml.Element("MaxUploads", maxUploads).Element("IsTruncated", truncated);
        foreach (var (key, id, initiated) in uploads)
        {
            xml.Open("Upload").Element("Key", key).Element("UploadId", id)
                .Open("Initiator").Element("ID", r.OwnerId).Element("DisplayName", r.OwnerId).Close("Initiator")
                .Open("Owner").Element("ID", r.OwnerId).Element("DisplayName", r.OwnerId).Close("Owner")
                .Element("StorageClass", "STANDARD").Element("Initiated", S3Xml.Time(initiated)).Close("Upload");
        }
        await xml.WriteAsync(r.Context);
    }
}
