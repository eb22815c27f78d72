using System.Text.Json.Nodes;
using StorageCloud.Image.Images;
using StorageCloud.Service.Api;

namespace StorageCloud.Image.Glance;

public sealed partial class GlanceApi
{
    /// <summary>The disk formats Glance knows (its default list).</summary>
    public static readonly HashSet<string> DiskFormats = ["raw", "qcow2", "vmdk", "vhd", "vhdx", "vdi", "iso", "ami", "ari", "aki", "ploop"];

    /// <summary>The container formats Glance knows.</summary>
    public static readonly HashSet<string> ContainerFormats = ["bare", "ovf", "ova", "aki", "ari", "ami", "docker", "compressed"];

    private static readonly HashSet<string> ReadOnly =
        ["status", "checksum", "os_hash_algo", "os_hash_value", "size", "virtual_size", "created_at", "updated_at", "file", "self", "schema", "direct_url", "locations", "stores"];

    private static readonly HashSet<string> Visibilities = ["public", "private", "shared", "community"];

    private static readonly string[] SortKeys = ["name", "status", "container_format", "disk_format", "size", "id", "created_at", "updated_at", "visibility", "owner"];

    private const int MaxTags = 128;

    private void MapImages()
    {
        _router.Map("GET", "/v2/images", ListAsync);
        _router.Map("POST", "/v2/images", CreateAsync);
        _router.Map("GET", "/v2/images/{id}", async r => await ApiResponses.WriteJsonAsync(r.Context, 200, View(await FindAsync(r, r.Args[0]))));
        _router.Map("PATCH", "/v2/images/{id}", PatchAsync);
        _router.Map("DELETE", "/v2/images/{id}", DeleteAsync);
        _router.Map("POST", "/v2/images/{id}/actions/deactivate", r => ActivationAsync(r, "deactivated"));
        _router.Map("POST", "/v2/images/{id}/actions/reactivate", r => ActivationAsync(r, "active"));
        _router.Map("PUT", "/v2/images/{id}/tags/{tag}", r => TagAsync(r, add: true));
        _router.Map("DELETE", "/v2/images/{id}/tags/{tag}", r => TagAsync(r, add: false));
    }

    private async Task CreateAsync(ApiRequest r)
    {
        Enforce(r, "write");
        var body = await JsonBody.ReadAsync(r.Context);
        var project = Project(r);
        var now = Now();
        var row = new ImageRow { Owner = project, CreatedAt = now, UpdatedAt = now };
        if (body["id"] is { } id)
        {
            if (id is not JsonValue v || !v.TryGetValue<string>(out var text) || !Guid.TryParse(text, out var guid))
                throw ApiError.BadRequest("Provided object does not match schema 'image': 'id' is not a valid UUID");
            row.Id = guid.ToString("D");
        }
        else
        {
            row.Id = Guid.NewGuid().ToString("D");
        }
        foreach (var (key, value) in body)
        {
            if (key == "id") continue;
            if (ReadOnly.Contains(key)) throw Forbidden($"Attribute '{key}' is read-only.");
            Set(r, row, key, value, creating: true);
        }
        if ((await _store.ListAsync<ImageRow>(("owner", project))).Count >= _settings.MaxImagesPerProject)
            throw new ApiError(413, $"The project {project} has reached its limit of {_settings.MaxImagesPerProject} images.");
        if (!await _store.InsertAsync(row)) throw ApiError.Conflict($"Image with identifier {row.Id} already exists!");
        r.Context.Response.Headers.Location = $"{r.HostUrl}/v2/images/{row.Id}";
        await ApiResponses.WriteJsonAsync(r.Context, 201, View(row));
    }

