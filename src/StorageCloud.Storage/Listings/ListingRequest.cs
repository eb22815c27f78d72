using System.Globalization;
using Microsoft.AspNetCore.Http;

namespace StorageCloud.Storage.Listings;

/// <summary>Reads a listing GET's query parameters with Swift's checks (412 for a bad limit).</summary>
public static class ListingRequest
{
    /// <summary>The query, or the status and message Swift answers a bad one with.</summary>
    public static bool TryParse(HttpRequest request, int maxLimit, bool allowPath, out ListingQuery query, out int status, out string error)
    {
        var q = request.Query;
        string? Param(string name) => q.ContainsKey(name) ? q[name].ToString() : null;
        query = null!;
        (status, error) = (0, "");
        var limit = maxLimit;
        // As Swift's constrain_req_limit: a limit that is not all digits is ignored, one past the maximum refused.
        if (Param("limit") is { Length: > 0 } limitText && IsDigits(limitText))
        {
            if (limitText.Length > 9 || (limit = int.Parse(limitText, NumberStyles.None, CultureInfo.InvariantCulture)) > maxLimit)
            {
                (status, error) = (412, $"Maximum limit is {maxLimit}");
                return false;
            }
        }
        var delimiter = Param("delimiter");
        // Any delimiter, several characters too, as Swift since 2.24; the listing skips past a folded prefix by
        // bumping the delimiter's last character, which the highest one cannot be.
        if (!string.IsNullOrEmpty(delimiter) && delimiter[^1] == char.MaxValue)
        {
            (status, error) = (412, "Bad delimiter");
            return false;
        }
        var reverse = Param("reverse")?.ToLowerInvariant() is "true" or "1" or "yes" or "on" or "t" or "y";
        query = new ListingQuery(limit, Param("marker"), Param("end_marker"), Param("prefix"),
            string.IsNullOrEmpty(delimiter) ? null : delimiter, allowPath ? Param("path") : null, reverse);
        return true;
    }

    private static bool IsDigits(string text)
    {
        foreach (var c in text)
            if (c is < '0' or > '9') return false;
        return true;
    }

    /// <summary>Headers of a request that a container or account keeps as metadata.</summary>
    public static IEnumerable<KeyValuePair<string, string>> Metadata(IHeaderDictionary headers, string kind, string[] saved)
    {
        foreach (var (name, values) in headers)
        {
            if (name.StartsWith($"X-{kind}-Meta-", StringComparison.OrdinalIgnoreCase)
                || name.StartsWith($"X-{kind}-Sysmeta-", StringComparison.OrdinalIgnoreCase)
                || Array.Exists(saved, h => h.Equals(name, StringComparison.OrdinalIgnoreCase)))
                yield return new(ObjectServer.ObjectHeaders.Canonical(name), values.ToString());
        }
    }
}
