using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using StorageCloud.Common.Text;

namespace StorageCloud.Proxy;

/// <summary>
/// A Swift API path, /version/account[/container[/object]], percent-decoded from the raw request target so that
/// encoded slashes stay inside names. Parsed once per request and kept in the context.
/// </summary>
public sealed record SwiftPath(string Version, string? Account, string? Container, string? Object, bool ValidUtf8)
{
    private const string ItemKey = "storagecloud.swift_path";

    /// <summary>The path of the request, parsed on first use.</summary>
    public static SwiftPath Of(HttpContext context)
    {
        if (context.Items[ItemKey] is SwiftPath path) return path;
        var raw = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? context.Request.Path.Value ?? "/";
        path = Parse(raw);
        context.Items[ItemKey] = path;
        return path;
    }

    /// <summary>Points the request at another path (a middleware serving an index page or an error page instead).</summary>
    public static void Rewrite(HttpContext context, string rawTarget)
    {
        if (context.Features.Get<IHttpRequestFeature>() is { } feature)
        {
            feature.RawTarget = rawTarget;
            var q = rawTarget.IndexOf('?');
            feature.Path = Uri.UnescapeDataString(q < 0 ? rawTarget : rawTarget[..q]);
        }
        context.Items.Remove(ItemKey);
    }

    /// <summary>Parses a raw target (query ignored); empty trailing names count as absent, as Swift's split_path does.</summary>
    public static SwiftPath Parse(string rawTarget)
    {
        var q = rawTarget.IndexOf('?');
        var target = q < 0 ? rawTarget : rawTarget[..q];
        // One leading slash: "//v1/account" has an empty version, which Swift's split_path refuses (404).
        var parts = (target.StartsWith('/') ? target[1..] : target).Split('/', 4);
        var valid = true;
        string? Part(int i)
        {
            if (i >= parts.Length || parts[i].Length == 0) return null;
            var ok = PercentEncoding.TryDecode(parts[i], out var decoded);
            // Reserved names (the cluster's own hidden containers) are as out of reach as NUL is.
            valid &= ok && !decoded.Contains('\0') && (i == 0 || decoded[0] != Common.Http.BackendPath.ReservedPrefix);
            return decoded;
        }
        return new SwiftPath(Part(0) ?? "", Part(1), Part(2), Part(3), valid);
    }

    /// <summary>"/v1/account[/container[/object]]" for this path, percent-quoted for a URL.</summary>
    public string ToUrlPath()
    {
        var sb = new StringBuilder("/").Append(Version);
        if (Account is not null) sb.Append('/').Append(QuoteKeepSlash(Account));
        if (Container is not null) sb.Append('/').Append(QuoteKeepSlash(Container));
        if (Object is not null) sb.Append('/').Append(QuoteKeepSlash(Object));
        return sb.ToString();
    }

    /// <summary>Percent-quotes a name for a URL, leaving '/' as it is (Swift's quote()).</summary>
    public static string QuoteKeepSlash(string name) => PercentEncoding.QuoteKeepSlash(name);
}
