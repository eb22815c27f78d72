using Microsoft.AspNetCore.Http;

namespace StorageCloud.Storage.Listings;

/// <summary>
/// Swift's reserved names: names that start with <see cref="Common.Http.BackendPath.ReservedPrefix"/> belong to the
/// cluster's own bookkeeping (the hidden containers of object versioning). The proxy never lets clients use them;
/// storage nodes accept such names, and list them, only when the proxy says X-Backend-Allow-Reserved-Names: true.
/// </summary>
public static class ReservedNames
{
    /// <summary>The header that lets a request name (and list) reserved names.</summary>
    public const string Header = Common.Http.BackendPath.AllowReservedNamesHeader;

    /// <summary>True when the request may use reserved names.</summary>
    public static bool Allowed(HttpRequest request) => Allowed(request.Headers);

    /// <summary>True when the headers let the request use reserved names.</summary>
    public static bool Allowed(IHeaderDictionary headers) => headers[Header].ToString().Equals("true", StringComparison.OrdinalIgnoreCase);

    /// <summary>True when a name is reserved.</summary>
    public static bool IsReserved(string name) => name.Length > 0 && name[0] == Common.Http.BackendPath.ReservedPrefix;

    /// <summary>The rows, without reserved names unless the request may see them.</summary>
    public static ISortedRows<TRow> Visible<TRow>(ISortedRows<TRow> rows, HttpRequest request) => Allowed(request) ? rows : new Hidden<TRow>(rows);

    private sealed class Hidden<TRow>(ISortedRows<TRow> inner) : ISortedRows<TRow>
    {
        public IEnumerable<(string Name, TRow Row)> Range(byte[]? lower, bool lowerInclusive, byte[]? upper, bool descending)
        {
            foreach (var row in inner.Range(lower, lowerInclusive, upper, descending))
                if (row.Name.Length == 0 || row.Name[0] != Common.Http.BackendPath.ReservedPrefix) yield return row;
        }
    }
}
