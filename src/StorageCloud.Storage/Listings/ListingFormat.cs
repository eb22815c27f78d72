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

    /// <summary>How one kind of listing (container or account) writes its rows; the shared scaffolding is below.</summary>
    public sealed record Shape<TRow>(
        string XmlRoot,
        bool XmlNewlines,
        Action<StringBuilder, string, TRow> JsonRow,
        Action<StringBuilder, string, TRow> XmlRow,
        Action<StringBuilder, string> XmlSubdir);

    /// <summary>Renders a listing in the negotiated format: a JSON array, an XML document, or one name per line.</summary>
    public static byte[] Render<TRow>(List<ListingEntry<TRow>> listing, string contentType, string rootName, Shape<TRow> shape)
    {
        var sb = new StringBuilder();
        if (contentType.EndsWith("/json", StringComparison.Ordinal))
        {
            sb.Append('[');
            for (var i = 0; i < listing.Count; i++)
            {
                if (i > 0) sb.Append(", ");
                var e = listing[i];
                if (e.IsSubdir)
                {
                    sb.Append("{\"subdir\": ");
                    JsonString(sb, e.Name);
                    sb.Append('}');
                }
                else
                {
                    shape.JsonRow(sb, e.Name, e.Row!);
                }
            }
            sb.Append(']');
        }
        else if (contentType.EndsWith("/xml", StringComparison.Ordinal))
        {
            sb.Append(XmlDeclaration).Append('<').Append(shape.XmlRoot).Append(" name=\"");
            XmlText(sb, rootName, attribute: true);
            // ElementTree closes an element with no children and no text in itself.
            if (listing.Count == 0 && !shape.XmlNewlines) return Encoding.UTF8.GetBytes(sb.Append("\" />").ToString());
            sb.Append("\">");
            if (shape.XmlNewlines) sb.Append('\n');
            foreach (var e in listing)
            {
                if (e.IsSubdir) shape.XmlSubdir(sb, e.Name);
                else shape.XmlRow(sb, e.Name, e.Row!);
                if (shape.XmlNewlines) sb.Append('\n');
            }
            sb.Append("</").Append(shape.XmlRoot).Append('>');
        }
        else
        {
            foreach (var e in listing) sb.Append(e.Name).Append('\n');
        }
        return Encoding.UTF8.GetBytes(sb.ToString());
    }

    /// <summary>Writes a listing response as Swift's servers do: charset=utf-8, and 204 when the body is empty.</summary>
    public static async Task WriteAsync<TRow>(HttpContext context, List<ListingEntry<TRow>> listing, string rootName, Shape<TRow> shape)
    {
        var contentType = ContentType(context.Request);
        var body = Render(listing, contentType, rootName, shape);
        context.Response.ContentType = contentType + "; charset=utf-8";
        context.Response.ContentLength = body.Length;
        context.Response.StatusCode = body.Length == 0 ? 204 : 200;
        if (body.Length > 0) await context.Response.Body.WriteAsync(body);
    }

    /// <summary>
    /// Finishes a container or account GET/HEAD once its stats headers are set: HEAD is 204 (Swift answers HEAD with
    /// the stats alone); GET checks the listing parameters (412s), runs the listing and writes it.
    /// </summary>
    public static async Task AnswerAsync<TRow>(HttpContext context, ISortedRows<TRow> rows, int maxLimit, bool allowPath, string rootName, Shape<TRow> shape)
    {
        if (HttpMethods.IsHead(context.Request.Method))
        {
            context.Response.StatusCode = 204;
            return;
        }
        if (!ListingRequest.TryParse(context.Request, maxLimit, allowPath, out var query, out var status, out var error))
        {
            await Service.Http.SwiftResponses.WriteAsync(context, status, error);
            return;
        }
        await WriteAsync(context, Listing.Run(rows, query), rootName, shape);
    }
}
