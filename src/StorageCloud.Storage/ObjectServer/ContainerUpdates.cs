using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using StorageCloud.Storage.Engine;

using StorageCloud.Common.Http;
using StorageCloud.Storage.Node;

namespace StorageCloud.Storage.ObjectServer;

/// <summary>One listing update for one container server: the object row to PUT (or DELETE) there.</summary>
public sealed record ContainerUpdate(string Method, string Host, string Device, string Partition, string Account, string Container,
    string Object, Dictionary<string, string> Headers)
{
    /// <summary>
    /// The updates a write asks for: the proxy names the container's servers in X-Container-Host (ip:port, comma
    /// separated), X-Container-Device and X-Container-Partition, as in Swift; host and device pair by position.
    /// </summary>
    public static List<ContainerUpdate> For(IHeaderDictionary request, string method, StoragePath path, ObjectState state, string transId)
    {
        var hosts = Split(request["X-Container-Host"].ToString());
        var devices = Split(request["X-Container-Device"].ToString());
        var partition = request["X-Container-Partition"].ToString();
        var updates = new List<ContainerUpdate>();
        if (partition.Length == 0) return updates;
        for (var i = 0; i < Math.Min(hosts.Length, devices.Length); i++)
        {
            var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
            {
                ["X-Timestamp"] = state.DataTimestamp.Internal,
                ["X-Trans-Id"] = transId,
            };
            // Objects with reserved names (hidden version containers) keep the right to be named on the container server.
            if (Listings.ReservedNames.Allowed(request)) headers[Listings.ReservedNames.Header] = "true";
            if (method == "PUT")
            {
                // Objects made of others (SLO) list with the size and etag of what they stand for, as Swift's
                // container-update override sysmeta says.
                headers["X-Size"] = Override(state, "Size") ?? state.Size.ToString(CultureInfo.InvariantCulture);
                headers["X-Content-Type"] = Override(state, "Content-Type") ?? state.ContentType;
                headers["X-Etag"] = Override(state, "Etag") ?? state.ETag;
            }
            updates.Add(new ContainerUpdate(method, hosts[i], devices[i], partition, path.Account, path.Container!, path.Object!, headers));
        }
        return updates;
    }

    private static string? Override(ObjectState state, string what)
    {
        var name = "X-Object-Sysmeta-Container-Update-Override-" + what;
        foreach (var (key, value) in state.Headers)
            if (key.Equals(name, StringComparison.OrdinalIgnoreCase)) return value;
        return null;
    }

    private static string[] Split(string value) => value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>The container server URL of this update.</summary>
    public Uri Url => new($"http://{Host}/{BackendPath.Quote(Device)}/{Partition}{BackendPath.For(Account, Container, Object)}", BackendPath.RawUriOptions);

    /// <summary>Sends the update; true when the container server took it (2xx).</summary>
    public async Task<bool> SendAsync(HttpClient http, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(new HttpMethod(Method), Url);
        foreach (var (k, v) in Headers) request.Headers.TryAddWithoutValidation(k, v);
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

    /// <summary>The update as stored while it waits (an async pending).</summary>
    public byte[] Serialize() => JsonSerializer.SerializeToUtf8Bytes(this);

    /// <summary>Reads a stored update.</summary>
    public static ContainerUpdate Deserialize(ReadOnlySpan<byte> bytes) => JsonSerializer.Deserialize<ContainerUpdate>(bytes)!;
}

/// <summary>
/// Delivers container updates: right after a write (waiting at most a short timeout before answering the client,
/// as Swift's container_update_timeout), and later, from the async pendings, in the object updater's passes.
/// </summary>
public sealed class ContainerUpdater(HttpClient http, TimeSpan waitBeforeAnswer)
{
    /// <summary>Sends a write's updates; any that fails is kept as an async pending on the device.</summary>
    public async Task SendAsync(DeviceEngine engine, byte[] hash, List<ContainerUpdate> updates)
    {
        if (updates.Count == 0) return;
        var sending = Task.WhenAll(updates.Select(async update =>
        {
            if (!await update.SendAsync(http, CancellationToken.None).ConfigureAwait(false))
                engine.SaveAsyncPending(update.Headers["X-Timestamp"], hash, $"{update.Host}/{update.Device}", update.Serialize());
        }));
        // Slow container servers do not hold up the client; their updates finish (or are kept) in the background.
        await Task.WhenAny(sending, Task.Delay(waitBeforeAnswer)).ConfigureAwait(false);
    }

    /// <summary>One object updater pass over a device: retries every async pending; returns (delivered, still waiting).</summary>
    public async Task<(int Delivered, int Failed)> RunPassAsync(DeviceEngine engine, CancellationToken cancellationToken)
    {
        int delivered = 0, failed = 0;
        foreach (var (key, stored) in engine.AsyncPendings())
        {
            cancellationToken.ThrowIfCancellationRequested();
            ContainerUpdate update;
            try
            {
                update = ContainerUpdate.Deserialize(stored);
            }
            catch (JsonException)
            {
                engine.RemoveAsyncPending(key);
                continue;
            }
            if (await update.SendAsync(http, cancellationToken).ConfigureAwait(false))
            {
                engine.RemoveAsyncPending(key);
                delivered++;
            }
            else
            {
                failed++;
            }
        }
        return (delivered, failed);
    }
}
