using System.Diagnostics;
using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using StorageCloud.Common.Http;
using StorageCloud.Service.Http;

namespace StorageCloud.Proxy.Middleware;

/// <summary>
/// One access-log line per request in Swift's proxy_logging field order: client, remote address, time, method,
/// path, protocol, status, referer, user agent, token, bytes in, bytes out, client ETag, transaction id, headers,
/// duration. Query strings (temp URL signatures) and tokens are never logged.
/// </summary>
public sealed class ProxyLoggingMiddleware(RequestDelegate next, ILogger<ProxyLoggingMiddleware> logger)
{
    /// <summary>Runs the rest of the pipeline and logs it.</summary>
    public async Task InvokeAsync(HttpContext context)
    {
        var started = Stopwatch.GetTimestamp();
        var startTime = DateTimeOffset.UtcNow;
        try
        {
            await next(context);
        }
        finally
        {
            var request = context.Request;
            var bytesIn = request.ContentLength?.ToString(CultureInfo.InvariantCulture) ?? "-";
            var duration = Stopwatch.GetElapsedTime(started).TotalSeconds;
            var client = request.Headers["X-Forwarded-For"].ToString() is { Length: > 0 } fwd ? fwd.Split(',')[0].Trim() : context.Connection.RemoteIpAddress?.ToString() ?? "-";
            logger.LogInformation(
                "{Client} {Remote} {Time} {Method} {Path} {Protocol} {Status} {Referer} {UserAgent} {Token} {BytesIn} {BytesOut} {ETag} {TransId} {Headers} {Duration} {Source}",
                client,
                context.Connection.RemoteIpAddress?.ToString() ?? "-",
                startTime.ToString("dd/MMM/yyyy/HH/mm/ss", CultureInfo.InvariantCulture),
                request.Method,
                Dash(request.Path.Value),
                request.Protocol,
                context.Response.StatusCode,
                Dash(request.Headers.Referer.ToString()),
                Dash(request.Headers.UserAgent.ToString()),
                // Tokens are secrets: the log says only whether one was sent.
                request.Headers.ContainsKey("X-Auth-Token") || request.Headers.ContainsKey("X-Storage-Token") ? "token" : "-",
                bytesIn,
                context.Response.ContentLength?.ToString(CultureInfo.InvariantCulture) ?? "-",
                Dash(request.Headers.ETag.ToString()),
                TransactionIdMiddleware.Of(context) ?? "-",
                "-",
                duration.ToString("F4", CultureInfo.InvariantCulture),
                "-");
        }
    }

    private static string Dash(string? value) => string.IsNullOrEmpty(value) ? "-" : Common.Text.PercentEncoding.QuoteKeepSlash(value);
}
