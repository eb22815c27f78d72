using System.Diagnostics;
using System.Text;
using Microsoft.AspNetCore.Http;
using StorageCloud.Common.Metrics;

namespace StorageCloud.Service.Http;

/// <summary>
/// Every role's request metrics (count by method and status, latency by method, bytes in and out as Content-Length
/// declares them) and its <c>GET /metrics</c>: the process's metrics in Prometheus's text format. /metrics is public,
/// as /healthcheck is, and answers only requests that carry no credentials, so an authenticated request for an S3
/// bucket named "metrics" still reaches the proxy (docs/metrics.md).
/// </summary>
public sealed class MetricsMiddleware(RequestDelegate next, string service)
{
    private static readonly Counter Requests = MetricsRegistry.Default.Counter("storagecloud_http_requests_total",
        "HTTP requests answered, by role, method and status", "service", "method", "status");
    private static readonly Histogram Latency = MetricsRegistry.Default.Histogram("storagecloud_http_request_duration_seconds",
        "time from a request's arrival to the end of its answer, by role and method", Metric.LatencyBuckets, "service", "method");
    private static readonly Counter BytesIn = MetricsRegistry.Default.Counter("storagecloud_http_request_bytes_total",
        "request body bytes, as Content-Length declares them, by role", "service");
    private static readonly Counter BytesOut = MetricsRegistry.Default.Counter("storagecloud_http_response_bytes_total",
        "response body bytes, as Content-Length declares them (streamed answers without one are not counted), by role", "service");

    /// <summary>Status codes as label values, made once.</summary>
    private static readonly string[] StatusTexts = MakeStatusTexts();

    private static string[] MakeStatusTexts()
    {
        var texts = new string[600];
        for (var i = 0; i < texts.Length; i++) texts[i] = i.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return texts;
    }

    /// <summary>Answers /metrics, or passes the request on and records it.</summary>
    public async Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        if (request.Path.Value == "/metrics" && (HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method)) && !HasCredentials(request))
        {
            var text = Encoding.UTF8.GetBytes(MetricsRegistry.Default.Expose());
            context.Response.StatusCode = 200;
            context.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
            context.Response.ContentLength = text.Length;
            if (HttpMethods.IsGet(request.Method)) await context.Response.Body.WriteAsync(text);
            return;
        }
        var started = Stopwatch.GetTimestamp();
        try
        {
            await next(context);
        }
        finally
        {
            var method = MethodLabel(request.Method);
            var status = context.Response.StatusCode;
            Requests.Add(new LabelValues(service, method, status is >= 0 and < 600 ? StatusTexts[status] : "other"));
            Latency.Observe(new LabelValues(service, method), Stopwatch.GetElapsedTime(started).TotalSeconds);
            if (request.ContentLength is > 0 and var inBytes) BytesIn.Add(new LabelValues(service), inBytes);
            if (context.Response.ContentLength is > 0 and var outBytes && !HttpMethods.IsHead(request.Method)) BytesOut.Add(new LabelValues(service), outBytes);
        }
    }

    private static bool HasCredentials(HttpRequest request) =>
        request.Headers.ContainsKey("Authorization") || request.Headers.ContainsKey("X-Auth-Token") || request.QueryString.HasValue;

    /// <summary>The method as a label: the verbs the APIs use, anything else "other" (a label must not take any string a client sends).</summary>
    private static string MethodLabel(string method) => method switch
    {
        "GET" => "GET",
        "PUT" => "PUT",
        "POST" => "POST",
        "DELETE" => "DELETE",
        "HEAD" => "HEAD",
        "PATCH" => "PATCH",
        "COPY" => "COPY",
        "OPTIONS" => "OPTIONS",
        _ => "other",
    };
}
