using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace StorageCloud.Proxy.S3;

/// <summary>What a signed request claims: who signed it, when, over which headers, and the signature itself.</summary>
public sealed record SignedRequest(string AccessKey, string Date, string Scope, string[] SignedHeaders, string Signature, string PayloadHash,
    DateTimeOffset Time, bool Presigned, TimeSpan? Expires);

/// <summary>
/// AWS Signature Version 4 as S3 uses it: parses the Authorization header or the presigned-URL query, rebuilds the
/// canonical request from what arrived (the raw path re-encoded by AWS's rules, sorted query, signed headers), and
/// compares signatures in constant time. The secret never leaves this class.
/// </summary>
public static class SigV4
{
    /// <summary>The algorithm name in headers and queries.</summary>
    public const string Algorithm = "AWS4-HMAC-SHA256";

    /// <summary>Longest presigned URL validity S3 allows.</summary>
    public static readonly TimeSpan MaxPresignedExpiry = TimeSpan.FromDays(7);

    /// <summary>True when the request carries a SigV4 signature (header or query).</summary>
    public static bool IsSigned(HttpRequest request) =>
        request.Headers.Authorization.ToString().StartsWith(Algorithm + " ", StringComparison.Ordinal)
        || request.Query.ContainsKey("X-Amz-Algorithm");

