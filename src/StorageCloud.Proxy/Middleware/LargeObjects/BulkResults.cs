using System.Text;
using Microsoft.AspNetCore.Http;

namespace StorageCloud.Proxy.Middleware.LargeObjects;

/// <summary>Swift's bulk-style result bodies (bulk delete, extract archive, SLO upload and delete) in plain text, JSON or XML.</summary>
public static class BulkResults
{
    /// <summary>The format the client asked for with Accept: "application/json", "application/xml", "text/xml" or "text/plain".</summary>
    public static string Format(HttpRequest request)
    {
        var accept = request.Headers.Accept.ToString();
        if (accept.Contains("application/json", StringComparison.OrdinalIgnoreCase)) return "application/json";
        if (accept.Contains("application/xml", StringComparison.OrdinalIgnoreCase)) return "application/xml";
        if (accept.Contains("text/xml", StringComparison.OrdinalIgnoreCase)) return "text/xml";
        return "text/plain";
    }

    /// <summary>
    /// The body (Swift's get_response_body): JSON keeps the values in the order given, plain text and XML sort them
    /// by key; then the errors as (quoted name, status) pairs.
    /// </summary>
    public static byte[] Body(string format, OrderedDictionary<string, object> values, IReadOnlyList<(string Name, string Status)> errors, string rootTag)
    {
        if (format == "application/json")
        {
            var dict = new OrderedDictionary<string, object>(values) { ["Errors"] = errors.Select(e => new[] { e.Name, e.Status }).ToList() };
            return Encoding.UTF8.GetBytes(Common.Http.PythonJson.Serialize(dict));
        }
        var sorted = new SortedDictionary<string, object>(values, StringComparer.Ordinal);
        var sb = new StringBuilder();
        if (format.EndsWith("/xml", StringComparison.Ordinal))
        {
            sb.Append('<').Append(rootTag).Append(">\n");
            foreach (var (key, value) in sorted)
            {
                var tag = key.Replace(' ', '_').ToLowerInvariant();
                sb.Append('<').Append(tag).Append('>').Append(System.Security.SecurityElement.Escape(value.ToString())).Append("</").Append(tag).Append(">\n");
            }
            sb.Append("<errors>\n");
            foreach (var (name, status) in errors)
                sb.Append("<object><name>").Append(System.Security.SecurityElement.Escape(name)).Append("</name><status>").Append(System.Security.SecurityElement.Escape(status)).Append("</status></object>\n");
            sb.Append("</errors>\n</").Append(rootTag).Append(">\n");
            return Encoding.UTF8.GetBytes(sb.ToString());
        }
        foreach (var (key, value) in sorted) sb.Append(key).Append(": ").Append(value).Append('\n');
        sb.Append("Errors:\n");
        foreach (var (name, status) in errors) sb.Append(name).Append(", ").Append(status).Append('\n');
        return Encoding.UTF8.GetBytes(sb.ToString());
    }

    /// <summary>"404 Not Found" style status text.</summary>
    public static string StatusText(int status) => status switch
    {
        200 => "200 OK", 201 => "201 Created", 204 => "204 No Content", 400 => "400 Bad Request", 401 => "401 Unauthorized",
        403 => "403 Forbidden", 404 => "404 Not Found", 409 => "409 Conflict", 412 => "412 Precondition Failed",
        413 => "413 Request Entity Too Large", 422 => "422 Unprocessable Entity", 503 => "503 Service Unavailable",
        _ => $"{status}",
    };
}
