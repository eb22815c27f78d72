using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace StorageCloud.Proxy.S3;

/// <summary>
/// AWS Signature Version 2, for older clients and for SDKs that still presign with it: "Authorization: AWS
/// key:signature" or ?AWSAccessKeyId=&amp;Expires=&amp;Signature=, the signature being base64(HMAC-SHA1) of S3's
/// string to sign (method, Content-MD5, Content-Type, date or expiry, x-amz-* headers, resource with subresources).
/// </summary>
public static class SigV2
{
    private static readonly string[] SubResources =
    [
        "acl", "cors", "delete", "lifecycle", "location", "logging", "notification", "partNumber", "policy", "requestPayment",
        "response-cache-control", "response-content-disposition", "response-content-encoding", "response-content-language",
        "response-content-type", "response-expires", "restore", "tagging", "torrent", "uploadId", "uploads", "versionId",
        "versioning", "versions", "website",
    ];

    /// <summary>Context item holding the bucket of a virtual-hosted request, which SigV2's resource names.</summary>
    public const string VirtualBucketItem = "storagecloud.s3.virtual_bucket";

    /// <summary>True when the request carries a SigV2 signature (header or query).</summary>
    public static bool IsSigned(HttpRequest request) =>
        request.Headers.Authorization.ToString().StartsWith("AWS ", StringComparison.Ordinal)
        || (request.Query.ContainsKey("AWSAccessKeyId") && request.Query.ContainsKey("Signature"));

    /// <summary>The signature's claims, as a <see cref="SignedRequest"/> (its payload is unsigned).</summary>
    public static SignedRequest Parse(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        if (header.StartsWith("AWS ", StringComparison.Ordinal))
        {
            var credentials = header[4..];
            var colon = credentials.LastIndexOf(':');
            if (colon <= 0) throw new S3Error("AccessDenied", 403, "AWS authentication requires a valid Date or x-amz-date header");
            if (request.Headers.TryGetValue("x-amz-date", out var amzDate) && amzDate.ToString().Trim().Length == 0)
                throw new S3Error("AccessDenied", 403, "AWS authentication requires a valid Date or x-amz-date header");
            var date = amzDate.ToString() is { Length: > 0 } amz ? amz : request.Headers.Date.ToString();
            if (!TryParseHttpDate(date, out var time) || time < DateTimeOffset.UnixEpoch)
                throw new S3Error("AccessDenied", 403, "AWS authentication requires a valid Date or x-amz-date header");
            return new SignedRequest(credentials[..colon], date, "", [], credentials[(colon + 1)..], "UNSIGNED-PAYLOAD", time, false, null);
        }
        var expires = request.Query["Expires"].ToString();
        if (!long.TryParse(expires, NumberStyles.None, CultureInfo.InvariantCulture, out var epoch))
            throw new S3Error("AccessDenied", 403, "Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters");
        var at = DateTimeOffset.FromUnixTimeSeconds(Math.Min(epoch, 253402300799));
        return new SignedRequest(request.Query["AWSAccessKeyId"].ToString(), expires, "", [], request.Query["Signature"].ToString(), "UNSIGNED-PAYLOAD",
            at, true, TimeSpan.Zero);
    }

    /// <summary>
    /// An RFC 1123 date whatever its weekday says (a wrong weekday is still a date, and then judged by the clock
    /// check: RequestTimeTooSkewed rather than a refusal of the header), or any other form .NET reads.
    /// </summary>
    private static bool TryParseHttpDate(string text, out DateTimeOffset time)
    {
        var comma = text.IndexOf(',');
        if (comma is > 0 and <= 9 && DateTimeOffset.TryParseExact(text.AsSpan(comma + 1).Trim(), "d MMM yyyy HH:mm:ss 'GMT'", CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AllowWhiteSpaces, out time))
            return true;
        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out time);
    }

    /// <summary>True when the signature is right for the secret.</summary>
    public static bool Verify(HttpRequest request, SignedRequest signed, string secret)
    {
        // A path-style bucket request ("/bucket") is signed by some clients (botocore) as "/bucket/": the same resource.
        var raw = RawPath(request);
        var bucketOnly = raw.Length > 1 && raw.IndexOf('/', 1) < 0;
        return Matches(StringToSign(request, signed), secret, signed.Signature)
            | (bucketOnly && Matches(StringToSign(request, signed, trailingSlash: true), secret, signed.Signature));
    }

    private static bool Matches(string stringToSign, string secret, string signature)
    {
        var expected = Convert.ToBase64String(HMACSHA1.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(stringToSign)));
        return CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(signature));
    }

    private static string RawPath(HttpRequest request)
    {
        var raw = request.HttpContext.Features.Get<IHttpRequestFeature>()?.RawTarget ?? request.Path.Value ?? "/";
        var q = raw.IndexOf('?');
        return q < 0 ? raw : raw[..q];
    }

    /// <summary>S3's SigV2 string to sign for the request as it arrived.</summary>
    public static string StringToSign(HttpRequest request, SignedRequest signed, bool trailingSlash = false)
    {
        var sb = new StringBuilder(256);
        sb.Append(request.Method).Append('\n')
            .Append(request.Headers["Content-MD5"].ToString().Trim()).Append('\n')
            .Append(request.Headers.ContentType.ToString().Trim()).Append('\n');
        var amz = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, values) in request.Headers)
        {
            var lower = name.ToLowerInvariant();
            if (lower.StartsWith("x-amz-", StringComparison.Ordinal)) amz[lower] = string.Join(',', values.Select(v => (v ?? "").Trim()));
        }
        if (signed.Presigned) sb.Append(signed.Date);
        else if (!amz.ContainsKey("x-amz-date")) sb.Append(request.Headers.Date.ToString());
        sb.Append('\n');
        foreach (var (name, value) in amz) sb.Append(name).Append(':').Append(value).Append('\n');
        if (request.HttpContext.Items[VirtualBucketItem] is string bucket) sb.Append('/').Append(bucket);
        sb.Append(RawPath(request));
        if (trailingSlash) sb.Append('/');
        var parameters = new List<string>();
        foreach (var (key, value) in request.Query.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            if (Array.IndexOf(SubResources, key) < 0) continue;
            parameters.Add(value.ToString().Length > 0 ? $"{key}={value}" : key);
        }
        if (parameters.Count > 0) sb.Append('?').AppendJoin('&', parameters);
        return sb.ToString();
    }
}
