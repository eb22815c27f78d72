using System.Text;
using Microsoft.AspNetCore.Http;

namespace StorageCloud.Proxy.S3;

/// <summary>
/// Object and bucket tagging. Object tags live in transient sysmeta (which an object POST may change; the user
/// metadata is sent along, since a Swift POST replaces it), bucket tags in container sysmeta, both URL-encoded
/// as S3's x-amz-tagging header is.
/// </summary>
public static class TaggingHandlers
{
    /// <summary>Where an object's tags are kept.</summary>
    public const string ObjectSysmeta = "X-Object-Transient-Sysmeta-S3-Tagging";

    private const string BucketSysmeta = "X-Container-Sysmeta-S3-Tagging";

    /// <summary>The tags of an x-amz-tagging header ("k1=v1&amp;k2=v2"), checked as S3 checks them.</summary>
    public static List<(string Key, string Value)> ParseHeader(string header, int max = 10)
    {
        var tags = new List<(string, string)>();
        foreach (var pair in header.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = pair.IndexOf('=');
            tags.Add((Uri.UnescapeDataString((eq < 0 ? pair : pair[..eq]).Replace('+', ' ')), eq < 0 ? "" : Uri.UnescapeDataString(pair[(eq + 1)..].Replace('+', ' '))));
        }
        Validate(tags, max);
        return tags;
    }

    /// <summary>The header form of tags.</summary>
    public static string Encode(List<(string Key, string Value)> tags) =>
        string.Join('&', tags.Select(t => Uri.EscapeDataString(t.Key) + "=" + Uri.EscapeDataString(t.Value)));

    private static void Validate(List<(string Key, string Value)> tags, int max)
    {
        if (tags.Count > max) throw new S3Error("BadRequest", 400, $"Object tags cannot be greater than {max}");
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (key, value) in tags)
        {
            if (key.Length is 0 or > 128) throw new S3Error("InvalidTag", 400, "The TagKey you have provided is invalid");
            if (value.Length > 256) throw new S3Error("InvalidTag", 400, "The TagValue you have provided is invalid");
            if (!seen.Add(key)) throw new S3Error("InvalidTag", 400, "Cannot provide multiple Tags with the same key");
        }
    }

    private static async Task<List<(string Key, string Value)>> ReadTagSetAsync(S3Request r, int max)
    {
        var doc = await S3Xml.ReadAsync(r.Context, 64 * 1024);
        if (doc.DocumentElement?.LocalName != "Tagging") throw S3Error.MalformedXml();
        var set = S3Xml.Children(doc.DocumentElement, "TagSet").FirstOrDefault() ?? throw S3Error.MalformedXml();
        var tags = new List<(string, string)>();
        foreach (var tag in S3Xml.Children(set, "Tag"))
            tags.Add((S3Xml.ChildText(tag, "Key") ?? throw S3Error.MalformedXml(), S3Xml.ChildText(tag, "Value") ?? ""));
        Validate(tags, max);
        return tags;
    }

    private static Task WriteTagSetAsync(S3Request r, string? encoded)
    {
        var xml = new S3Xml("Tagging").Open("TagSet");
        foreach (var (key, value) in encoded is null ? [] : ParseHeader(encoded, int.MaxValue))
            xml.Open("Tag").Element("Key", key).Element("Value", value).Close("Tag");
        return xml.Close("TagSet").WriteAsync(r.Context);
    }

    /// <summary>GET /bucket/key?tagging.</summary>
    public static async Task GetObjectAsync(S3Request r)
    {
        var head = await r.SwiftAsync("HEAD", r.SwiftPath(r.Bucket!, r.Key, VersioningHandlers.VersionQuery(r)));
        if (!head.IsSuccess) throw S3Error.FromSwift(head.Status, r.Bucket, r.Key);
        if (head.Header("X-Object-Version-Id") is { } version) r.Context.Response.Headers["x-amz-version-id"] = version;
        await WriteTagSetAsync(r, head.Header(ObjectSysmeta));
    }

    /// <summary>PUT (set) or DELETE (clear) /bucket/key?tagging: a POST that carries the object's user metadata along.</summary>
    public static async Task SetObjectAsync(S3Request r)
    {
        var tags = HttpMethods.IsPut(r.Context.Request.Method) ? await ReadTagSetAsync(r, 10) : [];
        await ObjectHandlers.SetTransientSysmetaAsync(r, ObjectSysmeta, tags.Count > 0 ? Encode(tags) : null);
        r.Context.Response.StatusCode = HttpMethods.IsPut(r.Context.Request.Method) ? 200 : 204;
        r.Context.Response.ContentLength = 0;
    }

    /// <summary>GET /bucket?tagging (NoSuchTagSet when none was set).</summary>
    public static async Task GetBucketAsync(S3Request r)
    {
        var head = await r.SwiftAsync("HEAD", r.SwiftPath(r.Bucket!));
        if (!head.IsSuccess) throw S3Error.FromSwift(head.Status, r.Bucket, null);
        if (head.Header(BucketSysmeta) is not { Length: > 0 } tags) throw new S3Error("NoSuchTagSet", 404, "The TagSet does not exist") { Extra = [("BucketName", r.Bucket!)] };
        await WriteTagSetAsync(r, tags);
    }

    /// <summary>PUT (set) or DELETE (clear) /bucket?tagging.</summary>
    public static async Task SetBucketAsync(S3Request r)
    {
        var put = HttpMethods.IsPut(r.Context.Request.Method);
        var tags = put ? await ReadTagSetAsync(r, 50) : [];
        var answer = await r.SwiftAsync("POST", r.SwiftPath(r.Bucket!), S3Request.Headers((BucketSysmeta, Encode(tags))));
        if (!answer.IsSuccess) throw S3Error.FromSwift(answer.Status, r.Bucket, null);
        r.Context.Response.StatusCode = 204;
        r.Context.Response.ContentLength = 0;
    }
}
