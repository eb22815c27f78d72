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
