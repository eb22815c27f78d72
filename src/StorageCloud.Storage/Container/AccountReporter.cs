using StorageCloud.Common.Http;
using StorageCloud.Storage.Engine;

namespace StorageCloud.Storage.Container;

/// <summary>
/// Reports containers' counts and timestamps to their account servers: right after a container PUT or DELETE (as
/// Swift's account_update), and in the container updater's passes for everything changed since (object rows).
/// A report that fails stays marked and is sent again on the next pass.
/// </summary>
public sealed class AccountReporter(HttpClient http)
{
    /// <summary>Sends one container's report; true when its account server took it.</summary>
    public async Task<bool> ReportAsync(ContainerInfo info, CancellationToken cancellationToken = default)
    {
        if (info.AccountHost is null || info.AccountDevice is null || info.AccountPartition is null) return false;
        var url = new Uri($"http://{info.AccountHost}/{BackendPath.Quote(info.AccountDevice)}/{info.AccountPartition}{BackendPath.For(info.Account, info.Container)}", BackendPath.RawUriOptions);
        using var request = new HttpRequestMessage(HttpMethod.Put, url);
        request.Headers.TryAddWithoutValidation("X-Put-Timestamp", info.PutTimestamp);
        // Hidden (reserved-name) containers report too; the account server lists them only to the cluster itself.
        request.Headers.TryAddWithoutValidation(Listings.ReservedNames.Header, "true");
        request.Headers.TryAddWithoutValidation("X-Delete-Timestamp", info.DeleteTimestamp);
        request.Headers.TryAddWithoutValidation("X-Object-Count", info.ObjectCount.ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Headers.TryAddWithoutValidation("X-Bytes-Used", info.BytesUsed.ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Headers.TryAddWithoutValidation(Account.AccountServer.ObjectsChangedHeader, info.ObjectsChangedAt);
        try
        {
            using var response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
            return (int)response.StatusCode is >= 200 and < 300;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
        {
            return false;
        }
    }

    /// <summary>One container updater pass over a device: reports every changed container; returns (sent, failed).</summary>
    public async Task<(int Sent, int Failed)> RunPassAsync(ContainerStore store, CancellationToken cancellationToken)
    {
        int sent = 0, failed = 0;
        foreach (var (hash, info) in store.Unreported())
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (await ReportAsync(info, cancellationToken).ConfigureAwait(false))
            {
                store.MarkReported(hash, info);
                sent++;
            }
            else
            {
                failed++;
            }
        }
        return (sent, failed);
    }
}
