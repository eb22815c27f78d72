using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace StorageCloud.Service.Api;

/// <summary>Writes an API's JSON answers.</summary>
public static class ApiResponses
{
    /// <summary>Writes a JSON answer (headers only for HEAD).</summary>
    public static Task WriteJsonAsync(HttpContext context, int status, JsonNode body, string contentType = "application/json")
        => WriteAsync(context, status, contentType, JsonSerializer.SerializeToUtf8Bytes(body));

    /// <summary>Writes a text answer (headers only for HEAD).</summary>
    public static Task WriteTextAsync(HttpContext context, int status, string contentType, string text)
        => WriteAsync(context, status, contentType, System.Text.Encoding.UTF8.GetBytes(text));

    private static async Task WriteAsync(HttpContext context, int status, string contentType, byte[] bytes)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = contentType;
        context.Response.ContentLength = bytes.Length;
        if (!HttpMethods.IsHead(context.Request.Method)) await context.Response.Body.WriteAsync(bytes, context.RequestAborted);
    }

    /// <summary>An answer with no body (204 unless told otherwise).</summary>
    public static Task NoContent(HttpContext context, int status = 204)
    {
        context.Response.StatusCode = status;
        return Task.CompletedTask;
    }
}
