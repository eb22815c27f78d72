using System.Globalization;
using System.Text.Json.Nodes;
using StorageCloud.Compute.Clients;
using StorageCloud.Service.Api;

namespace StorageCloud.Compute.Nova;

/// <summary>
/// Nova's image proxy (`/images`, deprecated and gone from 2.36, but still what 2.1 clients and Tempest use): the
/// image service's images in Nova's shape (status ACTIVE/SAVING/DELETED/ERROR, progress, minDisk/minRam, the custom
/// properties as metadata, the server a snapshot came from), filters, delete, and metadata read and written through
/// the image service's JSON patch, all with the caller's token.
/// </summary>
public sealed partial class NovaApi
{
    /// <summary>The image service's own fields: everything else on an image is a property, which Nova shows as metadata.</summary>
    private static readonly HashSet<string> ImageCoreFields =
    [
        "id", "name", "status", "visibility", "protected", "os_hidden", "owner", "checksum", "os_hash_algo", "os_hash_value", "size",
        "virtual_size", "min_disk", "min_ram", "disk_format", "container_format", "tags", "created_at", "updated_at", "self", "file", "schema",
        "stores", "locations", "direct_url",
    ];

    private void MapImages()
    {
        Map("GET", "/images", r => ListImagesAsync(r, detail: false));
        Map("GET", "/images/detail", r => ListImagesAsync(r, detail: true));
        Map("GET", "/images/{id}", async r =>
            await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["image"] = ImageView(r, await ProxiedImageAsync(r), detail: true) }));
        Map("DELETE", "/images/{id}", async r =>
        {
            await ProxiedImageAsync(r);
            var answer = await _clients.SendAsync(HttpMethod.Delete, $"{_clients.ImageUrl}/v2/images/{r.Args[0]}", Token(r));
            if (!answer.Ok) throw CloudClients.Failed("image", answer);
            await ApiResponses.NoContent(r.Context, 204);
        });
        Map("GET", "/images/{id}/metadata", async r =>
            await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["metadata"] = ImageMetadata(await ProxiedImageAsync(r)) }));
        Map("PUT", "/images/{id}/metadata", r => SetImageMetadataAsync(r, replace: true));
        Map("POST", "/images/{id}/metadata", r => SetImageMetadataAsync(r, replace: false));
        Map("GET", "/images/{id}/metadata/{key}", async r =>
        {
            var metadata = ImageMetadata(await ProxiedImageAsync(r));
            var value = metadata[r.Args[1]] ?? throw NotFound("Image metadata key not found");
            await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["meta"] = new JsonObject { [r.Args[1]] = value.DeepClone() } });
        });
        Map("PUT", "/images/{id}/metadata/{key}", SetImageMetadataItemAsync);
        Map("DELETE", "/images/{id}/metadata/{key}", async r =>
        {
            var image = await ProxiedImageAsync(r);
            if (!ImageMetadata(image).ContainsKey(r.Args[1])) throw NotFound("Image metadata key not found");
            await PatchImageAsync(r, [new JsonObject { ["op"] = "remove", ["path"] = "/" + EscapePointer(r.Args[1]) }]);
            await ApiResponses.NoContent(r.Context, 204);
        });
    }

    /// <summary>The image named by the path, as the caller may see it; 404 from 2.36 (the proxy is gone), for a malformed id, or for an image it cannot see.</summary>
    private async Task<JsonObject> ProxiedImageAsync(ApiRequest r)
    {
        RequireProxy(r);
        return await _clients.ImageAsync(Token(r), r.Args[0]) ?? throw NotFound("Image not found.");
    }

    /// <summary>Nova's proxy APIs answer 404 from 2.36.</summary>
    private static void RequireProxy(ApiRequest r)
    {
        if (AtLeast(r, 36)) throw NotFound("The resource could not be found.");
    }

    private static string EscapePointer(string key) => key.Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal);

    private static JsonObject ImageMetadata(JsonObject image)
    {
        var metadata = new JsonObject();
        foreach (var (key, value) in image)
            if (!ImageCoreFields.Contains(key) && value is JsonValue) metadata[key] = value.ToString();
        return metadata;
    }

    private static string NovaImageStatus(string? status) => status switch
    {
        "active" => "ACTIVE",
        "queued" or "saving" or "importing" or "uploading" => "SAVING",
        "deleted" or "pending_delete" => "DELETED",
        "killed" => "ERROR",
        _ => "UNKNOWN",
    };

    private JsonObject ImageView(ApiRequest r, JsonObject image, bool detail)
    {
        var id = Str(image, "id")!;
        var view = new JsonObject
        {
            ["id"] = id,
            ["name"] = Str(image, "name"),
            ["links"] = new JsonArray(
                new JsonObject { ["rel"] = "self", ["href"] = $"{r.HostUrl}/v2.1/images/{id}" },
                new JsonObject { ["rel"] = "bookmark", ["href"] = $"{r.HostUrl}/images/{id}" },
                new JsonObject { ["rel"] = "alternate", ["type"] = "application/vnd.openstack.image", ["href"] = $"{_clients.ImageUrl}/images/{id}" }),
        };
        if (!detail) return view;
        var status = Str(image, "status");
        view["status"] = NovaImageStatus(status);
        view["progress"] = status switch { "queued" => 25, "saving" => 50, "active" => 100, _ => 0 };
        view["created"] = Str(image, "created_at");
        view["updated"] = Str(image, "updated_at");
        view["minDisk"] = Long(image, "min_disk");
        view["minRam"] = Long(image, "min_ram");
        view["metadata"] = ImageMetadata(image);
        view["OS-EXT-IMG-SIZE:size"] = image["size"] is JsonValue ? Long(image, "size") : null;
        if (Str(image, "instance_uuid") is { Length: > 0 } server)
            view["server"] = new JsonObject { ["id"] = server, ["links"] = Links(r, "servers", server) };
        if (Str(image, "auto_disk_config") is { } auto)
            view["OS-DCF:diskConfig"] = auto.Equals("true", StringComparison.OrdinalIgnoreCase) ? "AUTO" : "MANUAL";
        return view;
    }

    private async Task ListImagesAsync(ApiRequest r, bool detail)
    {
        RequireProxy(r);
        Enforce(r, "read");
        var images = new List<JsonObject>();
        var next = "/v2/images?limit=1000";
        while (next is not null && images.Count < 100_000)
        {
            var answer = await _clients.SendAsync(HttpMethod.Get, _clients.ImageUrl + next, Token(r));
            if (!answer.Ok) throw CloudClients.Failed("image", answer);
            images.AddRange((answer.Body?["images"] as JsonArray ?? []).OfType<JsonObject>());
            next = answer.Body?["next"]?.ToString();
        }
        IEnumerable<JsonObject> selected = images;
        if (r.Query("name") is { } name) selected = selected.Where(i => Str(i, "name") == name);
        if (r.Query("status") is { } status) selected = selected.Where(i => NovaImageStatus(Str(i, "status")).Equals(status, StringComparison.OrdinalIgnoreCase));
        if (r.Query("server") is { } server)
        {
            var serverId = server.TrimEnd('/')[(server.TrimEnd('/').LastIndexOf('/') + 1)..];
            selected = selected.Where(i => Str(i, "instance_uuid") == serverId);
        }
        if (r.Query("type") is { } type) selected = selected.Where(i => Str(i, "image_type") == type);
        if (r.Query("minRam") is { } minRam && long.TryParse(minRam, NumberStyles.None, CultureInfo.InvariantCulture, out var ram))
            selected = selected.Where(i => Long(i, "min_ram") >= ram);
        if (r.Query("minDisk") is { } minDisk && long.TryParse(minDisk, NumberStyles.None, CultureInfo.InvariantCulture, out var disk))
            selected = selected.Where(i => Long(i, "min_disk") >= disk);
        if (Since(r, "changes-since") is { } since) selected = selected.Where(i => string.CompareOrdinal(Str(i, "updated_at"), since) >= 0);
        var list = selected.ToList();
        if (r.Query("marker") is { } marker)
        {
            var at = list.FindIndex(i => Str(i, "id") == marker);
            if (at < 0) throw ApiError.BadRequest($"marker [{marker}] not found");
            list = list[(at + 1)..];
        }
        if (r.Query("limit") is { } limitText)
        {
            if (!int.TryParse(limitText, NumberStyles.None, CultureInfo.InvariantCulture, out var limit)) throw ApiError.BadRequest("limit param must be an integer");
            if (list.Count > limit) list = list[..limit];
        }
        var result = new JsonArray();
        foreach (var image in list) result.Add(ImageView(r, image, detail));
        await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["images"] = result });
    }

    /// <summary>Changes image properties with a JSON patch; the image service's refusal (403 for another's image) is the answer.</summary>
    private async Task<JsonObject> PatchImageAsync(ApiRequest r, List<JsonObject> operations)
    {
        var patch = new JsonArray([.. operations]);
        var answer = await _clients.SendAsync(HttpMethod.Patch, $"{_clients.ImageUrl}/v2/images/{r.Args[0]}", Token(r), patch,
            contentType: "application/openstack-images-v2.1-json-patch");
        return answer.Ok ? answer.Body! : throw CloudClients.Failed("image", answer);
    }

    /// <summary>PUT (replace all custom properties) or POST (merge) of an image's metadata; 403 beyond the metadata_items quota.</summary>
    private async Task SetImageMetadataAsync(ApiRequest r, bool replace)
    {
        var image = await ProxiedImageAsync(r);
        var wanted = Metadata(await BodyAsync(r, "metadata"), "metadata");
        var current = ImageMetadata(image);
        var operations = new List<JsonObject>();
        if (replace)
            foreach (var (key, _) in current)
                if (!wanted.ContainsKey(key)) operations.Add(new JsonObject { ["op"] = "remove", ["path"] = "/" + EscapePointer(key) });
        var count = replace ? wanted.Count : current.Select(p => p.Key).Union(wanted.Keys).Count();
        if (count > await LimitAsync(Project(r), "metadata_items")) throw new ApiError(403, "Quota exceeded for metadata_items: Requested metadata items exceeds the allowed number");
        foreach (var (key, value) in wanted)
            operations.Add(new JsonObject { ["op"] = current.ContainsKey(key) ? "replace" : "add", ["path"] = "/" + EscapePointer(key), ["value"] = value });
        var updated = operations.Count > 0 ? await PatchImageAsync(r, operations) : image;
        await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["metadata"] = ImageMetadata(updated) });
    }

    private async Task SetImageMetadataItemAsync(ApiRequest r)
    {
        var image = await ProxiedImageAsync(r);
        var meta = Metadata(await BodyAsync(r, "meta"), "meta");
        if (meta.Count != 1) throw ApiError.BadRequest("Request body contains too many items");
        if (!meta.ContainsKey(r.Args[1])) throw ApiError.BadRequest("Request body and URI mismatch");
        var current = ImageMetadata(image);
        if (!current.ContainsKey(r.Args[1]) && current.Count + 1 > await LimitAsync(Project(r), "metadata_items"))
            throw new ApiError(403, "Quota exceeded for metadata_items: Requested metadata items exceeds the allowed number");
        var updated = await PatchImageAsync(r, [new JsonObject
        {
            ["op"] = current.ContainsKey(r.Args[1]) ? "replace" : "add", ["path"] = "/" + EscapePointer(r.Args[1]), ["value"] = meta[r.Args[1]],
        }]);
        await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["meta"] = new JsonObject { [r.Args[1]] = ImageMetadata(updated)[r.Args[1]]?.DeepClone() } });
    }
}
