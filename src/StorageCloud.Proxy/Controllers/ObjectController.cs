using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.StaticFiles;
using StorageCloud.Common.Constraints;
using StorageCloud.Common.Http;
using StorageCloud.Service.Http;
using StorageCloud.ObjectLayer;
using StorageCloud.Proxy.Auth;

namespace StorageCloud.Proxy.Controllers;

/// <summary>
/// Swift's object API: PUT (streamed to every replica, or copied with X-Copy-From), GET and HEAD (failing over
/// between replicas), POST (metadata), DELETE and COPY.
/// </summary>
public sealed partial class ObjectController(Cluster cluster, SwiftAuthorizer authorizer, ProxyOptions options, IEnumerable<IObjectReadFilter> readFilters)
{
    /// <summary>Methods an object answers, for Allow headers.</summary>
    public const string Allowed = "COPY, DELETE, GET, HEAD, OPTIONS, POST, PUT";

    private static readonly FileExtensionContentTypeProvider ContentTypes = SwiftContentTypes();

    /// <summary>
    /// The types Swift guesses from a name: Python's mimetypes, which reads the system's /etc/mime.types over its own
    /// table; ASP.NET's table is the base, corrected where Python's differs for common types.
    /// </summary>
    private static FileExtensionContentTypeProvider SwiftContentTypes()
    {
        var provider = new FileExtensionContentTypeProvider();
        provider.Mappings[".wav"] = "audio/x-wav";
        provider.Mappings[".zip"] = "application/zip";
        const string system = "/etc/mime.types";
        if (!File.Exists(system)) return provider;
        foreach (var line in File.ReadLines(system))
        {
            if (line.Length == 0 || line[0] == '#') continue;
            var fields = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            for (var i = 1; i < fields.Length; i++) provider.Mappings["." + fields[i]] = fields[0];
        }
        return provider;
    }

    /// <summary>Handles a request for /v1/account/container/object.</summary>
    public async Task HandleAsync(HttpContext context, SwiftPath path)
    {
        var method = context.Request.Method;
        if (method is not ("GET" or "HEAD" or "PUT" or "POST" or "DELETE" or "OPTIONS"))
        {
            context.Response.Headers.Allow = Allowed;
            await Relay.StatusAsync(context, 405);
            return;
        }
        if (method == "OPTIONS")
        {
            context.Response.Headers.Allow = Allowed;
            await Relay.StatusAsync(context, 200);
            return;
        }
        var info = await cluster.GetContainerInfoAsync(path.Account!, path.Container!, cancellationToken: context.RequestAborted);
        if (method == "PUT" && context.Request.Headers.ContainsKey("X-Copy-From"))
        {
            await CopyAsync(context, path, info, context.Request.Headers["X-Copy-From"].ToString(), context.Request.Headers["X-Copy-From-Account"].ToString());
            return;
        }
        var read = method is "GET" or "HEAD";
        if (await authorizer.AuthorizeAsync(context, path, read ? info.ReadAcl : info.WriteAcl) is { } denial)
        {
            await Relay.DenyAsync(context, denial, path);
            return;
        }
        if (read)
        {
            await GetAsync(context, path);
            return;
        }
        if (!info.Exists)
        {
            await Relay.StatusAsync(context, info.Status == 404 ? 404 : 503);
            return;
        }
        switch (method)
        {
            case "PUT":
                await PutAsync(context, path);
                break;
            case "POST":
                await PostAsync(context, path);
                break;
            default:
                await DeleteAsync(context, path);
                break;
        }
    }

    private async Task GetAsync(HttpContext context, SwiftPath path)
    {
        var newest = context.Request.Headers["X-Newest"].ToString().Equals("true", StringComparison.OrdinalIgnoreCase);
        var headers = Relay.BackendHeaders(context);
        foreach (var filter in readFilters) filter.PrepareRead(context, headers);
        using var response = await cluster.ObjectReadAsync(new HttpMethod(context.Request.Method), path.Account!, path.Container!, path.Object!,
            headers, newest, context.RequestAborted);
        foreach (var filter in readFilters)
            if (await filter.TryAnswerAsync(context, path, response)) return;
        await Relay.WriteAsync(context, response, SwiftAuthState.Of(context).Owner);
    }

