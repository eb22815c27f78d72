using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Xml.Linq;
using StorageCloud.Proxy.S3;

namespace StorageCloud.Proxy.Tests.S3;

/// <summary>
/// A small SigV4 client for tests that need to send what real SDKs do not (tampered signatures, skewed clocks,
/// streaming chunks), written from AWS's SigV4 description and checked against its documented vectors in SigV4Tests.
/// </summary>
public sealed class S3Client(HttpClient http, string baseUrl, string accessKey, string secret)
{
    public const string Region = "us-east-1";

    /// <summary>The region requests are signed for (tests of a region the endpoint does not serve change it).</summary>
    public string SigningRegion { get; set; } = Region;

    public static readonly XNamespace Ns = S3Xml.Namespace;

    public DateTimeOffset? Clock { get; set; }

    /// <summary>The Host header to sign and send (for virtual-hosted requests); the URL's authority when null.</summary>
    public string? Host { get; set; }

    private DateTimeOffset Now => Clock ?? DateTimeOffset.UtcNow;

    private static string Hex(byte[] b) => Convert.ToHexStringLower(b);

    private static string Sha256Hex(byte[] data) => Hex(SHA256.HashData(data));

    /// <summary>The path as sent: each key segment encoded by AWS's rules.</summary>
    public static string PathOf(string bucket, string? key) =>
        "/" + bucket + (key is null ? "" : "/" + string.Join('/', key.Split('/').Select(SigV4.Encode)));

    /// <summary>Sends a signed request (payload hash over the body unless given).</summary>
    public async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, byte[]? body = null, string query = "",
        IDictionary<string, string>? headers = null, string? payloadHash = null, Func<string, string>? tamper = null, Func<string, byte[]>? bodyFromSeed = null)
    {
        var now = Now;
        var amzDate = now.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        var date = amzDate[..8];
        var uri = new Uri(baseUrl + path + (query.Length > 0 ? "?" + query : ""));
        using var request = new HttpRequestMessage(method, uri);
        var hash = payloadHash ?? Sha256Hex(body ?? []);
        var signed = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["host"] = Host ?? uri.Authority,
            ["x-amz-content-sha256"] = hash,
            ["x-amz-date"] = amzDate,
        };
        if (headers is not null)
            foreach (var (k, v) in headers) signed[k.ToLowerInvariant()] = v;
        var canonicalQuery = string.Join('&', query.Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Select(p => p.Split('=', 2)).Select(p => (K: SigV4.Encode(Uri.UnescapeDataString(p[0])), V: SigV4.Encode(p.Length > 1 ? Uri.UnescapeDataString(p[1]) : "")))
            .OrderBy(p => p.K, StringComparer.Ordinal).ThenBy(p => p.V, StringComparer.Ordinal).Select(p => p.K + "=" + p.V));
        var signedHeaders = string.Join(';', signed.Keys);
        var canonical = $"{method.Method}\n{path}\n{canonicalQuery}\n{string.Concat(signed.Select(h => h.Key + ":" + h.Value.Trim() + "\n"))}\n{signedHeaders}\n{hash}";
        var scope = $"{date}/{SigningRegion}/s3/aws4_request";
        var toSign = $"AWS4-HMAC-SHA256\n{amzDate}\n{scope}\n{Sha256Hex(Encoding.UTF8.GetBytes(canonical))}";
        var key = SigV4.SigningKey(secret, scope);
        var signature = Hex(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(toSign)));
        if (tamper is not null) signature = tamper(signature);
        LastSignature = signature;
        LastKey = key;
        LastScope = scope;
        LastAmzDate = amzDate;
        request.Headers.TryAddWithoutValidation("Authorization", $"AWS4-HMAC-SHA256 Credential={accessKey}/{scope}, SignedHeaders={signedHeaders}, Signature={signature}");
        request.Content = bodyFromSeed is not null ? new ByteArrayContent(bodyFromSeed(signature)) : body is null ? null : new ByteArrayContent(body);
        if (Host is not null) request.Headers.Host = Host;
        foreach (var (name, value) in signed)
        {
            if (name == "host") continue;
            if (!request.Headers.TryAddWithoutValidation(name, value))
            {
                request.Content ??= new ByteArrayContent([]);
                request.Content.Headers.Remove(name);
                request.Content.Headers.TryAddWithoutValidation(name, value);
            }
        }
        return await http.SendAsync(request);
    }

    public string LastSignature { get; private set; } = "";
    public byte[] LastKey { get; private set; } = [];
    public string LastScope { get; private set; } = "";
    public string LastAmzDate { get; private set; } = "";

    /// <summary>A presigned URL for a GET (or another method) valid for the given time.</summary>
    public string Presign(string method, string path, TimeSpan expires)
    {
        var now = Now;
        var amzDate = now.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        var scope = $"{amzDate[..8]}/{SigningRegion}/s3/aws4_request";
        var host = new Uri(baseUrl).Authority;
        var query = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["X-Amz-Algorithm"] = "AWS4-HMAC-SHA256",
            ["X-Amz-Credential"] = $"{accessKey}/{scope}",
            ["X-Amz-Date"] = amzDate,
            ["X-Amz-Expires"] = ((int)expires.TotalSeconds).ToString(CultureInfo.InvariantCulture),
            ["X-Amz-SignedHeaders"] = "host",
        };
        var canonicalQuery = string.Join('&', query.Select(p => SigV4.Encode(p.Key) + "=" + SigV4.Encode(p.Value)));
        var canonical = $"{method}\n{path}\n{canonicalQuery}\nhost:{host}\n\nhost\nUNSIGNED-PAYLOAD";
        var toSign = $"AWS4-HMAC-SHA256\n{amzDate}\n{scope}\n{Sha256Hex(Encoding.UTF8.GetBytes(canonical))}";
        var signature = Hex(HMACSHA256.HashData(SigV4.SigningKey(secret, scope), Encoding.UTF8.GetBytes(toSign)));
        return $"{baseUrl}{path}?{canonicalQuery}&X-Amz-Signature={signature}";
    }

    /// <summary>The aws-chunked body of a STREAMING-AWS4-HMAC-SHA256-PAYLOAD upload, signed chunk by chunk from the seed signature.</summary>
    public static byte[] SignedChunks(byte[] data, int chunkSize, byte[] key, string amzDate, string scope, string seed, int? tamperChunk = null)
    {
        var emptyHash = Sha256Hex([]);
        var output = new MemoryStream();
        var previous = seed;
        var offset = 0;
        var index = 0;
        while (true)
        {
            var n = Math.Min(chunkSize, data.Length - offset);
            var chunk = data.AsSpan(offset, n).ToArray();
            var toSign = $"AWS4-HMAC-SHA256-PAYLOAD\n{amzDate}\n{scope}\n{previous}\n{emptyHash}\n{Sha256Hex(chunk)}";
            var signature = Hex(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(toSign)));
            if (tamperChunk == index && n > 0) chunk[0] ^= 0xFF;
            output.Write(Encoding.ASCII.GetBytes($"{n:x};chunk-signature={signature}\r\n"));
            output.Write(chunk);
            output.Write("\r\n"u8);
            previous = signature;
            offset += n;
            index++;
            if (n == 0) break;
        }
        return output.ToArray();
    }

    /// <summary>Reads an XML answer.</summary>
    public static async Task<XElement> XmlAsync(HttpResponseMessage response) => XElement.Parse(await response.Content.ReadAsStringAsync());

    /// <summary>The Code of an S3 error answer.</summary>
    public static async Task<string> ErrorCodeAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        return XElement.Parse(text).Element("Code")?.Value ?? text;
    }
}
