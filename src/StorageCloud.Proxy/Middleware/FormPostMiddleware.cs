using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;
using StorageCloud.ObjectLayer;
using StorageCloud.Proxy.Controllers;

namespace StorageCloud.Proxy.Middleware;

/// <summary>
/// Swift's formpost: a browser's multipart/form-data POST to /v1/account/container[/prefix], signed with one of
/// the account's or container's temp URL keys, uploads its files as objects (redirect, max_file_size,
/// max_file_count, expires, signature; optional x_delete_at / x_delete_after). Each file is a pre-authorized PUT
/// through the rest of the pipeline, streamed, never held whole.
/// </summary>
public sealed class FormPostMiddleware(RequestDelegate next, Cluster cluster, ProxyOptions options)
{
    private const int MaxValueLength = 4096;

    /// <summary>Handles form uploads; passes everything else on.</summary>
    public async Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        if (!HttpMethods.IsPost(request.Method) || !MediaTypeHeaderValue.TryParse(request.ContentType, out var type)
            || !type.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase) || HeaderUtilities.RemoveQuotes(type.Boundary).Length == 0)
        {
            await next(context);
            return;
        }
        var path = SwiftPath.Of(context);
        if (path.Version != "v1")
        {
            // Not a Swift path: an S3 browser upload (POST Object) to /bucket, which the S3 API answers.
            await next(context);
            return;
        }
        try
        {
            var (status, message, redirect) = await TranslateAsync(context, path, HeaderUtilities.RemoveQuotes(type.Boundary).ToString());
            if (string.IsNullOrEmpty(redirect))
            {
                var body = message.Length > 0 ? $"{status}\r\nFormPost: {Title(message)}" : status;
                await Plain(context, int.Parse(status[..3], CultureInfo.InvariantCulture), body);
                return;
            }
            var location = redirect + (redirect.Contains('?') ? "&" : "?") + $"status={Uri.EscapeDataString(status[..3])}&message={Uri.EscapeDataString(message)}";
            context.Response.Headers.Location = location;
            await Plain(context, 303, $"<html><body><p><a href=\"{location}\">Click to continue...</a></p></body></html>", "text/html; charset=UTF-8");
        }
        catch (FormError e)
        {
            if (e.Status == 401) await Relay.StatusAsync(context, 401, $"FormPost: {Title(e.Message)}");
            else await Plain(context, 400, $"FormPost: {e.Message}");
        }
        catch (IOException) when (!context.RequestAborted.IsCancellationRequested)
        {
            await Plain(context, 400, "FormPost: invalid starting boundary");
        }
    }

    private static async Task Plain(HttpContext context, int status, string body, string type = "text/plain")
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = type;
        var bytes = Encoding.UTF8.GetBytes(body);
        context.Response.ContentLength = bytes.Length;
        await context.Response.Body.WriteAsync(bytes, context.RequestAborted);
    }

    /// <summary>Reads the form: attributes first, each file as it comes. Returns (status line, message, redirect).</summary>
    private async Task<(string Status, string Message, string? Redirect)> TranslateAsync(HttpContext context, SwiftPath path, string boundary)
    {
        var reader = new MultipartReader(boundary, context.Request.Body) { HeadersLengthLimit = 16 * 1024 };
        var attributes = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        string status = "", message = "";
        var files = 0;
        while (await reader.ReadNextSectionAsync(context.RequestAborted) is { } section)
        {
            var disposition = section.GetContentDispositionHeader();
            if (disposition is not null && disposition.IsFileDisposition())
            {
                files++;
                if (!int.TryParse(attributes.GetValueOrDefault("max_file_count", "0"), NumberStyles.None, CultureInfo.InvariantCulture, out var maxCount))
                    throw new FormError(400, "max_file_count not an integer");
                if (files > maxCount)
                {
                    (status, message) = ("400 Bad Request", "max file count exceeded");
                    break;
                }
                var name = HeaderUtilities.RemoveQuotes(disposition.FileName).ToString();
                status = await UploadAsync(context, path, attributes, name.Length > 0 ? name : "filename", section);
                if (!status.StartsWith('2')) break;
                continue;
            }
            var value = await ReadValueAsync(section.Body, context.RequestAborted);
            if (disposition?.Name.HasValue == true) attributes[HeaderUtilities.RemoveQuotes(disposition.Name).ToString().ToLowerInvariant()] = value.TrimEnd('\r', '\n', '-');
        }
        if (status.Length == 0) (status, message) = ("400 Bad Request", "no files to process");
        return (status, message, attributes.GetValueOrDefault("redirect"));
    }

    private async Task<string> UploadAsync(HttpContext context, SwiftPath path, Dictionary<string, string> attributes, string filename, MultipartSection section)
    {
        if (path.Account is null || path.Container is null || path.Version != "v1") throw new FormError(401, "invalid signature");
        var keys = await KeysAsync(context, path);
        if (keys.Count == 0) throw new FormError(401, "invalid signature");
        if (!long.TryParse(attributes.GetValueOrDefault("max_file_size", "0"), NumberStyles.None, CultureInfo.InvariantCulture, out var maxSize))
            throw new FormError(400, "max_file_size not an integer");
        if (!long.TryParse(attributes.GetValueOrDefault("expires", "0"), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var expires))
            throw new FormError(400, "expired not an integer");
        if (expires < DateTimeOffset.UtcNow.ToUnixTimeSeconds()) throw new FormError(401, "form expired");
        var signed = $"{context.Request.Path.Value}\n{attributes.GetValueOrDefault("redirect", "")}\n{Or0(attributes, "max_file_size")}\n{Or0(attributes, "max_file_count")}\n{Or0(attributes, "expires")}";
        if (!Verify(attributes.GetValueOrDefault("signature", ""), signed, keys)) throw new FormError(401, "invalid signature");

        var headers = new List<KeyValuePair<string, string>>();
        if (attributes.TryGetValue("x_delete_at", out var at))
        {
            if (!long.TryParse(at, NumberStyles.None, CultureInfo.InvariantCulture, out _)) throw new FormError(400, "x_delete_at not an integer: Unix timestamp required.");
            headers.Add(new("X-Delete-At", at));
        }
        if (attributes.TryGetValue("x_delete_after", out var after))
        {
            if (!long.TryParse(after, NumberStyles.None, CultureInfo.InvariantCulture, out _)) throw new FormError(400, "x_delete_after not an integer: Number of seconds required.");
            headers.Add(new("X-Delete-After", after));
        }
        var contentType = attributes.GetValueOrDefault("content-type") ?? section.ContentType;
        if (contentType is not null) headers.Add(new("Content-Type", contentType.Length > 0 ? contentType : "application/octet-stream"));
        if ((attributes.GetValueOrDefault("content-encoding") ?? section.Headers?.GetValueOrDefault("Content-Encoding").ToString()) is { Length: > 0 } encoding)
            headers.Add(new("Content-Encoding", encoding));
        headers.Add(new("Transfer-Encoding", "chunked"));
        // As Swift: the file name is appended to the path, after a '/' only when the path names just a container.
        var prefix = context.Request.Path.Value!;
        if (!prefix.EndsWith('/') && prefix.Count(c => c == '/') < 4) prefix += "/";
        var target = SwiftPath.QuoteKeepSlash(prefix + filename);
        var capped = new CappedStream(section.Body, maxSize);
        var response = await SubRequest.SendAsync(context, next, "PUT", target, headers, capped, null, (path.Account, path.Container));
        if (capped.Exceeded) throw new FormError(400, "max_file_size exceeded");
        return $"{response.Status} {ReasonOf(response.Status)}";
    }

    private static string Or0(Dictionary<string, string> attributes, string name) => attributes.GetValueOrDefault(name) is { Length: > 0 } v ? v : "0";

    private bool Verify(string signature, string body, List<string> keys)
    {
        var colon = signature.IndexOf(':');
        string algorithm;
        byte[] given;
        try
        {
            if (colon >= 0)
            {
                algorithm = signature[..colon];
                var b64 = signature[(colon + 1)..].Replace('-', '+').Replace('_', '/').TrimEnd('=');
                given = Convert.FromBase64String(b64 + new string('=', (4 - b64.Length % 4) % 4));
            }
            else
            {
                given = Convert.FromHexString(signature);
                algorithm = signature.Length switch { 40 => "sha1", 64 => "sha256", 128 => "sha512", _ => "" };
            }
        }
        catch (FormatException)
        {
            return false;
        }
        var valid = false;
        foreach (var key in keys)
        {
            var k = Encoding.UTF8.GetBytes(key);
            var m = Encoding.UTF8.GetBytes(body);
            byte[]? mac = algorithm switch
            {
                "sha1" => HMACSHA1.HashData(k, m),
                "sha256" => HMACSHA256.HashData(k, m),
                "sha512" => HMACSHA512.HashData(k, m),
                _ => null,
            };
            if (mac is not null && CryptographicOperations.FixedTimeEquals(mac, given)) valid = true;
        }
        return valid && options.TempUrlDigests.Contains(algorithm);
    }

    private async Task<List<string>> KeysAsync(HttpContext context, SwiftPath path)
    {
        var keys = new List<string>();
        var account = await cluster.GetAccountInfoAsync(path.Account!, cancellationToken: context.RequestAborted);
        var container = await cluster.GetContainerInfoAsync(path.Account!, path.Container!, cancellationToken: context.RequestAborted);
        foreach (var name in (string[])["Temp-Url-Key", "Temp-Url-Key-2"])
        {
            if (account.Meta(name) is { Length: > 0 } a) keys.Add(a);
            if (container.Meta(name) is { Length: > 0 } c) keys.Add(c);
        }
        return keys;
    }

    private static async Task<string> ReadValueAsync(Stream body, CancellationToken cancellationToken)
    {
        var buffer = new byte[MaxValueLength];
        var length = 0;
        int n;
        while (length < buffer.Length && (n = await body.ReadAsync(buffer.AsMemory(length), cancellationToken)) > 0) length += n;
        // Whatever is longer than the limit is read and dropped, as Swift does.
        var scratch = new byte[8192];
        while (await body.ReadAsync(scratch, cancellationToken) > 0) { }
        return Encoding.UTF8.GetString(buffer, 0, length);
    }

    private static string Title(string message)
        => string.Join(' ', message.Split(' ').Select(w => w.Length == 0 ? w : char.ToUpperInvariant(w[0]) + w[1..].ToLowerInvariant()));

    private static string ReasonOf(int status) => status switch
    {
        201 => "Created", 400 => "Bad Request", 401 => "Unauthorized", 403 => "Forbidden", 404 => "Not Found",
        411 => "Length Required", 413 => "Request Entity Too Large", 503 => "Service Unavailable", _ => "",
    };

    private sealed class FormError(int status, string message) : Exception(message)
    {
        public int Status { get; } = status;
    }

    /// <summary>A file's body, cut off (and marked) past max_file_size.</summary>
    private sealed class CappedStream(Stream inner, long cap) : Common.IO.ReadOnlyStream
    {
        private long _read;

        public bool Exceeded { get; private set; }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var n = await inner.ReadAsync(buffer, cancellationToken);
            _read += n;
            if (_read > cap)
            {
                Exceeded = true;
                throw new IOException("max_file_size exceeded");
            }
            return n;
        }

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();
    }
}