    private async Task PutAsync(HttpContext context, SwiftPath path)
    {
        var request = context.Request;
        if (CheckCreation(context, path, request.ContentLength) is { } problem)
        {
            await WriteProblemAsync(context, problem);
            return;
        }
        // (Before the headers are taken: it replaces the request's X-Delete-At.)
        var deleteAt = DeleteAtHeader(context);
        var headers = Relay.BackendHeaders(context, name => name.Equals("X-Delete-After", StringComparison.OrdinalIgnoreCase)
            || name.Equals("Content-Type", StringComparison.OrdinalIgnoreCase) || name.Equals("X-Detect-Content-Type", StringComparison.OrdinalIgnoreCase));
        headers.Add(new("Content-Type", ChooseContentType(request.Headers, path.Object!)));
        if (deleteAt is { } expiry) headers.Add(expiry);
        using var result = await cluster.PutObjectAsync(path.Account!, path.Container!, path.Object!, headers, request.Body,
            request.ContentLength, options.Constraints.MaxFileSize, context.RequestAborted);
        await AnswerPutAsync(context, result);
    }

    private static async Task AnswerPutAsync(HttpContext context, PutResult result)
    {
        if (result.Status == 413)
        {
            await Relay.StatusAsync(context, 413, "Your request is too large.");
            return;
        }
        if (result.Status == 201)
        {
            context.Response.Headers.ETag = result.ETag;
            if (result.Best?.Header("Last-Modified") is { } modified) context.Response.Headers.LastModified = modified;
            else context.Response.Headers.LastModified = SwiftResponses.HttpDate(DateTimeOffset.UtcNow.ToUnixTimeSeconds());
        }
        await Relay.WriteStatusAsync(context, result.Status);
    }

    private async Task PostAsync(HttpContext context, SwiftPath path)
    {
        if (MetadataRules.Check(context.Request.Headers, "Object", options.Constraints) is { } problem)
        {
            await Relay.StatusAsync(context, 400, problem);
            return;
        }
        if (DeleteAtProblem(context) is { } deleteProblem)
        {
            await Relay.StatusAsync(context, 400, deleteProblem);
            return;
        }
        var deleteAt = DeleteAtHeader(context);
        var headers = Relay.BackendHeaders(context, name => name.Equals("X-Delete-After", StringComparison.OrdinalIgnoreCase));
        if (deleteAt is { } expiry) headers.Add(expiry);
        using var result = await cluster.ObjectWriteAsync(HttpMethod.Post, path.Account!, path.Container!, path.Object!, headers, context.RequestAborted);
        await Relay.WriteStatusAsync(context, result.Status);
    }

    private async Task DeleteAsync(HttpContext context, SwiftPath path)
    {
        using var result = await cluster.ObjectWriteAsync(HttpMethod.Delete, path.Account!, path.Container!, path.Object!, Relay.BackendHeaders(context), context.RequestAborted);
        await Relay.WriteStatusAsync(context, result.Status);
    }

    /// <summary>A problem with a new object's request: its status and Swift's text (null text: the standard body).</summary>
    private sealed record Problem(int Status, string? Text);

    private static Task WriteProblemAsync(HttpContext context, Problem problem) => Relay.StatusAsync(context, problem.Status, problem.Text);

