using System.Text;
using Microsoft.AspNetCore.Http;

namespace StorageCloud.Storage.Listings;

/// <summary>The three listing formats, byte for byte as Swift writes them (Python's json.dumps, ElementTree, text lines).</summary>
public static class ListingFormat
{
    /// <summary>The response content type a listing request asks for: ?format= first, then Accept; plain by default.</summary>
    public static string ContentType(HttpRequest request)
    {
        var format = request.Query["format"].ToString().ToLowerInvariant();
        if (format.Length > 0)
        {
            return format switch
            {
                "json" => "application/json",
                "xml" => "application/xml",
                _ => "text/plain",
            };
        }
        var accept = request.Headers.Accept.ToString();
        foreach (var candidate in new[] { "application/json", "application/xml", "text/xml", "text/plain" })
            if (accept.Contains(candidate, StringComparison.OrdinalIgnoreCase)) return candidate;
        return "text/plain";
    }

    /// <summary>A string as Python's json.dumps writes it (ASCII only: everything else as \uXXXX).</summary>
    public static void JsonString(StringBuilder sb, string value)
    {
        sb.Append('"');
        foreach (var c in value)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                default:
                    if (c < 0x20 || c > 0x7e) sb.Append("\\u").Append(((int)c).ToString("x4", System.Globalization.CultureInfo.InvariantCulture));
                    else sb.Append(c);
                    break;
            }
        }
        sb.Append('"');
    }

    /// <summary>Text escaped as ElementTree escapes element text (and, with <paramref name="attribute"/>, attribute values).</summary>
    public static void XmlText(StringBuilder sb, string value, bool attribute = false)
    {
        foreach (var c in value)
        {
            switch (c)
            {
                case '&': sb.Append("&amp;"); break;
                case '<': sb.Append("&lt;"); break;
                case '>': sb.Append("&gt;"); break;
                case '"' when attribute: sb.Append("&quot;"); break;
                case '\n' when attribute: sb.Append("&#10;"); break;
                default: sb.Append(c); break;
            }
        }
    }

    /// <summary>The XML declaration Swift writes.</summary>
    public const string XmlDeclaration = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
}
