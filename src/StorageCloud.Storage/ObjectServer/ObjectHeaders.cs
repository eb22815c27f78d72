using Microsoft.AspNetCore.Http;
using StorageCloud.Common.Constraints;

namespace StorageCloud.Storage.ObjectServer;

/// <summary>Which request headers an object keeps, and Swift's checks on them.</summary>
public static class ObjectHeaders
{
    /// <summary>Headers besides metadata that a PUT or POST stores and a GET returns (Swift's allowed_headers).</summary>
    public static readonly string[] Allowed =
    [
        "Content-Disposition", "Content-Encoding", "X-Delete-At", "X-Object-Manifest", "X-Static-Large-Object",
        "Cache-Control", "Content-Language", "Expires", "X-Robots-Tag",
    ];

    private static bool IsUserMeta(string name) => name.StartsWith("X-Object-Meta-", StringComparison.OrdinalIgnoreCase);

    private static bool IsSysmeta(string name)
        => name.StartsWith("X-Object-Sysmeta-", StringComparison.OrdinalIgnoreCase)
           || name.StartsWith("X-Object-Transient-Sysmeta-", StringComparison.OrdinalIgnoreCase);

    /// <summary>The headers of a request to keep, in a stable order. A POST keeps sysmeta and X-Static-Large-Object from before, as Swift does.</summary>
    public static List<KeyValuePair<string, string>> ToKeep(IHeaderDictionary request, bool isPost, IReadOnlyList<KeyValuePair<string, string>> previous)
    {
        var kept = new List<KeyValuePair<string, string>>();
        foreach (var (name, values) in request)
        {
            if (name.Equals("X-Delete-At", StringComparison.OrdinalIgnoreCase)) continue;
            // What makes an object a static large object is the PUT's to say; a POST neither sets nor clears it.
            if (isPost && name.Equals("X-Static-Large-Object", StringComparison.OrdinalIgnoreCase)) continue;
            var allowed = IsUserMeta(name) || (isPost ? name.StartsWith("X-Object-Transient-Sysmeta-", StringComparison.OrdinalIgnoreCase) : IsSysmeta(name))
                || Array.Exists(Allowed, a => a.Equals(name, StringComparison.OrdinalIgnoreCase));
            if (allowed) kept.Add(new(Canonical(name), values.ToString()));
        }
        if (isPost)
        {
            // Sysmeta and the large-object flag stay (Swift's _preserve_slo_manifest): a metadata update of a manifest
            // once turned it into a plain object holding the manifest's JSON.
            foreach (var h in previous)
                if (h.Key.StartsWith("X-Object-Sysmeta-", StringComparison.OrdinalIgnoreCase) || h.Key.Equals("X-Static-Large-Object", StringComparison.OrdinalIgnoreCase))
                    kept.Add(h);
        }
        kept.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
        return kept;
    }

    /// <summary>Title-Case-Per-Word, as Swift presents header names.</summary>
    public static string Canonical(string name) => MetadataRules.TitleCase(name);

    /// <summary>Swift's check_metadata for objects: a 400 message, or null when the metadata is acceptable.</summary>
    public static string? CheckMetadata(IHeaderDictionary request, SwiftConstraints limits) => MetadataRules.Check(request, "Object", limits);

    /// <summary>Reads X-Delete-At: (ok, value, error) where error is Swift's 400 message.</summary>
    public static (bool Ok, long Value, string? Error) DeleteAt(IHeaderDictionary request, long now)
    {
        var raw = request["X-Delete-At"].ToString();
        if (raw.Length == 0) return (true, 0, null);
        if (!long.TryParse(raw, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var value))
            return (false, 0, "Non-integer X-Delete-At");
        if (value <= now) return (false, 0, "X-Delete-At in past");
        return (true, value, null);
    }
}
