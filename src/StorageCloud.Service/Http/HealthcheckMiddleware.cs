using Microsoft.AspNetCore.Http;

namespace StorageCloud.Service.Http;

/// <summary>
/// Swift's healthcheck: GET or HEAD /healthcheck answers 200 "OK", or 503 "DISABLED BY FILE" while the
/// operator's disable file exists, so a load balancer can drain a node without stopping it; a service's own
/// check (its database unreachable, say) answers 503 with the problem.
/// </summary>
public sealed class HealthcheckMiddleware(RequestDelegate next, HealthcheckOptions options)
{
    /// <summary>Answers /healthcheck and passes everything else on.</summary>
    public async Task InvokeAsync(HttpContext context)
    {
        if (context.Request.Path != "/healthcheck")
        {
            await next(context);
            return;
        }
        var problem = options.DisablePath is { Length: > 0 } path && File.Exists(path) ? "DISABLED BY FILE"
            : options.Check is { } check ? await check(context.RequestServices, context.RequestAborted) : null;
        var body = problem ?? "OK";
        context.Response.StatusCode = problem is null ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable;
        context.Response.ContentType = "text/plain";
        context.Response.ContentLength = System.Text.Encoding.UTF8.GetByteCount(body);
        if (!HttpMethods.IsHead(context.Request.Method)) await context.Response.WriteAsync(body);
    }
}

/// <summary>Settings of <see cref="HealthcheckMiddleware"/>.</summary>
public sealed record HealthcheckOptions
{
    /// <summary>While a file exists at this path, /healthcheck answers 503.</summary>
    public string? DisablePath { get; init; }

    /// <summary>The service's own check: null when healthy, else the problem.</summary>
    public Func<IServiceProvider, CancellationToken, ValueTask<string?>>? Check { get; init; }
}
