using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using StorageCloud.Compute.Clients;
using StorageCloud.Service.Api;

namespace StorageCloud.Compute.Nova;

/// <summary>
/// Images of a server's root disk: createImage (a snapshot), createBackup (a backup of a type, the oldest beyond the
/// rotation deleted), and the image shelve keeps (deleted by unshelve). Each is a new image in the image service
/// (image_type, instance_uuid, base_image_ref) that the volume service fills from the root disk (raw) in the
/// background; a server from before root disks were kept on the block store gets its base image's data.
/// </summary>
public sealed partial class NovaApi
{
    private async Task CreateImageAsync(ApiRequest r, JsonObject server, JsonObject args)
    {
        CheckSnapshotState(server, "createImage");
        var name = Name(args, "name");
        var metadata = Metadata(args["metadata"], "metadata");
        var imageId = await SnapshotAsync(r, server, name, metadata, "snapshot", "image_uploading", "createImage", afterFill: null);
        await AnswerImageAsync(r, imageId);
    }

    /// <summary>createBackup: {name, backup_type, rotation, metadata}; after the upload, the server's backups of that type beyond rotation go, oldest first.</summary>
    private async Task CreateBackupAsync(ApiRequest r, JsonObject server, JsonObject args)
    {
        foreach (var (key, _) in args)
            if (key is not ("name" or "backup_type" or "rotation" or "metadata"))
                throw ApiError.BadRequest($"Invalid input for field/attribute createBackup. Additional properties are not allowed ('{key}' was unexpected)");
        var name = Name(args, "name");
        var type = JsonBody.OptionalString(args, "backup_type", "createBackup") ?? throw ApiError.BadRequest("Invalid input for field/attribute createBackup. 'backup_type' is a required property");
        var rotation = Count(args, "rotation", 0, int.MaxValue, required: true);
        var metadata = Metadata(args["metadata"], "metadata");
        CheckSnapshotState(server, "createBackup");
        metadata["backup_type"] = type;
        var token = Token(r);
        var serverId = Str(server, "id")!;
        var imageId = await SnapshotAsync(r, server, name, metadata, "backup", "image_backup", "createBackup", () => RotateBackupsAsync(token, serverId, type, rotation));
        await AnswerImageAsync(r, imageId);
    }

    private static void CheckSnapshotState(JsonObject server, string action)
    {
        var current = Str(server, "vm_state")!;
        if (current is not ("active" or "stopped" or "paused" or "suspended") || Str(server, "task_state") is not null)
            throw ApiError.Conflict($"Cannot '{action}' instance {Str(server, "id")} while it is in vm_state {current}");
    }

    /// <summary>202 with the image's location (and its id from 2.45).</summary>
    private async Task AnswerImageAsync(ApiRequest r, string imageId)
    {
        r.Context.Response.Headers.Location = $"{_clients.ImageUrl}/v2/images/{imageId}";
        if (AtLeast(r, 45)) await ApiResponses.WriteJsonAsync(r.Context, 202, new JsonObject { ["image_id"] = imageId });
        else await ApiResponses.NoContent(r.Context, 202);
    }

    /// <summary>Makes the image, sets the server's task state and logs the action (saved before the fill starts, which clears the task state), fills the image in the background; returns its id.</summary>
    private async Task<string> SnapshotAsync(ApiRequest r, JsonObject server, string name, Dictionary<string, string> properties, string imageType,
        string taskState, string? action, Func<Task>? afterFill)
    {
        var token = Token(r);
        var baseImage = Str(server, "image_id") is { Length: > 0 } b ? await _clients.ImageAsync(token, b) : null;
        if (baseImage is null) throw ApiError.BadRequest("Snapshots of volume-backed servers are taken with the volume service (openstack volume snapshot create).");
        var root = RootDisk(server);
        var image = new JsonObject
        {
            ["name"] = name,
            ["disk_format"] = root is null ? Str(baseImage, "disk_format") : "raw",
            ["container_format"] = Str(baseImage, "container_format") ?? "bare",
            ["visibility"] = "private",
            ["min_disk"] = Math.Max(Long(baseImage, "min_disk"), Long(server["flavor"]!.AsObject(), "disk")),
            ["min_ram"] = Long(baseImage, "min_ram"),
            ["image_type"] = imageType,
            ["instance_uuid"] = Str(server, "id"),
            ["base_image_ref"] = Str(baseImage, "id"),
        };
        foreach (var (k, v) in properties) image[k] = v;
        var created = await _clients.SendAsync(HttpMethod.Post, $"{_clients.ImageUrl}/v2/images", token, image);
        if (!created.Ok) throw CloudClients.Failed("image", created);
        var imageId = created.Body!["id"]!.GetValue<string>();
        server["task_state"] = taskState;
        if (action is not null) await RecordActionAsync(r, server, action, save: false);
        await SaveServerAsync(server);
        var (serverId, project, baseId) = (Str(server, "id")!, Str(server, "tenant_id")!, Str(baseImage, "id")!);
        _ = Task.Run(() => FillSnapshotAsync(token, serverId, imageId, taskState, async () =>
        {
            if (root is null) await CopyImageDataAsync(token, baseId, imageId);
            else await UploadDiskAsync(token, project, Str(root, "id")!, imageId);
            if (afterFill is not null) await afterFill();
        }));
        return imageId;
    }

