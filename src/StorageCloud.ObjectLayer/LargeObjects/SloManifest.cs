using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace StorageCloud.ObjectLayer.LargeObjects;

/// <summary>One entry of a client's SLO manifest: an object-backed segment (path, etag, size_bytes, range) or inline data.</summary>
public sealed record SloInput(string? Path, string? ETag, long? SizeBytes, (long? First, long? Last)? Range, byte[]? Data);

/// <summary>One entry of a stored SLO manifest, in Swift's stored shape (name, bytes, hash, content_type, last_modified, range, sub_slo; or data).</summary>
public sealed record SloEntry(string? Name, long Bytes, string? Hash, string? ContentType, string? LastModified, string? Range, bool SubSlo, string? Data)
{
    /// <summary>The (first, last) bytes of the segment this entry uses.</summary>
    public (long First, long Last) Span()
    {
        if (Range is null) return (0, Bytes - 1);
        var dash = Range.IndexOf('-');
        return (long.Parse(Range[..dash], CultureInfo.InvariantCulture), long.Parse(Range[(dash + 1)..], CultureInfo.InvariantCulture));
    }

    /// <summary>Bytes this entry contributes to the large object.</summary>
    public long Length => Data is not null ? Convert.FromBase64String(Data).Length : Span().Last - Span().First + 1;
}

/// <summary>
/// Swift's static large objects as stored: parsing and validating what clients send, the stored manifest and its
/// headers, and the SLO ETag. The proxy's SLO middleware and the object layer's segmented writes share it, so a
/// large object a service writes is one any Swift client reads.
/// </summary>
public static class SloManifest
{
    /// <summary>The large object's ETag, kept on the manifest (the manifest's own ETag is its body's MD5).</summary>
    public const string SysmetaEtag = "X-Object-Sysmeta-Slo-Etag";

    /// <summary>The large object's size, kept on the manifest.</summary>
    public const string SysmetaSize = "X-Object-Sysmeta-Slo-Size";

    /// <summary>Largest manifest body accepted (max_manifest_size).</summary>
    public const int MaxManifestSize = 8 * 1024 * 1024;

    /// <summary>Deepest nesting of manifests in manifests.</summary>
    public const int MaxRecursionDepth = 10;

    /// <summary>The headers a stored manifest carries: it is a large object, with this ETag and total size.</summary>
    public static List<KeyValuePair<string, string>> ManifestHeaders(string sloEtag, long totalBytes)
    {
        var total = totalBytes.ToString(CultureInfo.InvariantCulture);
        return
        [
            new("X-Static-Large-Object", "True"),
            new(SysmetaEtag, sloEtag),
            new(SysmetaSize, total),
            new("X-Object-Sysmeta-Container-Update-Override-Size", total),
        ];
    }

    /// <summary>True for Swift's truthy header values.</summary>
    public static bool IsTrue(string? value) => value is not null && (value.Equals("true", StringComparison.OrdinalIgnoreCase) || value is "1" or "yes" or "on");

    /// <summary>"/container/object" split in two.</summary>
    public static (string Container, string Object) SplitName(string name)
    {
        var trimmed = name.TrimStart('/');
        var slash = trimmed.IndexOf('/');
        return slash < 0 ? (trimmed, "") : (trimmed[..slash], trimmed[(slash + 1)..]);
    }

