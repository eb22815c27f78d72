using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace StorageCloud.Service.Http;

/// <summary>
/// The capabilities document served at /info, as Swift's register_swift_info builds it: one section per
/// feature ("swift" for the core), each a JSON object of that feature's settings.
/// </summary>
public sealed class SwiftInfo
{
    private readonly ConcurrentDictionary<string, IReadOnlyDictionary<string, object>> _sections = new(StringComparer.Ordinal);

    /// <summary>Adds or replaces the settings published for <paramref name="section"/>.</summary>
    public void Register(string section, IReadOnlyDictionary<string, object> settings) => _sections[section] = settings;

    /// <summary>The sections registered so far.</summary>
    public IReadOnlyCollection<string> Sections => [.. _sections.Keys];

    /// <summary>The whole document as UTF-8 JSON, sections in name order.</summary>
    public byte[] ToJson()
    {
        var ordered = new SortedDictionary<string, IReadOnlyDictionary<string, object>>(_sections, StringComparer.Ordinal);
        return JsonSerializer.SerializeToUtf8Bytes(ordered);
    }
}

/// <summary>Serves <see cref="SwiftInfo"/> at GET/HEAD /info; other methods get 405 with Allow, as Swift answers.</summary>
public sealed class SwiftInfoMiddleware(RequestDelegate next, SwiftInfo info)
{
    /// <summary>Answers /info and passes everything else on.</summary>
    public Task InvokeAsync(HttpContext context)
    {
        if (context.Request.Path != "/info") return next(context);
        var method = context.Request.Method;
        if (!HttpMethods.IsGet(method) && !HttpMethods.IsHead(method))
        {
            context.Response.StatusCode = StatusCodes.Status405MethodNotAllowed;
            context.Response.Headers.Allow = "GET, HEAD";
            return Task.CompletedTask;
        }
        var body = info.ToJson();
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/json; charset=UTF-8";
        context.Response.ContentLength = body.Length;
        return HttpMethods.IsHead(method) ? Task.CompletedTask : context.Response.Body.WriteAsync(body).AsTask();
    }
}
