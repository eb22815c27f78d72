using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace StorageCloud.Service.Api;

/// <summary>A sort key and its direction.</summary>
public readonly record struct SortKey(string Key, bool Descending);

/// <summary>
/// OpenStack's list paging: <c>limit</c> and <c>marker</c> (the id of the last item already seen), <c>sort=k:dir,...</c> or
/// the older <c>sort_key</c>/<c>sort_dir</c> pairs, and "next" links that repeat the query with the new marker.
/// </summary>
public static class Pagination
{
    /// <summary>The <c>limit</c> parameter capped at <paramref name="max"/>, or null when absent; 400 when not a positive integer.</summary>
    public static int? Limit(HttpRequest request, int max)
        => Count(request, "limit") is { } limit ? Math.Min(limit, max) : null;

    /// <summary>The <c>offset</c> parameter, 0 when absent; 400 when not a non-negative integer.</summary>
    public static int Offset(HttpRequest request) => Count(request, "offset") ?? 0;

    private static int? Count(HttpRequest request, string name)
    {
        if (!request.Query.TryGetValue(name, out var raw)) return null;
        if (!int.TryParse(raw.ToString(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
            throw ApiError.BadRequest($"{name} param must be an integer");
        if (value < 0) throw ApiError.BadRequest($"{name} param must be positive");
        return value;
    }

    /// <summary>
    /// The sort keys: <c>sort=name:asc,size</c> or repeated <c>sort_key</c>/<c>sort_dir</c> (not both); unknown keys and
    /// directions are 400s. The default applies when none is given.
    /// </summary>
    public static IReadOnlyList<SortKey> Sort(HttpRequest request, IReadOnlyCollection<string> allowed, SortKey fallback)
    {
        var query = request.Query;
        var keys = new List<SortKey>();
        if (query.TryGetValue("sort", out var sort))
        {
            if (query.ContainsKey("sort_key") || query.ContainsKey("sort_dir"))
                throw ApiError.BadRequest("The 'sort_key' and 'sort_dir' parameters are deprecated and cannot be used with the 'sort' parameter.");
            foreach (var item in sort.ToString().Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                var colon = item.IndexOf(':');
                keys.Add(Key(colon < 0 ? item : item[..colon], colon < 0 ? null : item[(colon + 1)..], allowed, fallback.Descending));
            }
        }
        else
        {
            var names = query["sort_key"];
            var directions = query["sort_dir"];
            for (var i = 0; i < names.Count; i++)
                keys.Add(Key(names[i]!, i < directions.Count ? directions[i] : directions.Count > 0 ? directions[^1] : null, allowed, fallback.Descending));
            if (names.Count == 0 && directions.Count > 0) keys.Add(Key(fallback.Key, directions[0], allowed, fallback.Descending));
        }
        if (keys.Count == 0) keys.Add(fallback);
        return keys;
    }

    private static SortKey Key(string key, string? direction, IReadOnlyCollection<string> allowed, bool defaultDescending)
    {
        if (!allowed.Contains(key)) throw ApiError.BadRequest($"Invalid sort key: {key}. It must be one of the following: {string.Join(", ", allowed)}.");
        return direction?.ToLowerInvariant() switch
        {
            null or "" => new SortKey(key, defaultDescending),
            "asc" => new SortKey(key, false),
            "desc" => new SortKey(key, true),
            _ => throw ApiError.BadRequest($"Invalid sort direction: {direction}"),
        };
    }

    /// <summary>
    /// One page of <paramref name="items"/> (already filtered and sorted): the items after the marker, at most
    /// <paramref name="limit"/>; an unknown marker is answered by <paramref name="markerNotFound"/>. True in
    /// <c>More</c> when the page is full, so a "next" link is due. <paramref name="offset"/> skips that many more items
    /// after the marker (Cinder's <c>offset</c>).
    /// </summary>
    public static (List<T> Page, bool More) Page<T>(IReadOnlyList<T> items, Func<T, string> id, string? marker, int? limit, Func<string, ApiError> markerNotFound,
        int offset = 0)
    {
        var start = 0;
        if (marker is not null)
        {
            start = -1;
            for (var i = 0; i < items.Count; i++)
            {
                if (id(items[i]) != marker) continue;
                start = i + 1;
                break;
            }
            if (start < 0) throw markerNotFound(marker);
        }
        start = (int)Math.Min(items.Count, (long)start + offset);
        var count = Math.Min(items.Count - start, limit ?? int.MaxValue);
        var page = new List<T>(Math.Max(count, 0));
        for (var i = 0; i < count; i++) page.Add(items[start + i]);
        return (page, limit is { } l && l > 0 && count == l);
    }

    /// <summary>The "next" link of a full page: this request's URL with its query kept (but an offset, which the marker replaces) and the marker set to the page's last id.</summary>
    public static JsonArray NextLinks(HttpRequest request, string baseUrl, string lastId)
    {
        var sb = new StringBuilder(baseUrl).Append(request.Path.Value).Append('?');
        foreach (var (name, values) in request.Query)
        {
            if (name is "marker" or "offset") continue;
            foreach (var value in values) sb.Append(Uri.EscapeDataString(name)).Append('=').Append(Uri.EscapeDataString(value ?? "")).Append('&');
        }
        sb.Append("marker=").Append(Uri.EscapeDataString(lastId));
        return new JsonArray(new JsonObject { ["rel"] = "next", ["href"] = sb.ToString() });
    }
}