    /// <summary>Parses the signature's claims; throws the S3 error a malformed one gets.</summary>
    public static SignedRequest Parse(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        if (header.StartsWith(Algorithm + " ", StringComparison.Ordinal))
        {
            string? credential = null, signedHeaders = null, signature = null;
            foreach (var part in header[(Algorithm.Length + 1)..].Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                var eq = part.IndexOf('=');
                if (eq <= 0) throw S3Error.AuthorizationHeaderMalformed($"'{part}' is not key=value.");
                var value = part[(eq + 1)..];
                switch (part[..eq])
                {
                    case "Credential": credential = value; break;
                    case "SignedHeaders": signedHeaders = value; break;
                    case "Signature": signature = value; break;
                }
            }
            if (credential is null || signedHeaders is null || signature is null)
                throw S3Error.AuthorizationHeaderMalformed("Credential, SignedHeaders and Signature are required.");
            var date = request.Headers["X-Amz-Date"].ToString();
            if (date.Length == 0) date = request.Headers.Date.ToString();
            var payload = request.Headers["X-Amz-Content-SHA256"].ToString();
            if (payload.Length == 0) throw new S3Error("MissingSecurityHeader", 400, "Your request was missing a required header: x-amz-content-sha256.");
            return Build(credential, signedHeaders, signature, date, payload, presigned: false, expires: null, S3Error.AuthorizationHeaderMalformed);
        }
        var q = request.Query;
        if (q["X-Amz-Algorithm"].ToString() != Algorithm)
            throw S3Error.AuthorizationQueryParametersError("X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"");
        var expiresText = q["X-Amz-Expires"].ToString();
        if (!int.TryParse(expiresText, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
            throw S3Error.AuthorizationQueryParametersError("X-Amz-Expires should be a number");
        if (TimeSpan.FromSeconds(seconds) > MaxPresignedExpiry)
            throw S3Error.AuthorizationQueryParametersError("X-Amz-Expires must be less than a week (in seconds) that is 604800");
        return Build(q["X-Amz-Credential"].ToString(), q["X-Amz-SignedHeaders"].ToString(), q["X-Amz-Signature"].ToString(), q["X-Amz-Date"].ToString(),
            "UNSIGNED-PAYLOAD", presigned: true, TimeSpan.FromSeconds(seconds), S3Error.AuthorizationQueryParametersError);
    }

    private static SignedRequest Build(string credential, string signedHeaders, string signature, string date, string payload, bool presigned,
        TimeSpan? expires, Func<string, S3Error> malformed)
    {
        // Credential = <access key>/<yyyymmdd>/<region>/s3/aws4_request; the access key itself may contain '/'.
        var parts = credential.Split('/');
        if (parts.Length < 5 || parts[^1] != "aws4_request" || parts[^2] != "s3")
            throw malformed($"the Credential '{credential}' is not <key>/<date>/<region>/s3/aws4_request.");
        var access = string.Join('/', parts[..^4]);
        if (!DateTimeOffset.TryParseExact(date, "yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time)
            && !DateTimeOffset.TryParseExact(date, "r", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out time))
            throw new S3Error("AccessDenied", 403, "AWS authentication requires a valid Date or x-amz-date header");
        if (parts[^4] != time.UtcDateTime.ToString("yyyyMMdd", CultureInfo.InvariantCulture))
            throw malformed($"the credential date '{parts[^4]}' does not match the request date.");
        if (signature.Length != 64) throw S3Error.SignatureDoesNotMatch();
        return new SignedRequest(access, date, string.Join('/', parts[^4..]), signedHeaders.Split(';'), signature, payload, time, presigned, expires);
    }

    /// <summary>True when the signature is right for the secret.</summary>
    public static bool Verify(HttpRequest request, SignedRequest signed, string secret)
    {
        var canonical = CanonicalRequest(request, signed);
        var stringToSign = $"{Algorithm}\n{signed.Time.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture)}\n{signed.Scope}\n{Hex(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)))}";
        var key = SigningKey(secret, signed.Scope);
        var expected = Encoding.ASCII.GetBytes(Hex(Hmac(key, stringToSign)));
        return CryptographicOperations.FixedTimeEquals(expected, Encoding.ASCII.GetBytes(signed.Signature.ToLowerInvariant()));
    }

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<(string Secret, string Scope), byte[]> Keys = new();

    /// <summary>
    /// The key derived from the secret for a credential scope (date/region/service/aws4_request). A key serves a
    /// whole day of requests, so derived keys are kept (half the cost of checking a signature is the derivation).
    /// </summary>
    public static byte[] SigningKey(string secret, string scope)
    {
        if (Keys.TryGetValue((secret, scope), out var cached)) return cached;
        var key = DeriveKey(secret, scope);
        if (Keys.Count > 10_000) Keys.Clear();
        Keys[(secret, scope)] = key;
        return key;
    }

    private static byte[] DeriveKey(string secret, string scope)
    {
        var parts = scope.Split('/');
        var key = Hmac(Encoding.UTF8.GetBytes("AWS4" + secret), parts[0]);
        key = Hmac(key, parts[1]);
        key = Hmac(key, parts[2]);
        return Hmac(key, parts[3]);
    }

    /// <summary>The canonical request SigV4 signs, rebuilt from the request as it arrived.</summary>
    public static string CanonicalRequest(HttpRequest request, SignedRequest signed)
    {
        var raw = request.HttpContext.Features.Get<IHttpRequestFeature>()?.RawTarget ?? (request.PathBase + request.Path + request.QueryString);
        var q = raw.IndexOf('?');
        var path = q < 0 ? raw : raw[..q];
        var query = q < 0 ? "" : raw[(q + 1)..];
        var sb = new StringBuilder(512);
        sb.Append(request.Method).Append('\n');
        foreach (var segment in path.Split('/').Select((s, i) => (s, i)))
        {
            if (segment.i > 0) sb.Append('/');
            sb.Append(Encode(Uri.UnescapeDataString(segment.s)));
        }
        sb.Append('\n');
        var pairs = new List<(string Key, string Value)>();
        foreach (var pair in query.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = pair.IndexOf('=');
            var k = Uri.UnescapeDataString(eq < 0 ? pair : pair[..eq]);
            var v = eq < 0 ? "" : Uri.UnescapeDataString(pair[(eq + 1)..]);
            if (signed.Presigned && k == "X-Amz-Signature") continue;
            pairs.Add((Encode(k), Encode(v)));
        }
        pairs.Sort((a, b) => a.Key != b.Key ? string.CompareOrdinal(a.Key, b.Key) : string.CompareOrdinal(a.Value, b.Value));
        sb.AppendJoin('&', pairs.Select(p => p.Key + "=" + p.Value)).Append('\n');
        foreach (var name in signed.SignedHeaders)
        {
            var value = name == "host" ? request.Host.Value ?? "" : string.Join(',', request.Headers[name].Select(v => CollapseSpaces(v ?? "")));
            sb.Append(name).Append(':').Append(value).Append('\n');
        }
        sb.Append('\n').AppendJoin(';', signed.SignedHeaders).Append('\n').Append(signed.PayloadHash);
        return sb.ToString();
    }

    /// <summary>Percent-encodes by AWS's rules: unreserved characters as they are, everything else %XX of its UTF-8 bytes.</summary>
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

    private static string CollapseSpaces(string value)
    {
        var trimmed = value.Trim();
        if (!trimmed.Contains("  ", StringComparison.Ordinal)) return trimmed;
        var sb = new StringBuilder(trimmed.Length);
        var previousSpace = false;
        foreach (var c in trimmed)
        {
            if (c == ' ' && previousSpace) continue;
            previousSpace = c == ' ';
            sb.Append(c);
        }
        return sb.ToString();
    }

    private static byte[] Hmac(byte[] key, string data) => HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(data));

    private static string Hex(byte[] bytes) => Convert.ToHexStringLower(bytes);
}
