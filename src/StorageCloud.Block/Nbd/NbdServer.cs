using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using StorageCloud.Block.Devices;
using StorageCloud.Block.Volumes;

namespace StorageCloud.Block.Nbd;

/// <summary>An export a client opened: the device, and its hold on it, released when the client goes.</summary>
public sealed class ExportLease(IBlockDevice device, Func<ValueTask> release) : IAsyncDisposable
{
    /// <summary>The device.</summary>
    public IBlockDevice Device { get; } = device;

    /// <inheritdoc />
    public ValueTask DisposeAsync() => release();
}

/// <summary>What an NBD server exports, as the client at an address may see it.</summary>
public interface INbdExports
{
    /// <summary>The export's size, or null when there is no such export for this client.</summary>
    Task<long?> SizeOfAsync(string name, IPAddress client, CancellationToken cancellationToken);

    /// <summary>The exports this client may open.</summary>
    Task<IReadOnlyList<string>> ListAsync(IPAddress client, CancellationToken cancellationToken);

    /// <summary>Opens an export for this client, or null when there is no such export for it.</summary>
    Task<ExportLease?> OpenAsync(string name, IPAddress client, CancellationToken cancellationToken);
}

/// <summary>
/// What the NBD server exports: every volume, under its id. On a loopback listener every volume is served (as
/// qemu-nbd on localhost serves its file); on another address a volume is served only to the hosts it is attached to.
/// </summary>
internal sealed class NbdExports(VolumeStore volumes, VolumeDevices devices, bool loopbackOnly) : INbdExports
{
    private async Task<VolumeRow?> FindAsync(string name, IPAddress client)
    {
        if (!Guid.TryParse(name, out var id)) return null;
        var row = await volumes.GetAsync<VolumeRow>(id.ToString("D"));
        if (row is null || row.Status is "deleting" or "error") return null;
        if (loopbackOnly) return row;
        var attached = await volumes.ListAsync<AttachmentRow>(("volume_id", row.Id));
        return attached.Any(a => IPAddress.TryParse(a.Host, out var host) && host.Equals(client.IsIPv4MappedToIPv6 ? client.MapToIPv4() : client)) ? row : null;
    }

    public async Task<long?> SizeOfAsync(string name, IPAddress client, CancellationToken cancellationToken) => (await FindAsync(name, client))?.Size;

    public async Task<IReadOnlyList<string>> ListAsync(IPAddress client, CancellationToken cancellationToken)
    {
        var names = new List<string>();
        foreach (var row in await volumes.ListAsync<VolumeRow>())
            if (await FindAsync(row.Id, client) is not null) names.Add(row.Id);
        return names;
    }

    public async Task<ExportLease?> OpenAsync(string name, IPAddress client, CancellationToken cancellationToken)
    {
        if (await FindAsync(name, client) is not { } row) return null;
        var handle = await devices.AcquireAsync(Guid.Parse(row.Id), cancellationToken);
        return handle is null ? null : new ExportLease(handle.Device, handle.DisposeAsync);
    }
}

/// <summary>The NBD listener (fixed newstyle, default 127.0.0.1:10809): one connection task per client.</summary>
public sealed class NbdServer(IPEndPoint endpoint, INbdExports exports, ILogger<NbdServer> logger) : BackgroundService
{
    /// <summary>Where it listens (the port the kernel chose, when 0 was asked for).</summary>
    public IPEndPoint Endpoint => _listener?.LocalEndPoint as IPEndPoint ?? endpoint;

    private Socket? _listener;

    /// <summary>Binds the listener (before the host reports it started, so a port in use stops the process).</summary>
    public override Task StartAsync(CancellationToken cancellationToken)
    {
        var listener = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        listener.Bind(endpoint);
        listener.Listen(128);
        _listener = listener;
        logger.LogInformation("nbd server listening on {Endpoint}", endpoint);
        return base.StartAsync(cancellationToken);
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var clients = new List<Task>();
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                var socket = await _listener!.AcceptAsync(stoppingToken);
                clients.RemoveAll(t => t.IsCompleted);
                clients.Add(Task.Run(() => new NbdConnection(socket, exports, logger).RunAsync(stoppingToken), CancellationToken.None));
            }
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            _listener?.Dispose();
            await Task.WhenAll(clients);
        }
    }
}
