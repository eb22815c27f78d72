using System.Globalization;
using System.Text.Json.Nodes;
using StorageCloud.Compute.Clients;
using StorageCloud.Service.Api;

namespace StorageCloud.Compute.Nova;

/// <summary>
/// Nova's volume proxy (`/os-volumes`, `/os-snapshots`; deprecated and gone from 2.36): the volume service's volumes
/// and snapshots in Nova's camel-case shape, created, listed (limit and offset), shown and deleted there with the
/// caller's token.
/// </summary>
public sealed partial class NovaApi
{
    private void MapVolumeProxy()
    {
        Map("POST", "/os-volumes", CreateProxiedVolumeAsync);
        Map("GET", "/os-volumes", r => ListProxiedAsync(r, "volumes", VolumeProxyView));
        Map("GET", "/os-volumes/detail", r => ListProxiedAsync(r, "volumes", VolumeProxyView));
        Map("GET", "/os-volumes/{id}", async r =>
            await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["volume"] = VolumeProxyView(await ProxiedVolumeItemAsync(r, "volumes", "volume")) }));
        Map("DELETE", "/os-volumes/{id}", r => DeleteProxiedAsync(r, "volumes", "volume"));
        Map("POST", "/os-snapshots", CreateProxiedSnapshotAsync);
        Map("GET", "/os-snapshots", r => ListProxiedAsync(r, "snapshots", SnapshotProxyView));
        Map("GET", "/os-snapshots/detail", r => ListProxiedAsync(r, "snapshots", SnapshotProxyView));
        Map("GET", "/os-snapshots/{id}", async r =>
            await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["snapshot"] = SnapshotProxyView(await ProxiedVolumeItemAsync(r, "snapshots", "snapshot")) }));
        Map("DELETE", "/os-snapshots/{id}", r => DeleteProxiedAsync(r, "snapshots", "snapshot"));
    }

    private static JsonObject VolumeProxyView(JsonObject v)
    {
        var attachments = new JsonArray();
        foreach (var a in (v["attachments"] as JsonArray ?? []).OfType<JsonObject>())
            attachments.Add(new JsonObject { ["id"] = Str(v, "id"), ["volumeId"] = Str(v, "id"), ["serverId"] = Str(a, "server_id"), ["device"] = Str(a, "device") });
        if (attachments.Count == 0) attachments.Add(new JsonObject());
        return new JsonObject
        {
            ["id"] = Str(v, "id"), ["status"] = Str(v, "status"), ["size"] = Long(v, "size"), ["availabilityZone"] = Str(v, "availability_zone") ?? "nova",
            ["createdAt"] = Str(v, "created_at"), ["displayName"] = Str(v, "name"), ["displayDescription"] = Str(v, "description"),
            ["volumeType"] = Str(v, "volume_type"), ["snapshotId"] = Str(v, "snapshot_id"), ["metadata"] = v["metadata"]?.DeepClone() ?? new JsonObject(),
            ["attachments"] = attachments,
        };
    }

    private static JsonObject SnapshotProxyView(JsonObject s) => new()
    {
        ["id"] = Str(s, "id"), ["volumeId"] = Str(s, "volume_id"), ["status"] = Str(s, "status"), ["size"] = Long(s, "size"),
        ["createdAt"] = Str(s, "created_at"), ["displayName"] = Str(s, "name"), ["displayDescription"] = Str(s, "description"),
    };

    private async Task<JsonObject> VolumeProxyAsync(ApiRequest r, HttpMethod method, string path, JsonObject? body = null)
    {
        var answer = await _clients.VolumeSendAsync(method, Token(r), Project(r), path, body);
        return answer.Ok ? answer.Body ?? [] : throw CloudClients.Failed("volume", answer);
    }

    /// <summary>The volume or snapshot named by the path; 404 for a malformed id (as Nova answers) or one the caller cannot see.</summary>
    private async Task<JsonObject> ProxiedVolumeItemAsync(ApiRequest r, string collection, string member)
    {
        RequireProxy(r);
        Enforce(r, "read");
        if (!Guid.TryParse(r.Args[0], out _)) throw NotFound($"{(member == "volume" ? "Volume" : "Snapshot")} {r.Args[0]} could not be found.");
        return (await VolumeProxyAsync(r, HttpMethod.Get, $"/{collection}/{r.Args[0]}"))[member]!.AsObject();
    }

    private async Task DeleteProxiedAsync(ApiRequest r, string collection, string member)
    {
        await ProxiedVolumeItemAsync(r, collection, member);
        await VolumeProxyAsync(r, HttpMethod.Delete, $"/{collection}/{r.Args[0]}");
        await ApiResponses.NoContent(r.Context, 202);
    }

    private async Task ListProxiedAsync(ApiRequest r, string collection, Func<JsonObject, JsonObject> view)
    {
        RequireProxy(r);
        Enforce(r, "read");
        var items = (await VolumeProxyAsync(r, HttpMethod.Get, $"/{collection}/detail"))[collection] as JsonArray ?? [];
        IEnumerable<JsonObject> selected = items.OfType<JsonObject>();
        if (r.Query("offset") is { } offsetText)
            selected = selected.Skip(int.TryParse(offsetText, NumberStyles.None, CultureInfo.InvariantCulture, out var offset) ? offset : throw ApiError.BadRequest("offset param must be an integer"));
        if (r.Query("limit") is { } limitText)
            selected = selected.Take(int.TryParse(limitText, NumberStyles.None, CultureInfo.InvariantCulture, out var limit) ? limit : throw ApiError.BadRequest("limit param must be an integer"));
        var list = new JsonArray();
        foreach (var item in selected) list.Add(view(item));
        await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { [collection] = list });
    }

    private async Task CreateProxiedVolumeAsync(ApiRequest r)
    {
        RequireProxy(r);
        Enforce(r, "write");
        var body = await BodyAsync(r, "volume");
        var sizeText = body["size"] is JsonValue sv ? sv.ToString() : null;
        if (sizeText is null || !long.TryParse(sizeText, NumberStyles.None, CultureInfo.InvariantCulture, out var size) || size < 1)
            throw ApiError.BadRequest($"Invalid input for field/attribute size. Value: {sizeText}. '{sizeText}' does not match '^[0-9]*$' or is less than the minimum of 1");
        var volume = new JsonObject { ["size"] = size };
        foreach (var (from, to) in new[] { ("display_name", "name"), ("display_description", "description"), ("volume_type", "volume_type"), ("availability_zone", "availability_zone"), ("snapshot_id", "snapshot_id") })
            if (JsonBody.OptionalString(body, from, "volume") is { } value) volume[to] = value;
        if (body["metadata"] is JsonNode metadata) volume["metadata"] = ToObject(Metadata(metadata, "metadata"));
        var made = (await VolumeProxyAsync(r, HttpMethod.Post, "/volumes", new JsonObject { ["volume"] = volume }))["volume"]!.AsObject();
        await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["volume"] = VolumeProxyView(made) });
    }

    private async Task CreateProxiedSnapshotAsync(ApiRequest r)
    {
        RequireProxy(r);
        Enforce(r, "write");
        var body = await BodyAsync(r, "snapshot");
        var volumeId = JsonBody.OptionalString(body, "volume_id", "snapshot") ?? throw ApiError.BadRequest("Invalid input for field/attribute snapshot. 'volume_id' is a required property");
        var snapshot = new JsonObject { ["volume_id"] = volumeId };
        if (JsonBody.OptionalString(body, "display_name", "snapshot") is { } name) snapshot["name"] = name;
        if (JsonBody.OptionalString(body, "display_description", "snapshot") is { } description) snapshot["description"] = description;
        if (body["force"] is JsonNode force) snapshot["force"] = force.ToString().Equals("true", StringComparison.OrdinalIgnoreCase);
        var made = (await VolumeProxyAsync(r, HttpMethod.Post, "/snapshots", new JsonObject { ["snapshot"] = snapshot }))["snapshot"]!.AsObject();
        await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["snapshot"] = SnapshotProxyView(made) });
    }
}