    /// <summary>Deletes the server's oldest backups of the type beyond <paramref name="rotation"/>, as Nova rotates them.</summary>
    private async Task RotateBackupsAsync(string token, string serverId, string type, long rotation)
    {
        var answer = await _clients.SendAsync(HttpMethod.Get, $"{_clients.ImageUrl}/v2/images?limit=1000&sort_key=created_at&sort_dir=desc", token);
        if (!answer.Ok) throw CloudClients.Failed("image", answer);
        var backups = (answer.Body?["images"] as JsonArray ?? []).OfType<JsonObject>()
            .Where(i => Str(i, "instance_uuid") == serverId && Str(i, "image_type") == "backup" && Str(i, "backup_type") == type).ToList();
        foreach (var old in backups.Skip((int)Math.Min(rotation, int.MaxValue)))
            await _clients.SendAsync(HttpMethod.Delete, $"{_clients.ImageUrl}/v2/images/{Str(old, "id")}", token);
    }

    /// <summary>Shelve keeps the root disk's data as an image named NAME-shelved (Nova's shelved image); returns its id, or null for a volume-backed server.</summary>
    private async Task<string?> ShelveImageAsync(ApiRequest r, JsonObject server)
    {
        if (Str(server, "image_id") is not { Length: > 0 }) return null;
        var imageId = await SnapshotAsync(r, server, Str(server, "name") + "-shelved", [], "snapshot", "shelving_image_uploading", action: null, afterFill: null);
        server["_shelved_image"] = imageId;
        return imageId;
    }

    /// <summary>Unshelve deletes the shelved image.</summary>
    private async Task DeleteShelvedImageAsync(ApiRequest r, JsonObject server)
    {
        if (Str(server, "_shelved_image") is not { } imageId) return;
        var answer = await _clients.SendAsync(HttpMethod.Delete, $"{_clients.ImageUrl}/v2/images/{imageId}", Token(r));
        if (!answer.Ok && answer.Status != System.Net.HttpStatusCode.NotFound) throw CloudClients.Failed("image", answer);
        server.Remove("_shelved_image");
    }

    /// <summary>Fills a snapshot image; on failure the image goes (as Nova deletes a failed snapshot) and the server's task state is cleared either way.</summary>
    private async Task FillSnapshotAsync(string token, string serverId, string imageId, string taskState, Func<Task> fill)
    {
        try
        {
            await fill();
        }
        catch (Exception e)
        {
            _logger.LogWarning("snapshot {Image} of server {Server} failed: {Message}", imageId, serverId, e.Message);
            await _clients.SendAsync(HttpMethod.Delete, $"{_clients.ImageUrl}/v2/images/{imageId}", token);
        }
        finally
        {
            if (await LoadAsync(ServerKind, serverId) is { } server && Str(server, "task_state") == taskState)
            {
                server["task_state"] = null;
                await SaveServerAsync(server);
            }
        }
    }

    private async Task UploadDiskAsync(string token, string project, string diskId, string imageId)
    {
        var answer = await _clients.VolumeSendAsync(HttpMethod.Post, token, project, $"/os-instance-disks/{diskId}/action",
            new JsonObject { ["os-upload_into_image"] = new JsonObject { ["image_id"] = imageId } });
        if (!answer.Ok) throw CloudClients.Failed("volume", answer);
    }

    private async Task CopyImageDataAsync(string token, string sourceId, string imageId)
    {
        using var get = new HttpRequestMessage(HttpMethod.Get, $"{_clients.ImageUrl}/v2/images/{sourceId}/file");
        get.Headers.Add("X-Auth-Token", token);
        using var source = await _clients.Http.SendAsync(get, HttpCompletionOption.ResponseHeadersRead);
        source.EnsureSuccessStatusCode();
        using var put = new HttpRequestMessage(HttpMethod.Put, $"{_clients.ImageUrl}/v2/images/{imageId}/file");
        put.Headers.Add("X-Auth-Token", token);
        put.Content = new StreamContent(await source.Content.ReadAsStreamAsync());
        put.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        if (source.Content.Headers.ContentLength is { } length) put.Content.Headers.ContentLength = length;
        using var stored = await _clients.Http.SendAsync(put);
        stored.EnsureSuccessStatusCode();
    }
}
