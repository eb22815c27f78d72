using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using StorageCloud.Auth;
using StorageCloud.Auth.Policy;
using StorageCloud.Block.Backups;
using StorageCloud.Block.Volumes;
using StorageCloud.Service.Api;

namespace StorageCloud.Block.Cinder;

/// <summary>
/// The Cinder v3 API (`/v3/{project_id}/...` on the volume port) over the block layer: volumes, snapshots, backups, types,
/// quotas and limits, transfers, attachments and the legacy attach actions, availability zones and services. Metadata
/// lives in the volume store's SQL; data in the volumes' chunk layers. A caller sees only its own project's volumes
/// (another project's answer 404, as Cinder's do); admins see all with <c>all_tenants</c>.
/// </summary>
public sealed partial class CinderApi
{
    /// <summary>The microversions served: 3.0 to 3.60, as the issue asks (3.27 attachments, 3.55 transfers).</summary>
    public static readonly Microversions Versions = new("volume", new ApiVersion(3, 0), new ApiVersion(3, 60));

    /// <summary>One GiB: Cinder sizes are whole GiB.</summary>
    public const long GiB = 1L << 30;

    private static readonly PolicyTable Policy = PolicyTable.ProjectScoped("volume");

    private readonly ApiRouter<ApiRequest> _router;
    private readonly VolumeManager _manager;
    private readonly ImageLayers _images;
    private readonly BackupManager _backups;
    private readonly VolumeStore _store;
    private readonly BlockSettings _settings;
    private readonly string _nbdHost;
    private readonly Instances.ComputeServers _compute;
    private readonly SemaphoreSlim _quotaGate = new(1, 1);

    /// <summary>Builds the routes.</summary>
    public CinderApi(VolumeManager manager, ImageLayers images, BackupManager backups, Instances.ComputeServers compute, BlockSettings settings, string nbdHost,
        ILogger<CinderApi> logger)
    {
        (_manager, _images, _backups, _compute, _store, _settings, _nbdHost) = (manager, images, backups, compute, manager.Store, settings, nbdHost);
        _router = new ApiRouter<ApiRequest>(ApiErrorFormat.VolumeFault, (c, a) => new ApiRequest(c, a), logger) { TrailingSlashNamesNothing = true };
        _router.Map("GET", "/", VersionsAsync);
        _router.Map("GET", "/v3", VersionAsync);
        MapVolumes();
        MapSnapshots();
        MapTypes();
        MapQuotas();
        MapTransfers();
        MapAttachments();
        MapGroups();
        MapBackups();
        MapInfo();
        MapInstanceDisks();
    }

    /// <summary>Requests that need no token: the version documents.</summary>
    public static bool IsAnonymous(HttpContext context) => (context.Request.Path.Value ?? "/").TrimEnd('/') is "" or "/v3";

    /// <summary>Answers one request.</summary>
    public Task HandleAsync(HttpContext context) => _router.HandleAsync(context);

    /// <summary>Maps a project route: <c>/v3/{project_id}</c> + <paramref name="path"/>; the handler runs after the project and version are checked.</summary>
    private void Project(string method, string path, ApiRouter<ApiRequest>.Handler handler) =>
        _router.Map(method, "/v3/{project}" + path, r =>
        {
            var caller = Caller.Require(r.Context);
            Versions.Negotiate(r.Context);
            if (caller.ProjectId is null || (r.Args[0] != caller.ProjectId && !caller.IsAdmin))
                throw ApiError.BadRequest("Malformed request url");
            return handler(r);
        });

    private static ValidatedToken Me(ApiRequest r) => Caller.Require(r.Context);

    private static ApiVersion Version(ApiRequest r) => Versions.Of(r.Context);

    private static void Enforce(ApiRequest r, string action, string? project = null) =>
        Policy.Enforce(action, Me(r), new PolicyTarget(ProjectId: project ?? Me(r).ProjectId));

    /// <summary>The project a request acts in: the URL's (an admin may name any).</summary>
    private static string ProjectOf(ApiRequest r) => r.Args[0];

    /// <summary>True when the request lists every project's rows (admins with all_tenants).</summary>
    private static bool AllTenants(ApiRequest r) =>
        Me(r).IsAdmin && r.Query("all_tenants") is { } all && all is not ("0" or "false" or "False");

    /// <summary>A row the caller may see, or 404 as Cinder answers for another project's.</summary>
    private static bool Visible(ApiRequest r, string project) => project == ProjectOf(r) || Me(r).IsAdmin;