    /// <summary>Reads a manifest's body (bounded: a manifest is never large).</summary>
    public static async Task<byte[]> ReadBodyAsync(BackendResponse response, CancellationToken cancellationToken)
    {
        await using var body = await response.ReadBodyAsync(cancellationToken).ConfigureAwait(false);
        using var buffer = new MemoryStream();
        var chunk = new byte[64 * 1024];
        int n;
        while ((n = await body.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
        {
            if (buffer.Length + n > MaxManifestSize * 2L) throw new SegmentException("manifest too large");
            buffer.Write(chunk, 0, n);
        }
        return buffer.ToArray();
    }

    private static readonly string[] PathKeys = ["path", "etag", "size_bytes", "range"];

    /// <summary>Parses a client manifest; returns Swift's 400 text (one "Index N: ..." line per problem) or null.</summary>
    public static string? Parse(ReadOnlySpan<byte> body, string manifestPath, out List<SloInput> segments)
    {
        segments = [];
        // Strings are decoded lazily, so bytes that are not UTF-8 would fail later, mid-validation: refuse them here, as
        // Swift's json.loads does.
        if (!System.Text.Unicode.Utf8.IsValid(body)) return "Manifest must be valid JSON.\n";
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(body.ToArray());
        }
        catch (JsonException)
        {
            return "Manifest must be valid JSON.\n";
        }
        if (root is not JsonArray array) return "Manifest must be a list.\n";
        var errors = new StringBuilder();
        for (var i = 0; i < array.Count; i++)
        {
            if (array[i] is not JsonObject seg)
            {
                errors.Append(CultureInfo.InvariantCulture, $"Index {i}: not a JSON object\n");
                continue;
            }
            var isPath = seg.ContainsKey("path");
            if (!isPath && !seg.ContainsKey("data"))
            {
                errors.Append(CultureInfo.InvariantCulture, $"Index {i}: expected keys to include one of 'path' or 'data'\n");
                continue;
            }
            var allowed = isPath ? PathKeys : ["data"];
            var extra = seg.Select(p => p.Key).Where(k => !allowed.Contains(k)).Order(StringComparer.Ordinal).ToList();
            if (extra.Count > 0)
            {
                errors.Append(CultureInfo.InvariantCulture, $"Index {i}: extraneous keys {string.Join(", ", extra.Select(k => JsonSerializer.Serialize(k)))}\n");
                continue;
            }
            if (!isPath)
            {
                byte[] data;
                try
                {
                    data = seg["data"] is JsonValue v && v.TryGetValue<string>(out var b64) ? Convert.FromBase64String(b64) : throw new FormatException();
                }
                catch (FormatException)
                {
                    errors.Append(CultureInfo.InvariantCulture, $"Index {i}: data must be valid base64\n");
                    continue;
                }
                if (data.Length < 1)
                {
                    errors.Append(CultureInfo.InvariantCulture, $"Index {i}: too small; each segment must be at least 1 byte.\n");
                    continue;
                }
                segments.Add(new SloInput(null, null, null, null, data));
                continue;
            }
            if (seg["path"] is not JsonValue pv || !pv.TryGetValue<string>(out var path))
            {
                errors.Append(CultureInfo.InvariantCulture, $"Index {i}: \"path\" must be a string\n");
                continue;
            }
            string? etag = null;
            if (seg["etag"] is { } e && !(e is JsonValue ev && ev.TryGetValue(out etag)))
            {
                errors.Append(CultureInfo.InvariantCulture, $"Index {i}: \"etag\" must be a string or null (if provided)\n");
                continue;
            }
            if (!path.Trim('/').Contains('/'))
            {
                errors.Append(CultureInfo.InvariantCulture, $"Index {i}: path does not refer to an object. Path must be of the form /container/object.\n");
                continue;
            }
            long? size = null;
            if (seg["size_bytes"] is JsonValue sv)
            {
                if (sv.TryGetValue<long>(out var n)) size = n;
                else if (sv.TryGetValue<string>(out var ns) && long.TryParse(ns, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out n)) size = n;
                else
                {
                    errors.Append(CultureInfo.InvariantCulture, $"Index {i}: invalid size_bytes\n");
                    continue;
                }
                if (size < 1 && i != array.Count - 1)
                {
                    errors.Append(CultureInfo.InvariantCulture, $"Index {i}: too small; each segment must be at least 1 byte.\n");
                    continue;
                }
            }
            if (manifestPath == "/" + path.TrimStart('/'))
            {
                errors.Append(CultureInfo.InvariantCulture, $"Index {i}: manifest must not include itself as a segment\n");
                continue;
            }
            (long?, long?)? range = null;
            if (seg["range"] is JsonValue rv && rv.TryGetValue<string>(out var rs) && rs.Length > 0)
            {
                if (rs.Contains(','))
                {
                    errors.Append(CultureInfo.InvariantCulture, $"Index {i}: multiple ranges (only one allowed)\n");
                    continue;
                }
                if (!TryParseRange(rs, out var r))
                {
                    errors.Append(CultureInfo.InvariantCulture, $"Index {i}: invalid range\n");
                    continue;
                }
                if (size is { } known && Resolve(r, known) is null)
                {
                    errors.Append(CultureInfo.InvariantCulture, $"Index {i}: unsatisfiable range\n");
                    continue;
                }
                range = r;
            }
            segments.Add(new SloInput(path, etag, size, range, null));
        }
        if (segments.Count > 0 && segments.All(s => s.Data is not null) && errors.Length == 0)
            errors.Append("Inline data segments require at least one object-backed segment.\n");
        return errors.Length > 0 ? errors.ToString() : null;
    }

    /// <summary>"M-N", "M-" or "-N" (Swift's single byte range).</summary>
    private static bool TryParseRange(string text, out (long? First, long? Last) range)
    {
        range = default;
        var dash = text.IndexOf('-');
        if (dash < 0) return false;
        var a = text[..dash].Trim();
        var b = text[(dash + 1)..].Trim();
        long? first = null, last = null;
        if (a.Length > 0) { if (!long.TryParse(a, NumberStyles.None, CultureInfo.InvariantCulture, out var f)) return false; first = f; }
        if (b.Length > 0) { if (!long.TryParse(b, NumberStyles.None, CultureInfo.InvariantCulture, out var l)) return false; last = l; }
        if (first is null && last is null) return false;
        if (first is not null && last is not null && last < first) return false;
        range = (first, last);
        return true;
    }

    /// <summary>The inclusive byte span a range selects in an object of <paramref name="length"/> bytes, or null.</summary>
    public static (long First, long Last)? Resolve((long? First, long? Last) range, long length)
    {
        if (range.First is null)
        {
            var suffix = Math.Min(range.Last!.Value, length);
            return suffix <= 0 ? null : (length - suffix, length - 1);
        }
        if (range.First >= length) return null;
        return (range.First.Value, Math.Min(range.Last ?? length - 1, length - 1));
    }

    /// <summary>The SLO ETag: MD5 over each segment's etag ("etag:range;" when ranged; the MD5 of inline data).</summary>
    public static string ETag(IEnumerable<SloEntry> entries)
    {
        using var md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
        foreach (var e in entries)
        {
            var part = e.Data is not null ? Convert.ToHexStringLower(MD5.HashData(Convert.FromBase64String(e.Data)))
                : e.Range is not null ? $"{e.Hash}:{e.Range};" : e.Hash!;
            md5.AppendData(Encoding.ASCII.GetBytes(part));
        }
        return Convert.ToHexStringLower(md5.GetHashAndReset());
    }

    /// <summary>The stored manifest JSON (Swift's shape, which its clients read back with ?multipart-manifest=get).</summary>
    public static byte[] Serialize(IEnumerable<SloEntry> entries)
    {
        var array = new JsonArray();
        foreach (var e in entries)
        {
            if (e.Data is not null)
            {
                array.Add(new JsonObject { ["data"] = e.Data });
                continue;
            }
            var o = new JsonObject
            {
                ["name"] = e.Name, ["bytes"] = e.Bytes, ["hash"] = e.Hash, ["content_type"] = e.ContentType, ["last_modified"] = e.LastModified,
            };
            if (e.Range is not null) o["range"] = e.Range;
            if (e.SubSlo) o["sub_slo"] = true;
            array.Add(o);
        }
        return Encoding.UTF8.GetBytes(ListingJson(array));
    }

    /// <summary>Reads a stored manifest.</summary>
    public static List<SloEntry> Deserialize(ReadOnlySpan<byte> json)
    {
        var list = new List<SloEntry>();
        foreach (var node in JsonNode.Parse(json.ToArray())!.AsArray())
        {
            var o = node!.AsObject();
            if (o["data"] is { } d)
            {
                list.Add(new SloEntry(null, 0, null, null, null, null, false, d.GetValue<string>()));
                continue;
            }
            list.Add(new SloEntry(o["name"]!.GetValue<string>(), o["bytes"]!.GetValue<long>(), o["hash"]?.GetValue<string>(),
                o["content_type"]?.GetValue<string>(), o["last_modified"]?.GetValue<string>(), o["range"]?.GetValue<string>(),
                o["sub_slo"]?.GetValue<bool>() ?? false, null));
        }
        return list;
    }

    /// <summary>The manifest as ?multipart-manifest=get&amp;format=raw shows it: what a client would PUT again.</summary>
    public static byte[] Raw(IEnumerable<SloEntry> entries)
    {
        var array = new JsonArray();
        foreach (var e in entries)
        {
            if (e.Data is not null)
            {
                array.Add(new JsonObject { ["data"] = e.Data });
                continue;
            }
            var o = new JsonObject { ["etag"] = e.Hash, ["path"] = e.Name, ["size_bytes"] = e.Bytes };
            if (e.Range is not null) o["range"] = e.Range;
            array.Add(o);
        }
        return Encoding.UTF8.GetBytes(ListingJson(array));
    }

    private static string ListingJson(JsonArray array)
        => Common.Http.PythonJson.Space(array.ToJsonString(new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));
}
