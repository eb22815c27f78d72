using System.Globalization;
using System.Security;
using System.Text;
using System.Xml;
using Microsoft.AspNetCore.Http;

namespace StorageCloud.Proxy.S3;

/// <summary>Builds S3's XML documents (namespace, declaration) and reads the small XML bodies clients send.</summary>
public sealed class S3Xml
{
    /// <summary>S3's XML namespace.</summary>
    public const string Namespace = "http://s3.amazonaws.com/doc/2006-03-01/";

    private readonly StringBuilder _sb = new(512);

    /// <summary>Starts a document with its root element in S3's namespace.</summary>
    public S3Xml(string root)
    {
        _sb.Append("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<").Append(root).Append(" xmlns=\"").Append(Namespace).Append("\">");
        Root = root;
    }

    private string Root { get; }

    /// <summary>&lt;name&gt;escaped value&lt;/name&gt;.</summary>
    public S3Xml Element(string name, string? value)
    {
        _sb.Append('<').Append(name).Append('>').Append(SecurityElement.Escape(value ?? "")).Append("</").Append(name).Append('>');
        return this;
    }

    /// <summary>An element holding a number.</summary>
    public S3Xml Element(string name, long value) => Element(name, value.ToString(CultureInfo.InvariantCulture));

    /// <summary>An element holding true or false.</summary>
    public S3Xml Element(string name, bool value) => Element(name, value ? "true" : "false");

    /// <summary>Appends markup as it is (already escaped by the caller).</summary>
    public S3Xml Raw(string markup)
    {
        _sb.Append(markup);
        return this;
    }

    /// <summary>Opens an element.</summary>
    public S3Xml Open(string name)
    {
        _sb.Append('<').Append(name).Append('>');
        return this;
    }

    /// <summary>Closes an element.</summary>
    public S3Xml Close(string name)
    {
        _sb.Append("</").Append(name).Append('>');
        return this;
    }

    /// <summary>The finished document.</summary>
    public byte[] ToBytes() => Encoding.UTF8.GetBytes(_sb.ToString() + "</" + Root + ">");

    /// <summary>Writes the document as the response (status 200 unless given).</summary>
    public async Task WriteAsync(HttpContext context, int status = 200)
    {
        var bytes = ToBytes();
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/xml";
        context.Response.ContentLength = bytes.Length;
        await context.Response.Body.WriteAsync(bytes, context.RequestAborted);
    }

    /// <summary>S3's timestamp format in listings: 2026-11-22T10:13:11.000Z.</summary>
    public static string Time(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    /// <summary>Parses a Swift listing's last_modified ("2026-11-22T10:13:11.123456") as UTC.</summary>
    public static DateTimeOffset ParseSwiftTime(string? text) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var t) ? t : DateTimeOffset.UnixEpoch;

    /// <summary>Reads a client's XML body (at most <paramref name="limit"/> bytes); MalformedXML when it is not XML.</summary>
    public static async Task<XmlDocument> ReadAsync(HttpContext context, int limit = 2 * 1024 * 1024)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int n;
        while ((n = await context.Request.Body.ReadAsync(chunk, context.RequestAborted)) > 0)
        {
            if (buffer.Length + n > limit) throw new S3Error("MalformedXML", 400, "The XML you provided was not well-formed or did not validate against our published schema.");
            buffer.Write(chunk, 0, n);
        }
        // Whitespace is kept: an object key may be a space.
        var document = new XmlDocument { XmlResolver = null, PreserveWhitespace = true };
        try
        {
            buffer.Position = 0;
            using var reader = XmlReader.Create(buffer, new XmlReaderSettings { DtdProcessing = DtdProcessing.Prohibit, XmlResolver = null });
            document.Load(reader);
        }
        catch (XmlException)
        {
            throw new S3Error("MalformedXML", 400, "The XML you provided was not well-formed or did not validate against our published schema.");
        }
        return document;
    }

    /// <summary>The child elements of a node with this local name (namespace ignored, as S3 clients vary).</summary>
    public static IEnumerable<XmlElement> Children(XmlNode parent, string name)
    {
        foreach (XmlNode child in parent.ChildNodes)
            if (child is XmlElement e && e.LocalName == name) yield return e;
    }

    /// <summary>The text of the first child element with this local name, or null.</summary>
    public static string? ChildText(XmlNode parent, string name)
    {
        foreach (var e in Children(parent, name)) return e.InnerText;
        return null;
    }
}