    private static JsonArray Links(ApiRequest r, string kind, string id) =>
    [
        new JsonObject { ["href"] = $"{r.HostUrl}/v3/{ProjectOf(r)}/{kind}/{id}", ["rel"] = "self" },
        new JsonObject { ["href"] = $"{r.HostUrl}/{ProjectOf(r)}/{kind}/{id}", ["rel"] = "bookmark" },
    ];

    private static long Gigabytes(long bytes) => (bytes + GiB - 1) / GiB;

    private static JsonObject ParseObject(string json) => JsonNode.Parse(json) as JsonObject ?? [];

    private static string? Timestamp(string? value) => string.IsNullOrEmpty(value) ? null : value;

    /// <summary>A JSON body's member object; Cinder's 400 when the body is not an object holding it.</summary>
    private static async Task<JsonObject> BodyAsync(ApiRequest r, string member) =>
        JsonBody.Object(await JsonBody.ReadAsync(r.Context), member, "request body");

    /// <summary>Reads a metadata object: string keys of 1-255 characters and string values of up to 255.</summary>
    private static Dictionary<string, string> Metadata(JsonObject parent, string name)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        if (parent[name] is null) return result;
        if (parent[name] is not JsonObject o) throw ApiError.Invalid($"Invalid input for field/attribute {name}. Value: not a dict.");
        foreach (var (key, value) in o)
        {
            if (key.Length is 0 or > 255) throw ApiError.Invalid($"Invalid input for field/attribute {name}. Value: a key is empty or longer than 255 characters.");
            if (value is not JsonValue v || !v.TryGetValue<string>(out var text))
                throw ApiError.Invalid($"Invalid input for field/attribute {name}. Value: the value of '{key}' is not a string.");
            if (text.Length > 255) throw ApiError.Invalid($"Invalid input for field/attribute {name}. Value: the value of '{key}' is longer than 255 characters.");
            result[key] = text;
        }
        return result;
    }

    private static string Json(Dictionary<string, string> values)
    {
        var o = new JsonObject();
        foreach (var (k, v) in values.OrderBy(p => p.Key, StringComparer.Ordinal)) o[k] = v;
        return o.ToJsonString();
    }

    private static JsonObject MetadataView(string json) => ParseObject(json);

    /// <summary>A string field of at most 255 characters (names), or null when absent.</summary>
    private static string? ShortString(JsonObject body, string name, string where)
    {
        var value = JsonBody.OptionalString(body, name, where);
        if (value is { Length: > 255 }) throw ApiError.Invalid($"Invalid input for field/attribute {name}. Value: longer than 255 characters.");
        return value;
    }

    /// <summary>A positive whole number of GiB (size, new_size); Cinder's 400 otherwise.</summary>
    private long SizeField(JsonObject body, string name, bool required)
    {
        var node = body[name];
        if (node is null)
        {
            if (required) throw ApiError.Invalid($"Invalid input for field/attribute {name}. Value: None. None is not of type 'integer', 'string'");
            return 0;
        }
        long size;
        if (node is JsonValue v && v.TryGetValue<long>(out var n)) size = n;
        else if (node is JsonValue s && s.TryGetValue<string>(out var text) && long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed)) size = parsed;
        else throw ApiError.Invalid($"Invalid input for field/attribute {name}. Value: {node.ToJsonString()}. It must be an integer.");
        var max = _settings.MaxVolumeBytes / GiB;
        if (size < 1 || size > max)
            throw ApiError.Invalid($"Invalid input for field/attribute {name}. Value: {size}. {size} is {(size < 1 ? "less than the minimum of 1" : $"greater than the maximum of {max}")}");
        return size;
    }

    private static JsonObject VersionDocument(ApiRequest r) => new()
    {
        ["id"] = "v3.0",
        ["status"] = "CURRENT",
        ["version"] = Versions.Maximum.ToString(),
        ["min_version"] = Versions.Minimum.ToString(),
        ["updated"] = "2023-06-01T00:00:00Z",
        ["links"] = new JsonArray(
            new JsonObject { ["rel"] = "describedby", ["type"] = "text/html", ["href"] = "https://docs.openstack.org/" },
            new JsonObject { ["rel"] = "self", ["href"] = $"{r.HostUrl}/v3/" }),
        ["media-types"] = new JsonArray(new JsonObject { ["base"] = "application/json", ["type"] = "application/vnd.openstack.volume+json;version=3" }),
    };

    private static Task VersionsAsync(ApiRequest r) =>
        ApiResponses.WriteJsonAsync(r.Context, 300, new JsonObject { ["versions"] = new JsonArray(VersionDocument(r)) });

    private static Task VersionAsync(ApiRequest r) =>
        ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["versions"] = new JsonArray(VersionDocument(r)) });
}