    /// <summary>Swift's check_object_creation plus the proxy's body checks, in Swift's order.</summary>
    private Problem? CheckCreation(HttpContext context, SwiftPath path, long? length)
    {
        var request = context.Request;
        var transferEncoding = request.Headers.TransferEncoding.ToString();
        var chunked = transferEncoding.Equals("chunked", StringComparison.OrdinalIgnoreCase);
        if (transferEncoding.Length > 0 && !chunked) return new Problem(501, "Not Implemented");
        if (length is null && !chunked) return new Problem(411, null);
        if (length > options.Constraints.MaxFileSize) return new Problem(413, "Your request is too large.");
        var nameBytes = Encoding.UTF8.GetByteCount(path.Object!);
        if (nameBytes > options.Constraints.MaxObjectNameLength)
            return new Problem(400, $"Object name length of {nameBytes} longer than {options.Constraints.MaxObjectNameLength}");
        if (MetadataRules.Check(request.Headers, "Object", options.Constraints) is { } meta) return new Problem(400, meta);
        if (DeleteAtProblem(context) is { } deleteAt) return new Problem(400, deleteAt);
        // A write can only be conditional on there being no object at all, as in Swift.
        if (request.Headers.IfNoneMatch.ToString() is { Length: > 0 } noneMatch && !Array.Exists(noneMatch.Split(','), e => e.Trim() == "*"))
            return new Problem(400, "If-None-Match only supports *");
        return null;
    }

    /// <summary>Swift's X-Delete-After / X-Delete-At checks: its 400 text, or null.</summary>
    private static string? DeleteAtProblem(HttpContext context)
    {
        var h = context.Request.Headers;
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        if (h["X-Delete-After"].ToString() is { Length: > 0 } after)
        {
            if (!long.TryParse(after, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var seconds)) return "Non-integer X-Delete-After";
            if (seconds < 0) return "X-Delete-After in past";
            return null;
        }
        if (h["X-Delete-At"].ToString() is { Length: > 0 } at)
        {
            if (IsFarFuture(at)) return null;
            if (!long.TryParse(at, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var when)) return "Non-integer X-Delete-At";
            if (when < now) return "X-Delete-At in past";
        }
        return null;
    }

    /// <summary>The latest time an expiry can name (Swift's normalize_delete_at_timestamp clamps to ten digits).</summary>
    private const long LatestDeleteAt = 9_999_999_999;

    /// <summary>A whole number past <see cref="LatestDeleteAt"/>, however many digits it has.</summary>
    private static bool IsFarFuture(string value)
    {
        var digits = value.AsSpan().TrimStart('+');
        foreach (var c in digits)
            if (c is < '0' or > '9') return false;
        digits = digits.TrimStart('0');
        return digits.Length > 10 || (digits.Length == 10 && long.Parse(digits, CultureInfo.InvariantCulture) > LatestDeleteAt);
    }

    /// <summary>X-Delete-After turned into the X-Delete-At the object servers keep.</summary>
    private static KeyValuePair<string, string>? DeleteAtHeader(HttpContext context)
    {
        if (context.Request.Headers["X-Delete-After"].ToString() is not { Length: > 0 } after)
        {
            if (!IsFarFuture(context.Request.Headers["X-Delete-At"].ToString())) return null;
            context.Request.Headers.Remove("X-Delete-At");
            return new("X-Delete-At", LatestDeleteAt.ToString(CultureInfo.InvariantCulture));
        }
        var seconds = long.Parse(after, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        var at = DateTimeOffset.UtcNow.ToUnixTimeSeconds() + Math.Max(1, seconds);
        context.Request.Headers.Remove("X-Delete-At");
        return new("X-Delete-At", at.ToString(CultureInfo.InvariantCulture));
    }

    /// <summary>The client's Content-Type, or one guessed from the name's extension when absent or asked for.</summary>
    private static string ChooseContentType(IHeaderDictionary headers, string name)
    {
        var given = headers.ContentType.ToString();
        var detect = headers["X-Detect-Content-Type"].ToString().Equals("true", StringComparison.OrdinalIgnoreCase);
        if (given.Length > 0 && !detect) return given;
        return ContentTypes.TryGetContentType(name, out var guessed) ? guessed : "application/octet-stream";
    }
}
