using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using StorageCloud.Auth;
using StorageCloud.Auth.Policy;
using StorageCloud.Block.Chunks;
using StorageCloud.Block.Devices;
using StorageCloud.Block.Volumes;
using StorageCloud.Service.Api;

namespace StorageCloud.Block.Api;

/// <summary>
/// The block service's admin API (before the Cinder API is built on it), for operators and the `storagecloud volume`
/// command: create, list, show and delete volumes, attach them to hosts (for an NBD server bound beyond loopback), and
/// take a volume's write lease over. Every route needs an admin token; errors are Cinder's faults.
/// <code>
/// GET    /block/volumes                           POST /block/volumes {"volume": {"size": bytes, "name": "..."}}
/// GET    /block/volumes/{id}                      DELETE /block/volumes/{id}
/// POST   /block/volumes/{id}/attachments {"attachment": {"host": "10.0.0.5"}}    DELETE .../attachments/{host}
/// POST   /block/volumes/{id}/takeover
/// </code>
/// </summary>
public sealed class BlockApi
{
    private static readonly PolicyTable Policy = new("block", new Dictionary<string, Allow> { ["admin"] = Allow.Admin });

    private readonly ApiRouter<ApiRequest> _router;
    private readonly VolumeStore _volumes;
    private readonly VolumeDevices _devices;
    private readonly VolumeManager _manager;
    private readonly BlockSettings _settings;
    private readonly string _nbdHost;

    /// <summary>Builds the routes.</summary>
    public BlockApi(VolumeManager manager, VolumeDevices devices, BlockSettings settings, string nbdHost, ILogger<BlockApi> logger)
    {
        (_volumes, _devices, _manager, _settings, _nbdHost) = (manager.Store, devices, manager, settings, nbdHost);
        _router = new ApiRouter<ApiRequest>(ApiErrorFormat.VolumeFault, (c, a) => new ApiRequest(c, a), logger);
        _router.Map("GET", "/block/volumes", ListAsync);
        _router.Map("POST", "/block/volumes", CreateAsync);
        _router.Map("GET", "/block/volumes/{id}", ShowAsync);
        _router.Map("DELETE", "/block/volumes/{id}", DeleteAsync);
        _router.Map("POST", "/block/volumes/{id}/attachments", AttachAsync);
        _router.Map("DELETE", "/block/volumes/{id}/attachments/{host}", DetachAsync);
        _router.Map("POST", "/block/volumes/{id}/takeover", TakeOverAsync);
    }

    /// <summary>Answers one request.</summary>
    public Task HandleAsync(HttpContext context) => _router.HandleAsync(context);

    private static void Enforce(ApiRequest r) => Policy.Enforce("admin", Caller.Of(r.Context));

    private JsonObject View(VolumeRow row) => new()
    {
        ["id"] = row.Id,
        ["name"] = row.Name,
        ["size"] = row.Size,
        ["status"] = row.Status,
        ["created_at"] = row.CreatedAt,
        ["lease_epoch"] = row.LeaseEpoch,
        // The layer the volume writes: its chunks on the storage nodes are named after it (ring account ".block").
        ["layer"] = row.LayerId,
        // A server's local disk names its server (and kind); a volume names none.
        ["owner_instance"] = row.OwnerInstance.Length > 0 ? row.OwnerInstance : null,
        ["disk_kind"] = row.DiskKind.Length > 0 ? row.DiskKind : null,
        ["export"] = $"nbd://{_nbdHost}:{_settings.Nbd.Port.ToString(CultureInfo.InvariantCulture)}/{row.Id}",
    };

    private async Task<VolumeRow> FindAsync(ApiRequest r) =>
        (Guid.TryParse(r.Args[0], out var id) ? await _volumes.GetAsync<VolumeRow>(id.ToString("D")) : null)
        ?? throw ApiError.NotFound($"Volume {r.Args[0]} could not be found.");

    private async Task ListAsync(ApiRequest r)
    {
        Enforce(r);
        var rows = await _volumes.ListAsync<VolumeRow>();
        await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["volumes"] = new JsonArray([.. rows.Select(v => (JsonNode)View(v))]) });
    }

    private async Task CreateAsync(ApiRequest r)
    {
        Enforce(r);
        var body = JsonBody.Object(await JsonBody.ReadAsync(r.Context), "volume", "request body");
        var size = body["size"] is JsonValue v && v.TryGetValue<long>(out var bytes) ? bytes
            : throw ApiError.Invalid("Invalid input for field/attribute size: expected an integer number of bytes.");
        if (size <= 0 || size % 512 != 0 || size > _settings.MaxVolumeBytes)
            throw ApiError.Invalid($"Invalid input for field/attribute size: a positive multiple of 512 bytes, at most {_settings.MaxVolumeBytes}.");
        var row = new VolumeRow
        {
            Id = Guid.NewGuid().ToString("D"),
            Name = JsonBody.OptionalString(body, "name", "volume") ?? "",
            ProjectId = Caller.Of(r.Context)?.ProjectId ?? "",
            Size = size,
            UserId = Caller.Of(r.Context)?.UserId ?? "",
            Status = "available",
        };
        if (row.Name.Length > 255) throw ApiError.Invalid("Invalid input for field/attribute name: longer than 255 characters.");
        await _manager.CreateAsync(row, parentLayer: null);
        await ApiResponses.WriteJsonAsync(r.Context, 202, new JsonObject { ["volume"] = View(row) });
    }

    private async Task ShowAsync(ApiRequest r)
    {
        Enforce(r);
        await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["volume"] = View(await FindAsync(r)) });
    }

    private async Task DeleteAsync(ApiRequest r)
    {
        Enforce(r);
        var row = await FindAsync(r);
        try
        {
            await _manager.DeleteAsync(row);
        }
        catch (VolumeStateException e)
        {
            throw ApiError.Conflict(e.Message);
        }
        await ApiResponses.NoContent(r.Context, 202);
    }

    private async Task AttachAsync(ApiRequest r)
    {
        Enforce(r);
        var row = await FindAsync(r);
        var body = JsonBody.Object(await JsonBody.ReadAsync(r.Context), "attachment", "request body");
        var host = JsonBody.String(body, "host", "attachment");
        if (!IPAddress.TryParse(host, out var address)) throw ApiError.Invalid("Invalid input for field/attribute host: an IP address.");
        await _volumes.InsertAsync(new AttachmentRow { Id = Guid.NewGuid().ToString("N"), VolumeId = row.Id, Host = address.ToString() });
        await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["attachment"] = new JsonObject { ["volume_id"] = row.Id, ["host"] = address.ToString() } });
    }

    private async Task DetachAsync(ApiRequest r)
    {
        Enforce(r);
        var row = await FindAsync(r);
        var removed = await _volumes.ExecuteAsync("DELETE FROM attachments WHERE volume_id = @id AND host = @host", new { id = row.Id, host = r.Args[1] });
        if (removed == 0) throw ApiError.NotFound($"Volume {row.Id} is not attached to {r.Args[1]}.");
        await ApiResponses.NoContent(r.Context, 202);
    }

    private async Task TakeOverAsync(ApiRequest r)
    {
        Enforce(r);
        var row = await FindAsync(r);
        try
        {
            await using var handle = await _devices.AcquireAsync(Guid.Parse(row.Id), r.Context.RequestAborted, takeOver: true)
                ?? throw ApiError.NotFound($"Volume {row.Id} could not be found.");
            await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["volume"] = View(await FindAsync(r)), ["epoch"] = handle.Device.Epoch });
        }
        catch (BlockDeviceException e)
        {
            throw new ApiError(503, e.Message);
        }
    }
}
