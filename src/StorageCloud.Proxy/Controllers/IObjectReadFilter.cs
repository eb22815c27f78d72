using Microsoft.AspNetCore.Http;
using StorageCloud.ObjectLayer;

namespace StorageCloud.Proxy.Controllers;

/// <summary>
/// A feature that serves objects made of other objects (static and dynamic large objects): it may add headers
/// to the storage-node GET/HEAD, then take over the answer when the object turns out to be one of its own.
/// </summary>
public interface IObjectReadFilter
{
    /// <summary>Adds what the filter needs to the storage-node request (such as "ignore the range for manifests").</summary>
    void PrepareRead(HttpContext context, List<KeyValuePair<string, string>> backendHeaders);

    /// <summary>Answers the client itself and returns true when the object is the filter's kind; false to pass it on.</summary>
    Task<bool> TryAnswerAsync(HttpContext context, SwiftPath path, BackendResponse response);
}

/// <summary>Helpers for read filters' storage-node headers.</summary>
public static class ReadFilterHeaders
{
    /// <summary>Asks the object server to ignore the client's range when the object has <paramref name="metadata"/> (Swift's update_ignore_range_header).</summary>
    public static void IgnoreRangeIfPresent(List<KeyValuePair<string, string>> headers, string metadata)
    {
        const string name = "X-Backend-Ignore-Range-If-Metadata-Present";
        var at = headers.FindIndex(h => h.Key.Equals(name, StringComparison.OrdinalIgnoreCase));
        if (at < 0) headers.Add(new(name, metadata));
        else headers[at] = new(name, headers[at].Value + "," + metadata);
    }
}