    /// <summary>Sets one attribute or additional property from a create body or a patch, with Glance's checks.</summary>
    private static void Set(ApiRequest r, ImageRow row, string key, JsonNode? value, bool creating)
    {
        switch (key)
        {
            case "name":
                row.Name = value is null ? null : Text(value, key, 255);
                break;
            case "visibility":
                var visibility = Text(value, key, 32);
                if (!Visibilities.Contains(visibility)) throw Schema($"'{visibility}' is not one of ['community', 'public', 'private', 'shared']");
                if (visibility == "public" && !Me(r).IsAdmin) throw Forbidden("You are not authorized to complete publicize_image action.");
                row.Visibility = visibility;
                break;
            case "protected" or "os_hidden":
                if (value is not JsonValue b || !b.TryGetValue<bool>(out var flag)) throw Schema($"{value?.ToJsonString() ?? "None"} is not of type 'boolean'");
                if (key == "protected") row.Protected = flag ? 1 : 0;
                else row.OsHidden = flag ? 1 : 0;
                break;
            case "min_disk" or "min_ram":
                if (value is not JsonValue n || !n.TryGetValue<long>(out var number) || number < 0) throw Schema($"{value?.ToJsonString() ?? "None"} is not a non-negative integer ({key})");
                if (key == "min_disk") row.MinDisk = number;
                else row.MinRam = number;
                break;
            case "disk_format" or "container_format":
                if (!creating && row.Status != "queued") throw Forbidden($"Attribute {key} can be only replaced for a queued image.");
                var format = value is null ? null : Text(value, key, 32);
                if (format is not null && !(key == "disk_format" ? DiskFormats : ContainerFormats).Contains(format))
                    throw Schema($"'{format}' is not one of [{string.Join(", ", (key == "disk_format" ? DiskFormats : ContainerFormats).Order().Select(f => $"'{f}'"))}]");
                if (key == "disk_format") row.DiskFormat = format;
                else row.ContainerFormat = format;
                break;
            case "owner":
                if (!Me(r).IsAdmin) throw Forbidden("Owner can't be updated by non admin.");
                row.Owner = Text(value, key, 255);
                break;
            case "tags":
                if (value is not JsonArray tags) throw Schema($"{value?.ToJsonString() ?? "None"} is not of type 'array'");
                var set = new SortedSet<string>(StringComparer.Ordinal);
                foreach (var tag in tags) set.Add(Text(tag, "tags", 255));
                if (set.Count > MaxTags) throw new ApiError(413, $"Maximum number of tags exceeded ({MaxTags}).");
                row.Tags = new JsonArray([.. set.Select(t => (JsonNode)t)]).ToJsonString();
                break;
            default:
                if (key.Length is 0 or > 255) throw Schema("additional property names are 1 to 255 characters");
                // The os_glance namespace is the service's own (Glance writes import state there).
                if (key.StartsWith("os_glance", StringComparison.Ordinal)) throw Forbidden($"Attribute '{key}' is reserved.");
                var properties = PropertiesOf(row);
                if (value is null) properties.Remove(key);
                else properties[key] = Text(value, key, 65535);
                row.Properties = properties.ToJsonString();
                break;
        }
    }

    private static ApiError Schema(string detail) => ApiError.BadRequest($"Provided object does not match schema 'image': {detail}");

    private static string Text(JsonNode? value, string key, int max)
    {
        if (value is not JsonValue v || !v.TryGetValue<string>(out var text)) throw Schema($"{value?.ToJsonString() ?? "None"} is not of type 'string' ({key})");
        if (text.Length > max) throw Schema($"'{key}' is longer than {max} characters");
        return text;
    }

    /// <summary>The list's own parameters; any other query parameter filters on an image property, as Glance's do (?image_type=backup).</summary>
    private static readonly HashSet<string> ListParameters =
    [
        "limit", "marker", "sort_key", "sort_dir", "sort", "name", "visibility", "member_status", "owner", "status", "tag", "size_min", "size_max",
        "protected", "os_hidden", "disk_format", "container_format", "created_at", "updated_at", "id", "size",
    ];

