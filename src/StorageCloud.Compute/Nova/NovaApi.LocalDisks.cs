using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using StorageCloud.Compute.Clients;
using StorageCloud.Service.Api;

namespace StorageCloud.Compute.Nova;

/// <summary>
/// A server's local disks on the block store: the root disk, a copy-on-write clone of the image sized by the flavor
/// (or the image's own size for a flavor without a root disk), and blank ephemeral and swap disks of the flavor's
/// sizes (or of the block device mapping's, when it asks for smaller ones). Each is an instance disk of the volume
/// service (<c>os-instance-disks</c>): exported over NBD, not a volume the project sees, deleted with the server.
/// </summary>
public sealed partial class NovaApi
{
    private const long GiBytes = 1L << 30, MiBytes = 1L << 20;

    /// <summary>A local disk asked for: kind (ephemeral or swap) and bytes.</summary>
    private sealed record LocalDiskRequest(string Kind, long Bytes);

    /// <summary>
    /// The local disks a server gets besides its root disk: those the block device mapping asks for (blank, destination
    /// local; swap when guest_format says so), else the flavor's ephemeral and swap. 400 when they exceed the flavor, as Nova answers.
    /// </summary>
    private static List<LocalDiskRequest> LocalDiskRequests(JsonObject body, JsonObject flavor)
    {
        var result = new List<LocalDiskRequest>();
        long ephemeral = 0, swap = 0;
        var mapped = false;
        foreach (var m in (body["block_device_mapping_v2"] as JsonArray ?? []).OfType<JsonObject>())
        {
            if ((m["destination_type"]?.ToString() ?? "local") != "local" || m["source_type"]?.ToString() != "blank") continue;
            var size = m["volume_size"] is JsonValue v && (v.TryGetValue<long>(out var n) || (v.TryGetValue<string>(out var s) && long.TryParse(s, out n))) ? n : 0;
            var isSwap = m["guest_format"]?.ToString() == "swap";
            if (size <= 0) size = isSwap ? Long(flavor, "swap") : Long(flavor, "ephemeral");
            if (size <= 0) continue;
            mapped = true;
            if (isSwap)
            {
                if (swap > 0) throw ApiError.BadRequest("Block Device Mapping is Invalid: More than one swap drive requested.");
                swap = size;
                result.Add(new LocalDiskRequest("swap", size * MiBytes));
            }
            else
            {
                ephemeral += size;
                result.Add(new LocalDiskRequest("ephemeral", size * GiBytes));
            }
        }
        if (ephemeral > Long(flavor, "ephemeral")) throw ApiError.BadRequest("Ephemeral disks requested are larger than the instance type allows. If no size is given in one block device mapping, flavor ephemeral size will be used.");
        if (swap > Long(flavor, "swap")) throw ApiError.BadRequest("Swap drive requested is larger than instance type allows.");
        if (!mapped)
        {
            if (Long(flavor, "ephemeral") > 0) result.Add(new LocalDiskRequest("ephemeral", Long(flavor, "ephemeral") * GiBytes));
            if (Long(flavor, "swap") > 0) result.Add(new LocalDiskRequest("swap", Long(flavor, "swap") * MiBytes));
        }
        return result;
    }

    /// <summary>Makes the server's local disks: the root disk from its image (unless it boots from a volume), then the others.</summary>
    private async Task MakeLocalDisksAsync(string token, JsonObject server, BuildPlan plan)
    {
        if (plan.ImageId is { } imageId)
        {
            var image = await _clients.ImageAsync(token, imageId) ?? throw new ApiError(400, $"Image {imageId} could not be found.");
            await MakeLocalDiskAsync(token, server, "root", RootBytes(server, image), imageId);
        }
        foreach (var disk in plan.LocalDisks) await MakeLocalDiskAsync(token, server, disk.Kind, disk.Bytes, null);
    }

    /// <summary>The root disk's size: the flavor's, or the image's own (whole MiB) for a flavor without one.</summary>
    private static long RootBytes(JsonObject server, JsonObject image)
    {
        var flavorDisk = Long(server["flavor"]!.AsObject(), "disk") * GiBytes;
        var imageBytes = Math.Max(Long(image, "virtual_size"), Long(image, "size"));
        return flavorDisk > 0 ? flavorDisk : (imageBytes + MiBytes - 1) / MiBytes * MiBytes;
    }

    private async Task MakeLocalDiskAsync(string token, JsonObject server, string kind, long bytes, string? imageId)
    {
        var request = new JsonObject { ["instance_uuid"] = Str(server, "id"), ["kind"] = kind, ["size"] = bytes };
        if (imageId is not null) request["imageRef"] = imageId;
        var answer = await _clients.VolumeSendAsync(HttpMethod.Post, token, Str(server, "tenant_id")!, "/os-instance-disks", new JsonObject { ["disk"] = request });
        if (!answer.Ok) throw CloudClients.Failed("volume", answer);
        var made = answer.Body!["disk"]!.AsObject();
        var disks = server["_disks"] as JsonArray ?? [];
        server["_disks"] = disks;
        var device = kind == "root" ? "/dev/vda" : NextDevice(server);
        disks.Add(new JsonObject
        {
            ["id"] = Str(made, "id"), ["kind"] = kind, ["size"] = bytes, ["device"] = device, ["export"] = Str(made, "export"), ["image_id"] = imageId,
        });
    }

    /// <summary>Deletes the server's local disks (of one kind, or all); a disk the volume service no longer has is gone already.</summary>
    private async Task DeleteLocalDisksAsync(string token, JsonObject server, string? kind = null)
    {
        foreach (var disk in (server["_disks"] as JsonArray ?? []).OfType<JsonObject>().ToList())
        {
            if (kind is not null && Str(disk, "kind") != kind) continue;
            var answer = await _clients.VolumeSendAsync(HttpMethod.Delete, token, Str(server, "tenant_id")!, $"/os-instance-disks/{Str(disk, "id")}");
            if (!answer.Ok && answer.Status != System.Net.HttpStatusCode.NotFound) throw CloudClients.Failed("volume", answer);
            server["_disks"]!.AsArray().Remove(disk);
        }
    }

    /// <summary>The server's root disk record, or null (a server booted from a volume has none).</summary>
    private static JsonObject? RootDisk(JsonObject server) =>
        (server["_disks"] as JsonArray ?? []).OfType<JsonObject>().FirstOrDefault(d => Str(d, "kind") == "root");

    /// <summary>Grows the root disk to the flavor's root size after a resize is confirmed (disks never shrink).</summary>
    private async Task GrowRootDiskAsync(string token, JsonObject server)
    {
        if (RootDisk(server) is not { } root) return;
        var wanted = Long(server["flavor"]!.AsObject(), "disk") * GiBytes;
        if (wanted <= Long(root, "size")) return;
        var answer = await _clients.VolumeSendAsync(HttpMethod.Post, token, Str(server, "tenant_id")!, $"/os-instance-disks/{Str(root, "id")}/action",
            new JsonObject { ["os-extend"] = new JsonObject { ["new_size"] = wanted } });
        if (!answer.Ok) throw CloudClients.Failed("volume", answer);
        root["size"] = wanted;
    }
}
