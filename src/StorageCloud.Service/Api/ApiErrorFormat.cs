using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace StorageCloud.Service.Api;

/// <summary>How an API writes an <see cref="ApiError"/>: each reference service has its own error body.</summary>
public abstract class ApiErrorFormat
{
    /// <summary>Keystone's: {"error": {"code", "title", "message"}}, and a 401 names the identity endpoint.</summary>
    public static readonly ApiErrorFormat Keystone = new KeystoneErrors();

    /// <summary>Nova's faults: {"itemNotFound": {"code": 404, "message": ...}} (429 is overLimit too; retryAfter when Retry-After is set).</summary>
    public static readonly ApiErrorFormat ComputeFault = new FaultErrors(tooManyRequestsIsOverLimit: true, "application/json; charset=UTF-8");

    /// <summary>Cinder's faults: Nova's shape and names, without 429, in plain application/json.</summary>
    public static readonly ApiErrorFormat VolumeFault = new FaultErrors(tooManyRequestsIsOverLimit: false, "application/json");

    /// <summary>Glance's: webob's error page, as JSON, HTML or text by the request's Accept header.</summary>
    public static readonly ApiErrorFormat Glance = new GlanceErrors();

    /// <summary>Neutron's: {"NeutronError": {"type", "message", "detail"}}.</summary>
    public static readonly ApiErrorFormat Neutron = new NeutronErrors();

    /// <summary>Writes the error.</summary>
    public abstract Task WriteAsync(HttpContext context, ApiError error);

    /// <summary>Nova's and Cinder's fault name for a status (anything unnamed is a computeFault).</summary>
    public static string FaultName(int status, bool tooManyRequestsIsOverLimit = true) => status switch
    {
        400 => "badRequest",
        401 => "unauthorized",
        403 => "forbidden",
        404 => "itemNotFound",
        405 => "badMethod",
        409 => "conflictingRequest",
        413 => "overLimit",
        415 => "badMediaType",
        429 when tooManyRequestsIsOverLimit => "overLimit",
        501 => "notImplemented",
        503 => "serviceUnavailable",
        _ => "computeFault",
    };

    private sealed class FaultErrors(bool tooManyRequestsIsOverLimit, string contentType) : ApiErrorFormat
    {
        public override async Task WriteAsync(HttpContext context, ApiError error)
        {
            var fault = new JsonObject { ["code"] = error.Status, ["message"] = error.Message };
            var retry = context.Response.Headers.RetryAfter.ToString();
            if (retry.Length > 0 && (error.Status == 413 || (error.Status == 429 && tooManyRequestsIsOverLimit)) && int.TryParse(retry, out var seconds))
                fault["retryAfter"] = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            await ApiResponses.WriteJsonAsync(context, error.Status, new JsonObject { [FaultName(error.Status, tooManyRequestsIsOverLimit)] = fault }, contentType);
        }
    }

    private sealed class GlanceErrors : ApiErrorFormat
    {
        public override Task WriteAsync(HttpContext context, ApiError error)
        {
            var status = $"{error.Status} {ApiError.Title(error.Status)}";
            var accept = context.Request.Headers.Accept.ToString();
            if (accept.Contains("application/json", StringComparison.OrdinalIgnoreCase))
            {
                return ApiResponses.WriteJsonAsync(context, error.Status, new JsonObject
                {
                    ["message"] = error.Message + "<br /><br />\n\n\n", ["code"] = status, ["title"] = ApiError.Title(error.Status),
                });
            }
            if (accept.Contains("text/html", StringComparison.OrdinalIgnoreCase) || accept.Contains("*/*", StringComparison.Ordinal))
            {
                var message = System.Net.WebUtility.HtmlEncode(error.Message);
                return ApiResponses.WriteTextAsync(context, error.Status, "text/html; charset=UTF-8",
                    $"<html>\n <head>\n  <title>{status}</title>\n </head>\n <body>\n  <h1>{status}</h1>\n  {message}<br /><br />\n\n\n\n </body>\n</html>");
            }
            return ApiResponses.WriteTextAsync(context, error.Status, "text/plain; charset=UTF-8", $"{status}\n\n{error.Message}\n\n   ");
        }
    }

    private sealed class NeutronErrors : ApiErrorFormat
    {
        public override Task WriteAsync(HttpContext context, ApiError error) =>
            ApiResponses.WriteJsonAsync(context, error.Status, new JsonObject
            {
                ["NeutronError"] = new JsonObject { ["type"] = error.Kind ?? DefaultKind(error.Status), ["message"] = error.Message, ["detail"] = "" },
            });

        private static string DefaultKind(int status) => status switch
        {
            400 => "HTTPBadRequest",
            401 => "HTTPUnauthorized",
            403 => "HTTPForbidden",
            404 => "HTTPNotFound",
            405 => "HTTPMethodNotAllowed",
            409 => "HTTPConflict",
            413 => "HTTPRequestEntityTooLarge",
            503 => "HTTPServiceUnavailable",
            _ => "HTTPInternalServerError",
        };
    }

    private sealed class KeystoneErrors : ApiErrorFormat
    {
        private const string ValidationSuffix =
            " The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.";

        public override Task WriteAsync(HttpContext context, ApiError error)
        {
            if (error.Status == 401) context.Response.Headers.WWWAuthenticate = $"Keystone uri=\"{context.Request.Scheme}://{context.Request.Host}/v3\"";
            return ApiResponses.WriteJsonAsync(context, error.Status, new JsonObject
            {
                ["error"] = new JsonObject
                {
                    ["code"] = error.Status,
                    ["message"] = error.IsValidation ? error.Message + ValidationSuffix : error.Message,
                    ["title"] = ApiError.Title(error.Status),
                },
            });
        }
    }
}
