using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using StorageCloud.Common.Http;
using StorageCloud.Service.Http;

namespace StorageCloud.Proxy.Middleware;

/// <summary>First in the proxy pipeline (Swift's catch_errors): any unhandled error becomes a 500 with Swift's body, never a dropped connection.</summary>
public sealed class CatchErrorsMiddleware(RequestDelegate next, ILogger<CatchErrorsMiddleware> logger)
{
    /// <summary>Runs the rest of the pipeline, catching what escapes it.</summary>
    public async Task InvokeAsync(HttpContext context)
    {
        try
        {
            await next(context);
        }
        catch (Exception e) when (!context.RequestAborted.IsCancellationRequested)
        {
            logger.LogError(e, "unhandled error in {Method} {Path}", context.Request.Method, context.Request.Path.Value);
            if (context.Response.HasStarted)
            {
                // The status is gone; cutting the connection is the only way left to tell the client the body is incomplete.
                context.Abort();
                return;
            }
            var id = TransactionIdMiddleware.Of(context);
            context.Response.Clear();
            if (id is not null)
            {
                context.Response.Headers["X-Trans-Id"] = id;
                context.Response.Headers["X-Openstack-Request-Id"] = id;
            }
            context.Response.StatusCode = 500;
            context.Response.ContentType = "text/plain";
            var body = "An error occurred"u8.ToArray();
            context.Response.ContentLength = body.Length;
            if (!HttpMethods.IsHead(context.Request.Method)) await context.Response.Body.WriteAsync(body);
        }
        catch (Exception) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away; there is nobody to answer.
        }
    }
}
