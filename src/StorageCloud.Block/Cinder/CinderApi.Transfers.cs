using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using StorageCloud.Block.Volumes;
using StorageCloud.Service.Api;

namespace StorageCloud.Block.Cinder;

public sealed partial class CinderApi
{
    private void MapTransfers()
    {
        foreach (var path in new[] { "/os-volume-transfer", "/volume-transfers" })
        {
            Project("GET", path, r => ListTransfersAsync(r, detail: false));
            Project("GET", path + "/detail", r => ListTransfersAsync(r, detail: true));
            Project("POST", path, CreateTransferAsync);
            Project("GET", path + "/{id}", ShowTransferAsync);
            Project("DELETE", path + "/{id}", DeleteTransferAsync);
            Project("POST", path + "/{id}/accept", AcceptTransferAsync);
        }
    }

    private static string KeyHash(string salt, string key) =>
        Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(salt + ":" + key)));

    private static JsonObject TransferView(ApiRequest r, TransferRow row, bool detail)
    {
        var view = new JsonObject
        {
            ["id"] = row.Id,
            ["name"] = row.Name,
            ["volume_id"] = row.VolumeId,
            ["links"] = Links(r, "os-volume-transfer", row.Id),
        };
        if (!detail) return view;
        view["created_at"] = row.CreatedAt;
        if (Version(r).AtLeast(new ApiVersion(3, 57)))
        {
            view["source_project_id"] = row.ProjectId;
            view["destination_project_id"] = null;
            view["accepted"] = false;
        }
        return view;
    }

    /// <summary>A transfer of the caller's project (another project's answers 404; only its id and key let one accept it).</summary>
    private async Task<TransferRow> FindTransferAsync(ApiRequest r, bool anyProject = false)
    {
        var id = r.Args[1];
        var row = Guid.TryParse(id, out var guid) ? await _store.GetAsync<TransferRow>(guid.ToString("D")) : null;
        if (row is null || (!anyProject && !Visible(r, row.ProjectId))) throw ApiError.NotFound($"Transfer {id} could not be found.");
        return row;
    }

    private async Task ListTransfersAsync(ApiRequest r, bool detail)
    {
        Enforce(r, "read");
        var rows = await _store.ListAsync<TransferRow>(("project_id", AllTenants(r) ? null : ProjectOf(r)));
        var items = new JsonArray();
        foreach (var row in rows.OrderBy(t => t.CreatedAt, StringComparer.Ordinal)) items.Add(TransferView(r, row, detail));
        await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["transfers"] = items });
    }

    private async Task CreateTransferAsync(ApiRequest r)
    {
        Enforce(r, "write");
        var body = await BodyAsync(r, "transfer");
        var volume = await FindVolumeAsync(r, JsonBody.String(body, "volume_id", "transfer"));
        if (volume.Status != "available") throw ApiError.BadRequest($"Invalid volume: Status of volume must be available, but current status is: {volume.Status}.");
        var key = Convert.ToHexString(RandomNumberGenerator.GetBytes(8)).ToLowerInvariant();
        var salt = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
        var row = new TransferRow
        {
            Id = Guid.NewGuid().ToString("D"),
            VolumeId = volume.Id,
            ProjectId = volume.ProjectId,
            Name = ShortString(body, "name", "transfer") ?? "",
            Salt = salt,
            KeyHash = KeyHash(salt, key),
            CreatedAt = VolumeManager.Now(),
        };
        if (!await _store.InsertAsync(row)) throw ApiError.BadRequest($"Invalid volume: Volume {volume.Id} is already being transferred.");
        volume.Status = "awaiting-transfer";
        volume.UpdatedAt = row.CreatedAt;
        await _store.UpdateAsync(volume);
        var view = TransferView(r, row, detail: true);
        view["auth_key"] = key;
        await ApiResponses.WriteJsonAsync(r.Context, 202, new JsonObject { ["transfer"] = view });
    }

    private async Task ShowTransferAsync(ApiRequest r)
    {
        Enforce(r, "read");
        await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["transfer"] = TransferView(r, await FindTransferAsync(r), detail: true) });
    }

    private async Task DeleteTransferAsync(ApiRequest r)
    {
        Enforce(r, "write");
        var row = await FindTransferAsync(r);
        await _store.DeleteAsync<TransferRow>(row.Id);
        await _store.ExecuteAsync("UPDATE volumes SET status = 'available' WHERE id = @id AND status = 'awaiting-transfer'", new { id = row.VolumeId });
        await ApiResponses.NoContent(r.Context, 202);
    }

    /// <summary>Another project takes the volume (and its snapshots) with the transfer's id and key.</summary>
    private async Task AcceptTransferAsync(ApiRequest r)
    {
        Enforce(r, "write");
        var row = await FindTransferAsync(r, anyProject: true);
        var body = await BodyAsync(r, "accept");
        var key = JsonBody.String(body, "auth_key", "accept");
        var given = Encoding.ASCII.GetBytes(KeyHash(row.Salt, key));
        if (!CryptographicOperations.FixedTimeEquals(given, Encoding.ASCII.GetBytes(row.KeyHash)))
            throw ApiError.BadRequest($"Invalid auth key: Attempt to transfer {row.Id} with invalid auth key.");
        var volume = await _store.GetAsync<VolumeRow>(row.VolumeId) ?? throw ApiError.NotFound($"Volume {row.VolumeId} could not be found.");
        var destination = ProjectOf(r);
        var snapshots = await _store.ListAsync<SnapshotRow>(("volume_id", volume.Id));
        await _quotaGate.WaitAsync();
        try
        {
            long gigabytes = Gigabytes(volume.Size);
            foreach (var s in snapshots) gigabytes += Gigabytes(s.Size);
            await CheckQuotaAsync(r, destination, volumes: 1, gigabytes: gigabytes, snapshots: snapshots.Count);
            if (!await _store.DeleteAsync<TransferRow>(row.Id)) throw ApiError.NotFound($"Transfer {row.Id} could not be found.");
            volume.ProjectId = destination;
            volume.UserId = Me(r).UserId;
            volume.Status = "available";
            volume.UpdatedAt = VolumeManager.Now();
            await _store.UpdateAsync(volume);
            await _store.ExecuteAsync("UPDATE snapshots SET project_id = @destination WHERE volume_id = @id", new { destination, id = volume.Id });
        }
        finally
        {
            _quotaGate.Release();
        }
        await ApiResponses.WriteJsonAsync(r.Context, 202, new JsonObject { ["transfer"] = TransferView(r, row, detail: false) });
    }
}