    private async Task ListAsync(ApiRequest r)
    {
        Enforce(r, "read");
        var project = Project(r);
        var visibility = r.Query("visibility");
        if (visibility is not null && visibility != "all" && !Visibilities.Contains(visibility))
            throw ApiError.BadRequest($"Invalid visibility value: {visibility}");
        var memberStatus = r.Query("member_status") ?? "accepted";
        var memberships = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var m in await _store.ListAsync<ImageMemberRow>(("member_id", project))) memberships[m.ImageId] = m.Status;
        var tags = r.Context.Request.Query["tag"];
        var hidden = r.Query("os_hidden") is "true" or "True";
        var propertyFilters = new List<(string Key, string Value)>();
        foreach (var (key, value) in r.Context.Request.Query)
            if (!ListParameters.Contains(key)) propertyFilters.Add((key, value.ToString()));
        var selected = new List<ImageRow>();
        foreach (var row in await _store.ListAsync<ImageRow>(("status", r.Query("status")), ("name", r.Query("name")), ("owner", r.Query("owner")),
                     ("disk_format", r.Query("disk_format")), ("container_format", r.Query("container_format"))))
        {
            var mine = row.Owner == project;
            var listed = visibility switch
            {
                null or "all" => mine || row.Visibility == "public" || (Me(r).IsAdmin && visibility == "all")
                    || (row.Visibility == "shared" && memberships.TryGetValue(row.Id, out var s) && (memberStatus == "all" || s == memberStatus)),
                "community" => row.Visibility == "community",
                "shared" => row.Visibility == "shared" && (mine || Me(r).IsAdmin || (memberships.TryGetValue(row.Id, out var s2) && (memberStatus == "all" || s2 == memberStatus))),
                _ => row.Visibility == visibility && (mine || Me(r).IsAdmin || visibility == "public"),
            };
            if (!listed || (row.OsHidden != 0) != hidden) continue;
            if (r.Query("protected") is { } p && (row.Protected != 0) != p is "true" or "True") continue;
            if (tags.Count > 0 && tags.Any(t => !TagsOf(row).Any(x => x!.GetValue<string>() == t))) continue;
            if (long.TryParse(r.Query("size"), out var exact) && row.Size != exact) continue;
            if (long.TryParse(r.Query("size_min"), out var min) && (row.Size ?? 0) < min) continue;
            if (long.TryParse(r.Query("size_max"), out var max) && (row.Size ?? 0) > max) continue;
            if (propertyFilters.Count > 0 && JsonNode.Parse(row.Properties) is JsonObject properties
                && propertyFilters.Any(f => properties[f.Key] is not JsonValue v || v.ToString() != f.Value)) continue;
            selected.Add(row);
        }
        var sort = Pagination.Sort(r.Context.Request, SortKeys, new SortKey("created_at", true));
        selected.Sort((a, b) =>
        {
            foreach (var key in sort)
            {
                var c = key.Key is "size" ? Nullable.Compare(a.Size, b.Size) : string.CompareOrdinal(Field(a, key.Key), Field(b, key.Key));
                if (c != 0) return key.Descending ? -c : c;
            }
            return string.CompareOrdinal(a.Id, b.Id);
        });
        var (page, more) = Pagination.Page(selected, i => i.Id, r.Query("marker"), Pagination.Limit(r.Context.Request, 1000) ?? 25,
            m => ApiError.BadRequest($"marker {m} could not be found."));
        var items = new JsonArray();
        foreach (var row in page) items.Add(View(row));
        var answer = new JsonObject { ["images"] = items, ["first"] = "/v2/images", ["schema"] = "/v2/schemas/images" };
        if (more) answer["next"] = $"/v2/images?marker={page[^1].Id}" + (r.Query("limit") is { } limit ? $"&limit={Uri.EscapeDataString(limit)}" : "");
        await ApiResponses.WriteJsonAsync(r.Context, 200, answer);
    }

    private static string Field(ImageRow row, string key) => key switch
    {
        "name" => row.Name ?? "",
        "status" => row.Status,
        "container_format" => row.ContainerFormat ?? "",
        "disk_format" => row.DiskFormat ?? "",
        "id" => row.Id,
        "updated_at" => row.UpdatedAt,
        "visibility" => row.Visibility,
        "owner" => row.Owner,
        _ => row.CreatedAt,
    };

    /// <summary>PATCH with a JSON patch (application/openstack-images-v2.1-json-patch): add, replace and remove.</summary>
    private async Task PatchAsync(ApiRequest r)
    {
        var row = await FindOwnAsync(r, r.Args[0], "modify");
        var type = r.Context.Request.ContentType ?? "";
        if (!type.StartsWith("application/openstack-images-v2.1-json-patch", StringComparison.OrdinalIgnoreCase)
            && !type.StartsWith("application/openstack-images-v2.0-json-patch", StringComparison.OrdinalIgnoreCase))
            throw new ApiError(415, $"Invalid media type '{type}': use application/openstack-images-v2.1-json-patch.");
        if (await JsonBody.ReadNodeAsync(r.Context) is not JsonArray operations) throw ApiError.BadRequest("Request body must be a JSON array of operation objects.");
        foreach (var node in operations)
        {
            if (node is not JsonObject op) throw ApiError.BadRequest("Operations must be JSON objects.");
            var (verb, path) = Operation(op);
            if (!path.StartsWith('/') || path.Length < 2 || path.IndexOf('/', 1) >= 0)
                throw ApiError.BadRequest($"Invalid JSON pointer for this resource: '{path}'");
            var key = path[1..].Replace("~1", "/").Replace("~0", "~");
            if (key == "id" || ReadOnly.Contains(key)) throw Forbidden($"Attribute '{key}' is read-only.");
            var isProperty = !IsCore(key);
            switch (verb)
            {
                case "add" or "replace":
                    if (!op.ContainsKey("value")) throw ApiError.BadRequest($"Operation '{verb}' needs a value.");
                    if (verb == "replace" && isProperty && !PropertiesOf(row).ContainsKey(key)) throw ApiError.Conflict($"Property {key} does not exist.");
                    if (isProperty && op["value"] is null) throw Schema($"None is not of type 'string' ({key})");
                    Set(r, row, key, op["value"]?.DeepClone(), creating: false);
                    break;
                case "remove":
                    if (key == "tags") Set(r, row, "tags", new JsonArray(), creating: false);
                    else if (!isProperty) throw Forbidden($"Attribute '{key}' is reserved.");
                    else if (!PropertiesOf(row).ContainsKey(key)) throw ApiError.Conflict($"Property {key} does not exist.");
                    else Set(r, row, key, null, creating: false);
                    break;
                default:
                    throw ApiError.BadRequest($"Operation '{verb}' is not supported: use add, replace or remove.");
            }
        }
        row.UpdatedAt = Now();
        await _store.UpdateAsync(row);
        await ApiResponses.WriteJsonAsync(r.Context, 200, View(row));
    }

    /// <summary>
    /// An operation's verb and path: v2.1's {"op": "replace", "path": "/name"}, or v2.0's {"replace": "/name"} (which
    /// Tempest and older clients send).
    /// </summary>
    private static (string Verb, string Path) Operation(JsonObject op)
    {
        if (op.ContainsKey("op")) return (JsonBody.String(op, "op", "operation"), JsonBody.String(op, "path", "operation"));
        foreach (var verb in (string[])["add", "replace", "remove"])
        {
            if (op.ContainsKey(verb)) return (verb, JsonBody.String(op, verb, "operation"));
        }
        throw ApiError.BadRequest("Unable to find an operation (add, replace or remove) in the patch.");
    }

    private static bool IsCore(string key) => key is "name" or "visibility" or "protected" or "os_hidden" or "min_disk" or "min_ram" or "disk_format"
        or "container_format" or "owner" or "tags";

    private async Task DeleteAsync(ApiRequest r)
    {
        var row = await FindOwnAsync(r, r.Args[0], "delete");
        if (row.Protected != 0) throw Forbidden($"Image {row.Id} is protected and cannot be deleted.");
        await DeleteDataAsync(row);
        foreach (var member in await _store.ListAsync<ImageMemberRow>(("image_id", row.Id))) await _store.DeleteAsync<ImageMemberRow>(member.Id);
        foreach (var task in await _store.ListAsync<ImageTaskRow>(("image_id", row.Id))) await _store.DeleteAsync<ImageTaskRow>(task.Id);
        await _store.DeleteAsync<ImageRow>(row.Id);
        await ApiResponses.NoContent(r.Context, 204);
    }

    private async Task ActivationAsync(ApiRequest r, string to)
    {
        // Glance's default policy: the owner's members and admins (de)activate.
        var row = await FindOwnAsync(r, r.Args[0], to == "active" ? "reactivate" : "deactivate");
        if (row.Status is not ("active" or "deactivated"))
            throw Forbidden($"Not allowed to {(to == "active" ? "reactivate" : "deactivate")} image in status '{row.Status}'");
        row.Status = to;
        row.UpdatedAt = Now();
        await _store.UpdateAsync(row);
        await ApiResponses.NoContent(r.Context, 204);
    }

    private async Task TagAsync(ApiRequest r, bool add)
    {
        var row = await FindOwnAsync(r, r.Args[0], "modify");
        var tag = r.Args[1];
        if (tag.Length is 0 or > 255) throw ApiError.BadRequest("Tags are 1 to 255 characters.");
        var tags = TagsOf(row).Select(t => t!.GetValue<string>()).ToList();
        if (add && !tags.Contains(tag))
        {
            if (tags.Count >= MaxTags) throw new ApiError(413, $"Maximum number of tags exceeded ({MaxTags}).");
            tags.Add(tag);
        }
        else if (!add && !tags.Remove(tag))
        {
            throw ApiError.NotFound($"Tag {tag} not found");
        }
        Set(r, row, "tags", new JsonArray([.. tags.Select(t => (JsonNode)t)]), creating: false);
        row.UpdatedAt = Now();
        await _store.UpdateAsync(row);
        await ApiResponses.NoContent(r.Context, 204);
    }
}
