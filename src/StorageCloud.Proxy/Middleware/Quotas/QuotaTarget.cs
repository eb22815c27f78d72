using System.Globalization;
using Microsoft.AspNetCore.Http;
using StorageCloud.ObjectLayer;

namespace StorageCloud.Proxy.Middleware.Quotas;

/// <summary>Where an object write lands and how many bytes it adds: a PUT's body, or a copy's source (X-Copy-From; COPY is one by then).</summary>
internal sealed record QuotaTarget(string Account, string Container, string Object, long Bytes)
{
    /// <summary>The write this request makes, or null when it makes none that quotas count.</summary>
    public static async Task<QuotaTarget?> OfAsync(HttpContext context, Cluster cluster)
    {
        var path = SwiftPath.Of(context);
        if (path.Object is null || !path.ValidUtf8) return null;
        var request = context.Request;
        if (!HttpMethods.IsPut(request.Method)) return null;
        string account = path.Account!, container = path.Container!, obj = path.Object;
        var source = request.Headers["X-Copy-From"].ToString();
        var sourceAccount = request.Headers["X-Copy-From-Account"].ToString();
        if (string.IsNullOrEmpty(source))
        {
            // An SLO manifest (its sysmeta was set by the SLO middleware; clients' sysmeta never gets this far) adds the large object's size.
            var added = long.TryParse(request.Headers["X-Object-Sysmeta-Slo-Size"].ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var total)
                ? total : request.ContentLength ?? 0;
            return new QuotaTarget(account, container, obj, added);
        }
        // A copy adds the source's size, which only its HEAD can tell.
        var src = Uri.UnescapeDataString(source).TrimStart('/');
        var cut = src.IndexOf('/');
        if (cut <= 0) return null;
        using var head = await cluster.ObjectReadAsync(HttpMethod.Head, string.IsNullOrEmpty(sourceAccount) ? path.Account! : sourceAccount,
            src[..cut], src[(cut + 1)..], [], cancellationToken: context.RequestAborted);
        var bytes = head.Header("X-Object-Sysmeta-Slo-Size") is { } slo && long.TryParse(slo, NumberStyles.None, CultureInfo.InvariantCulture, out var s) ? s : head.ContentLength ?? 0;
        return new QuotaTarget(account, container, obj, head.IsSuccess ? bytes : 0);
    }
}
