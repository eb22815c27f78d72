using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using StorageCloud.Proxy.Controllers;
using StorageCloud.Common.Http;
using StorageCloud.Service.Http;
using StorageCloud.ObjectLayer;
using StorageCloud.Proxy.Auth;

namespace StorageCloud.Proxy.Middleware;

/// <summary>
/// Swift's tempurl: a request to an object carrying temp_url_sig and temp_url_expires is authorized by an HMAC of
/// (method, expiry, path) under one of the account's or container's Temp-URL keys, compared in constant time.
/// Supports SHA-1/256/512 in hex or "algo:base64", ISO 8601 expiries, prefix-scoped signatures, IP ranges,
/// filename= and inline.
/// </summary>
public sealed class TempUrlMiddleware(RequestDelegate next, Cluster cluster, ProxyOptions options)
{
    private static readonly string[] DisallowedHeaders = ["X-Object-Manifest", "X-Symlink-Target", "X-Symlink-Target-Account"];

    /// <summary>Checks a temp URL, or passes requests without one on untouched.</summary>
    public async Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        var query = request.Query;
        if (HttpMethods.IsOptions(request.Method) || (!query.ContainsKey("temp_url_sig") && !query.ContainsKey("temp_url_expires")))
        {
            await next(context);
            return;
        }
        var sig = query["temp_url_sig"].ToString();
        var expires = ParseExpires(query["temp_url_expires"].ToString());
        var prefix = query.ContainsKey("temp_url_prefix") ? query["temp_url_prefix"].ToString() : null;
        var ipRange = query.ContainsKey("temp_url_ip_range") ? query["temp_url_ip_range"].ToString() : null;
        if (sig.Length == 0 || expires == 0 || !TryDigest(sig, out var algorithm, out var given) || !options.TempUrlDigests.Contains(algorithm))
        {
            await InvalidAsync(context);
            return;
        }
        var path = SwiftPath.Of(context);
        if (!options.TempUrlMethods.Contains(request.Method) || path.Version != "v1" || path.Object is null || path.Object.Trim('/').Length == 0 || !path.ValidUtf8)
        {
            await InvalidAsync(context);
            return;
        }
        if (ipRange is not null && !InRange(context.Connection.RemoteIpAddress, ipRange))
        {
            await InvalidAsync(context);
            return;
        }
        var accountInfo = await cluster.GetAccountInfoAsync(path.Account!, cancellationToken: context.RequestAborted);
        var containerInfo = await cluster.GetContainerInfoAsync(path.Account!, path.Container!, cancellationToken: context.RequestAborted);
        var keys = new List<(string Key, bool AccountScope)>();
        foreach (var name in (string[])["Temp-Url-Key", "Temp-Url-Key-2"])
        {
            if (accountInfo.Meta(name) is { Length: > 0 } k) keys.Add((k, true));
        }
        foreach (var name in (string[])["Temp-Url-Key", "Temp-Url-Key-2"])
        {
            if (containerInfo.Meta(name) is { Length: > 0 } k) keys.Add((k, false));
        }
        if (keys.Count == 0)
        {
            await InvalidAsync(context);
            return;
        }
        string signedPath;
        if (prefix is null) signedPath = $"/v1/{path.Account}/{path.Container}/{path.Object}";
        else if (path.Object.StartsWith(prefix, StringComparison.Ordinal)) signedPath = $"prefix:/v1/{path.Account}/{path.Container}/{prefix}";
        else
        {
            await InvalidAsync(context);
            return;
        }
        string[] methods = HttpMethods.IsHead(request.Method) ? ["HEAD", "GET", "POST", "PUT"] : [request.Method];
        bool? accountScope = null;
        foreach (var method in methods)
        {
            foreach (var (key, scope) in keys)
            {
                var expected = Hmac(algorithm, key, method, expires, signedPath, ipRange);
                if (CryptographicOperations.FixedTimeEquals(expected, given))
                {
                    accountScope = scope;
                    break;
                }
            }
            if (accountScope is not null) break;
        }
        if (accountScope is null)
        {
            await InvalidAsync(context);
            return;
        }
        if (!HttpMethods.IsGet(request.Method) && !HttpMethods.IsHead(request.Method))
        {
            foreach (var h in DisallowedHeaders)
            {
                if (!request.Headers.ContainsKey(h)) continue;
                await Relay.StatusAsync(context, 400, $"The header '{h}' is not allowed in this tempurl");
                return;
            }
        }
        request.Headers.Remove("X-Timestamp");
        var state = SwiftAuthState.Of(context);
        state.Overridden = true;
        state.OverrideScope = (path.Account!, accountScope.Value ? null : path.Container);
        var filename = query.ContainsKey("filename") ? query["filename"].ToString() : null;
        var inline = query.ContainsKey("inline");
        context.Response.OnStarting(() =>
        {
            var response = context.Response;
            foreach (var name in response.Headers.Keys.ToList())
                if (name.StartsWith("X-Object-Meta-", StringComparison.OrdinalIgnoreCase) && !name.StartsWith("X-Object-Meta-Public-", StringComparison.OrdinalIgnoreCase))
                    response.Headers.Remove(name);
            if ((HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method)) && response.StatusCode is >= 200 and < 300)
            {
                var existing = response.Headers.ContentDisposition.ToString();
                string disposition = inline ? (filename is not null ? Disposition("inline", filename) : "inline")
                    : filename is not null ? Disposition("attachment", filename)
                    : existing.Length > 0 ? existing
                    : Disposition("attachment", path.Object.TrimEnd('/')[(path.Object.TrimEnd('/').LastIndexOf('/') + 1)..]);
                response.Headers.ContentDisposition = disposition.Replace("\n", "%0A", StringComparison.Ordinal);
                // A key holder may sign far into the future; the header stops at the last date HTTP can write.
                response.Headers.Expires = SwiftResponses.HttpDate(Math.Min(expires, DateTimeOffset.MaxValue.ToUnixTimeSeconds()));
            }
            return Task.CompletedTask;
        });
        await next(context);
    }

    private static string Disposition(string type, string filename)
        => $"{type}; filename=\"{Uri.EscapeDataString(filename).Replace("%20", " ", StringComparison.Ordinal).Replace("%2F", "/", StringComparison.Ordinal)}\"; filename*=UTF-8''{Uri.EscapeDataString(filename)}";

    /// <summary>Unix seconds, or an ISO 8601 time (YYYY-MM-DDThh:mm:ssZ); 0 when unreadable or past.</summary>
    private static long ParseExpires(string value)
    {
        long seconds;
        if (!long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out seconds))
        {
            if (!DateTimeOffset.TryParseExact(value, "yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at)) return 0;
            seconds = at.ToUnixTimeSeconds();
        }
        return seconds < DateTimeOffset.UtcNow.ToUnixTimeSeconds() ? 0 : seconds;
    }

    /// <summary>Reads "hex" (its length names SHA-1, -256 or -512) or "algo:base64" (standard or URL-safe).</summary>
    private static bool TryDigest(string value, out string algorithm, out byte[] digest)
    {
        algorithm = "";
        digest = [];
        try
        {
            var colon = value.IndexOf(':');
            if (colon >= 0)
            {
                algorithm = value[..colon];
                var b64 = value[(colon + 1)..];
                if ((b64.Contains('-') || b64.Contains('_')) && !(b64.Contains('+') || b64.Contains('/'))) b64 = b64.Replace('-', '+').Replace('_', '/');
                b64 = b64.TrimEnd('=');
                b64 += new string('=', (4 - b64.Length % 4) % 4);
                digest = Convert.FromBase64String(b64);
                return true;
            }
            digest = Convert.FromHexString(value);
            algorithm = value.Length switch { 40 => "sha1", 64 => "sha256", 128 => "sha512", _ => "" };
            return algorithm.Length > 0;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    private static byte[] Hmac(string algorithm, string key, string method, long expires, string path, string? ipRange)
    {
        var message = $"{method}\n{expires.ToString(CultureInfo.InvariantCulture)}\n{path}";
        if (ipRange is not null) message = $"ip={ipRange}\n" + message;
        var k = Encoding.UTF8.GetBytes(key);
        var m = Encoding.UTF8.GetBytes(message);
        return algorithm switch
        {
            "sha1" => HMACSHA1.HashData(k, m),
            "sha256" => HMACSHA256.HashData(k, m),
            _ => HMACSHA512.HashData(k, m),
        };
    }

    private static bool InRange(IPAddress? client, string range)
    {
        if (client is null) return false;
        if (client.IsIPv4MappedToIPv6) client = client.MapToIPv4();
        if (!range.Contains('/')) return IPAddress.TryParse(range, out var single) && single.Equals(client);
        return IPNetwork.TryParse(range, out var network) && network.Contains(client);
    }

    private static Task InvalidAsync(HttpContext context)
    {
        if (HttpMethods.IsHead(context.Request.Method)) return Relay.StatusAsync(context, 401);
        return Relay.StatusAsync(context, 401, "401 Unauthorized: Temp URL invalid\n");
    }
}
