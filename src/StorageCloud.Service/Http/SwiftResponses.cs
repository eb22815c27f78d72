using System.Text;
using Microsoft.AspNetCore.Http;

namespace StorageCloud.Service.Http;

/// <summary>Swift's standard error responses: its reason phrases and its small HTML bodies (swob's RESPONSE_REASONS).</summary>
public static class SwiftResponses
{
    private static readonly Dictionary<int, (string Title, string Explanation)> Reasons = new()
    {
        [202] = ("Accepted", "The request is accepted for processing."),
        [301] = ("Moved Permanently", "The resource has moved permanently."),
        [303] = ("See Other", "The response to the request can be found under a different URI."),
        [307] = ("Temporary Redirect", "The resource has moved temporarily."),
        [400] = ("Bad Request", "The server could not comply with the request since it is either malformed or otherwise incorrect."),
        [401] = ("Unauthorized", "This server could not verify that you are authorized to access the document you requested."),
        [403] = ("Forbidden", "Access was denied to this resource."),
        [404] = ("Not Found", "The resource could not be found."),
        [405] = ("Method Not Allowed", "The method is not allowed for this resource."),
        [408] = ("Request Timeout", "The server has waited too long for the request to be sent by the client."),
        [409] = ("Conflict", "There was a conflict when trying to complete your request."),
        [411] = ("Length Required", "Content-Length header required."),
        [412] = ("Precondition Failed", "A precondition for this request was not met."),
        [413] = ("Request Entity Too Large", "The body of your request was too large for this server."),
        [416] = ("Requested Range Not Satisfiable", "The Range requested is not available."),
        [422] = ("Unprocessable Entity", "Unable to process the contained instructions"),
        [499] = ("Client Disconnect", "The client was disconnected during request."),
        [500] = ("Internal Error", "The server has either erred or is incapable of performing the requested operation."),
        [503] = ("Service Unavailable", "The server is currently unavailable. Please try again at a later time."),
        [507] = ("Insufficient Storage", "There was not enough space to save the resource. Drive: {0}"),
    };

    /// <summary>
    /// Writes a status with Swift's HTML body for it (GET-type answers), or <paramref name="plainBody"/> as
    /// text/plain when Swift answers with a message of its own. HEAD gets the headers only.
    /// </summary>
    public static Task WriteAsync(HttpContext context, int status, string? plainBody = null, string? drive = null)
    {
        var response = context.Response;
        response.StatusCode = status;
        SetReason(context, status);
        byte[] body;
        if (plainBody is not null)
        {
            response.ContentType = "text/plain";
            body = Encoding.UTF8.GetBytes(plainBody);
        }
        else if (Reasons.TryGetValue(status, out var reason))
        {
            response.ContentType = "text/html; charset=UTF-8";
            var explanation = drive is null ? reason.Explanation : string.Format(System.Globalization.CultureInfo.InvariantCulture, reason.Explanation, drive);
            body = Encoding.UTF8.GetBytes($"<html><h1>{reason.Title}</h1><p>{explanation}</p></html>");
        }
        else
        {
            // Swift's bodiless answers (201, 204) still say text/html.
            response.ContentType = "text/html; charset=UTF-8";
            body = [];
        }
        response.ContentLength = body.Length;
        return HttpMethods.IsHead(context.Request.Method) || body.Length == 0 ? Task.CompletedTask : response.Body.WriteAsync(body).AsTask();
    }

    /// <summary>Uses Swift's reason phrase for the status line (Kestrel's differ for 413, 416 and 499).</summary>
    public static void SetReason(HttpContext context, int status)
    {
        if (Reasons.TryGetValue(status, out var reason) && context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpResponseFeature>() is { } feature)
            feature.ReasonPhrase = reason.Title;
    }

    /// <summary>An HTTP date (RFC 7231) for Unix seconds.</summary>
    public static string HttpDate(long unixSeconds) => DateTimeOffset.FromUnixTimeSeconds(unixSeconds).ToString("R", System.Globalization.CultureInfo.InvariantCulture);
}
