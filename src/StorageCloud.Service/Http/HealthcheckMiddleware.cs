using Microsoft.AspNetCore.Http;

namespace StorageCloud.Service.Http;

/// <summary>
/// Swift's healthcheck: GET or HEAD /healthcheck answers 200 "OK", or 503 "DISABLED BY FILE" while the
/// operator's disable file exists, so a load balancer can drain a node without stopping it.
/// </summary>
public sealed class HealthcheckMiddleware(RequestDelegate next, HealthcheckOptions options)
{
    /// <summary>Answers /healthcheck and passes everything else on.</summary>
    public Task InvokeAsync(HttpContext context)
    {
        if (context.Request.Path != "/healthcheck") return next(context);
        var disabled = options.DisablePath is { Length: > 0 } path && File.Exists(path);
        var body = disabled ? "DISABLED BY FILE" : "OK";
        context.Response.StatusCode = disabled ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status200OK;
        context.Response.ContentType = "text/plain";
        context.Response.ContentLength = body.Length;
        return HttpMethods.IsHead(context.Request.Method) ? Task.CompletedTask : context.Response.WriteAsync(body);
    }
}

/// <summary>Settings of <see cref="HealthcheckMiddleware"/>.</summary>
public sealed record HealthcheckOptions
{
    /// <summary>While a file exists at this path, /healthcheck answers 503.</summary>
    public string? DisablePath { get; init; }
}
