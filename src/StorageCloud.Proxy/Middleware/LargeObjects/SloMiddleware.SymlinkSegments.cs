using Microsoft.AspNetCore.Http;
using StorageCloud.ObjectLayer;

namespace StorageCloud.Proxy.Middleware.LargeObjects;

public sealed partial class SloMiddleware
{
    /// <summary>
    /// A segment or nested manifest that is a symlink stands for what it links to, since Swift's SLO reads them
    /// through its symlink middleware (a manifest may list links to its segments). Null when
    /// <paramref name="response"/> is no link, or symlinks are turned off; the caller disposes of what it gets.
    /// </summary>
    private static async Task<BackendResponse?> FollowSegmentLinkAsync(HttpContext context, string account, BackendResponse response, HttpMethod method)
    {
        if (response.Header(SymlinkMiddleware.TargetSysmeta) is null || SymlinkMiddleware.Enabled(context) is not { } links) return null;
        return await links.ResolveAsync(context, account, response, method);
    }
}
