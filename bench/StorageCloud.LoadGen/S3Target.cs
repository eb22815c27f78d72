using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace StorageCloud.LoadGen;

/// <summary>An S3 endpoint (path-style), every request signed with AWS Signature V4 over an unsigned payload.</summary>
public sealed class S3Target(string endpoint, string accessKey, string secretKey, string region, int connections, TimeProvider? clock = null)
    : LoadTarget(CreateClient(connections))
{
    private readonly string _endpoint = endpoint.TrimEnd('/');
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;

    /// <inheritdoc />
    protected override Uri UrlOf(string container, string? name, string? query) =>
        new($"{_endpoint}/{Uri.EscapeDataString(container)}{(name is null ? "" : "/" + S3Signer.Encode(name))}{(query is null ? "" : "?" + query)}");

    /// <inheritdoc />
    protected override void Authorize(HttpRequestMessage request) => S3Signer.Sign(request, accessKey, secretKey, region, _clock.GetUtcNow(), "UNSIGNED-PAYLOAD");

    /// <inheritdoc />
    public override string ListQuery(int limit) => $"list-type=2&max-keys={limit}";
}

/// <summary>AWS Signature Version 4 for S3 requests, as clients compute it (header form).</summary>
public static class S3Signer
{
    /// <summary>Adds x-amz-date, x-amz-content-sha256 and the Authorization header to the request.</summary>
    public static void Sign(HttpRequestMessage request, string accessKey, string secretKey, string region, DateTimeOffset now, string payloadHash,
        IEnumerable<KeyValuePair<string, string>>? extraSignedHeaders = null)
    {
        var uri = request.RequestUri!;
        var amzDate = now.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        var headers = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["host"] = uri.IsDefaultPort ? uri.Host : uri.Authority,
            ["x-amz-content-sha256"] = payloadHash,
            ["x-amz-date"] = amzDate,
        };
        if (extraSignedHeaders is not null)
            foreach (var (k, v) in extraSignedHeaders) headers[k.ToLowerInvariant()] = v.Trim();
        var query = uri.Query.TrimStart('?');
        var canonicalQuery = string.Join('&', query.Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Select(p => p.Split('=', 2))
            .Select(p => (K: Encode(Uri.UnescapeDataString(p[0])), V: Encode(p.Length > 1 ? Uri.UnescapeDataString(p[1]) : "")))
            .OrderBy(p => p.K, StringComparer.Ordinal).ThenBy(p => p.V, StringComparer.Ordinal).Select(p => p.K + "=" + p.V));
        var canonicalPath = string.Join('/', uri.AbsolutePath.Split('/').Select(s => Encode(Uri.UnescapeDataString(s))));
        var signedHeaders = string.Join(';', headers.Keys);
        var canonical = $"{request.Method.Method}\n{canonicalPath}\n{canonicalQuery}\n{string.Concat(headers.Select(h => h.Key + ":" + h.Value + "\n"))}\n{signedHeaders}\n{payloadHash}";
        var scope = $"{amzDate[..8]}/{region}/s3/aws4_request";
        var toSign = $"AWS4-HMAC-SHA256\n{amzDate}\n{scope}\n{Hex(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)))}";
        var key = Hmac(Encoding.UTF8.GetBytes("AWS4" + secretKey), amzDate[..8]);
        key = Hmac(key, region);
        key = Hmac(key, "s3");
        key = Hmac(key, "aws4_request");
        var signature = Hex(Hmac(key, toSign));
        request.Headers.TryAddWithoutValidation("x-amz-date", amzDate);
        request.Headers.TryAddWithoutValidation("x-amz-content-sha256", payloadHash);
        request.Headers.TryAddWithoutValidation("Authorization", $"AWS4-HMAC-SHA256 Credential={accessKey}/{scope}, SignedHeaders={signedHeaders}, Signature={signature}");
    }

    /// <summary>Percent-encoding by AWS's rules (unreserved characters kept, everything else %XX of UTF-8).</summary>
    public static string Encode(string text)
    {
        var sb = new StringBuilder(text.Length + 8);
        foreach (var b in Encoding.UTF8.GetBytes(text))
        {
            var c = (char)b;
            if (c is >= 'A' and <= 'Z' or >= 'a' and <= 'z' or >= '0' and <= '9' or '-' or '_' or '.' or '~') sb.Append(c);
            else sb.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
        }
        return sb.ToString();
    }

    private static byte[] Hmac(byte[] key, string data) => HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(data));

    private static string Hex(byte[] bytes) => Convert.ToHexStringLower(bytes);
}
