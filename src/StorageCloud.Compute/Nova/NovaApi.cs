using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using StorageCloud.Auth;
using StorageCloud.Auth.Policy;
using StorageCloud.Compute.Clients;
using StorageCloud.Compute.Drivers;
using StorageCloud.Compute.Records;
using StorageCloud.Service.Api;

namespace StorageCloud.Compute.Nova;

/// <summary>
/// The Nova v2.1 API (`/v2.1/...` on the compute port, microversions 2.1 to 2.79): flavors with extra specs and
/// access lists, key pairs, servers with their actions, metadata, tags, volume attachments and action log, server
/// groups, limits and quotas, availability zones, hypervisors and services as one host. Ports come from the network
/// service and volumes from the volume service, asked with the caller's token. A caller sees its own project's
/// servers (another project's answer 404, as Nova's do); admins see all with <c>all_tenants</c>.
/// </summary>
public sealed partial class NovaApi
{
    /// <summary>The microversions served: 2.1 to 2.79, Nova's legacy header too.</summary>
    public static readonly Microversions Versions = new("compute", new ApiVersion(2, 1), new ApiVersion(2, 79), "X-OpenStack-Nova-API-Version");

    private static readonly PolicyTable Policy = PolicyTable.ProjectScoped("compute");

    private readonly ApiRouter<ApiRequest> _router;
    private readonly ComputeStore _store;
    private readonly CloudClients _clients;
    private readonly ComputeSettings _settings;
    private readonly ILogger _logger;
    private readonly IGuestDriver _driver;
    private readonly SemaphoreSlim _gate = new(1, 1);

    /// <summary>Builds the routes.</summary>
    public NovaApi(ComputeStore store, CloudClients clients, ComputeSettings settings, IGuestDriver driver, ILogger<NovaApi> logger)
    {
        (_store, _clients, _settings, _driver, _logger) = (store, clients, settings, driver, logger);
        _driver.GuestStopped += id => _ = GuestStoppedAsync(id);
        // "DELETE /images/" names no image: 404, as Nova answers, not the collection's 405.
        _router = new ApiRouter<ApiRequest>(ApiErrorFormat.ComputeFault, (c, a) => new ApiRequest(c, a), logger) { TrailingSlashNamesNothing = true };
        _router.Map("GET", "/", VersionsAsync);
        _router.Map("GET", "/v2.1", r => VersionAsync(r, "v2.1"));
        _router.Map("GET", "/v2", r => VersionAsync(r, "v2.0"));
        MapFlavors();
        MapKeypairs();
        MapServers();
        MapServerParts();
        MapAttachments();
        MapInterfaces();
        MapImages();
        MapSecurityGroups();
        MapVolumeProxy();
        MapHosts();
        MapNetworkProxy();
        MapAggregates();
        MapFloatingIps();
        MapServerGroups();
        MapQuotas();
        MapInfo();
        MapUsage();
    }

    /// <summary>Requests that need no token: the version documents.</summary>
    public static bool IsAnonymous(HttpContext context) => (context.Request.Path.Value ?? "/").TrimEnd('/') is "" or "/v2.1" or "/v2";

    /// <summary>Answers one request.</summary>
    public Task HandleAsync(HttpContext context) => _router.HandleAsync(context);

    /// <summary>Maps a route under /v2.1; the handler runs once the token and the microversion are checked.</summary>
    private void Map(string method, string path, ApiRouter<ApiRequest>.Handler handler) =>
        _router.Map(method, "/v2.1" + path, r =>
        {
            Caller.Require(r.Context);
            Versions.Negotiate(r.Context);
            return handler(r);
        });

    private static ValidatedToken Me(ApiRequest r) => Caller.Require(r.Context);

    private static string Project(ApiRequest r) => Me(r).ProjectId ?? "";

    private static string Token(ApiRequest r) => r.Context.Request.Headers["X-Auth-Token"].ToString();

    private static ApiVersion Version(ApiRequest r) => Versions.Of(r.Context);

    private static bool AtLeast(ApiRequest r, int minor) => Version(r).AtLeast(new ApiVersion(2, minor));

    private static void Enforce(ApiRequest r, string action, string? project = null) =>
        Policy.Enforce(action, Me(r), new PolicyTarget(ProjectId: project ?? Me(r).ProjectId));

    /// <summary>True when an admin asked for every project's records.</summary>
    private static bool AllTenants(ApiRequest r) =>
        Me(r).IsAdmin && r.Query("all_tenants") is { } all && all is not ("0" or "false" or "False");

    internal static string Now() => DateTimeOffset.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static ApiError NotFound(string message) => ApiError.NotFound(message);

    private static async Task<JsonObject> BodyAsync(ApiRequest r, string member) =>
        JsonBody.Object(await JsonBody.ReadAsync(r.Context), member, "request body");

    private static string? Str(JsonObject doc, string name) => doc[name] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    private static long Long(JsonObject doc, string name) =>
        doc[name] is JsonValue v && (v.TryGetValue<long>(out var n) || (v.TryGetValue<int>(out var i) && (n = i) == i)) ? n : 0;

    private static bool Flag(JsonObject doc, string name) => doc[name] is JsonValue v && v.TryGetValue<bool>(out var b) && b;

    private static JsonArray Links(ApiRequest r, string collection, string id) =>
    [
        new JsonObject { ["rel"] = "self", ["href"] = $"{r.HostUrl}/v2.1/{collection}/{id}" },
        new JsonObject { ["rel"] = "bookmark", ["href"] = $"{r.HostUrl}/{collection}/{id}" },
    ];

    private async Task<JsonObject?> LoadAsync(string kind, string id)
    {
        var row = await _store.GetAsync<ComputeRow>(kind + ":" + id);
        return row is null ? null : JsonNode.Parse(row.Body)!.AsObject();
    }

    private async Task<List<JsonObject>> AllAsync(string kind, string? project = null)
    {
        var rows = await _store.ListAsync<ComputeRow>(("kind", kind), ("project_id", project));
        var docs = new List<JsonObject>(rows.Count);
        foreach (var row in rows) docs.Add(JsonNode.Parse(row.Body)!.AsObject());
        return docs;
    }

    private Task<bool> InsertAsync(string kind, string id, string project, JsonObject doc) =>
        _store.InsertAsync(new ComputeRow { Id = kind + ":" + id, Kind = kind, ProjectId = project, Body = doc.ToJsonString() });

    private Task SaveAsync(string kind, string id, string project, JsonObject doc) =>
        _store.UpdateAsync(new ComputeRow { Id = kind + ":" + id, Kind = kind, ProjectId = project, Body = doc.ToJsonString() });

    private Task DeleteRowAsync(string kind, string id) => _store.DeleteAsync<ComputeRow>(kind + ":" + id);

    /// <summary>Reads a metadata object: keys of 1-255 characters, string values of up to 255.</summary>
    private static Dictionary<string, string> Metadata(JsonNode? node, string name)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        if (node is null) return result;
        if (node is not JsonObject o) throw ApiError.BadRequest($"Invalid input for field/attribute {name}. Value: {node.ToJsonString()}. {node.ToJsonString()} is not of type 'object'");
        foreach (var (key, value) in o)
        {
            if (key.Length is 0 or > 255) throw ApiError.BadRequest($"Invalid input for field/attribute {name}. Value: {o.ToJsonString()}. Additional properties are not allowed");
            if (value is not JsonValue v || !v.TryGetValue<string>(out var text))
                throw ApiError.BadRequest($"Invalid input for field/attribute {key}. Value: {value?.ToJsonString() ?? "null"}. {value?.ToJsonString() ?? "None"} is not of type 'string'");
            if (text.Length > 255) throw ApiError.BadRequest($"Invalid input for field/attribute {key}. Value: {text}. '{text}' is too long");
            result[key] = text;
        }
        return result;
    }

    private static JsonObject ToObject(Dictionary<string, string> map)
    {
        var o = new JsonObject();
        foreach (var (k, v) in map) o[k] = v;
        return o;
    }

    /// <summary>A name as Nova's schema takes it: 1-255 printable characters without leading or trailing white space.</summary>
    private static string Name(JsonObject body, string field, bool required = true)
    {
        var node = body[field];
        if (node is null)
        {
            if (required) throw ApiError.BadRequest($"Invalid input for field/attribute {(body.Parent is JsonObject ? body.GetPropertyName() : "body")}. Value: {body.ToJsonString()}. '{field}' is a required property");
            return "";
        }
        if (node is not JsonValue v || !v.TryGetValue<string>(out var text)) throw ApiError.BadRequest($"Invalid input for field/attribute {field}. Value: {node.ToJsonString()}. {node.ToJsonString()} is not of type 'string'");
        if (text.Length is 0 or > 255 || text.Trim() != text || text.Any(char.IsControl))
            throw ApiError.BadRequest($"Invalid input for field/attribute {field}. Value: {text}. '{text}' does not match '^(?! )[[:print:]]{{1,255}}(?<! )$'");
        return text;
    }

    private static Task VersionsAsync(ApiRequest r) => ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject
    {
        ["versions"] = new JsonArray(
            VersionDoc(r, "v2.0", "SUPPORTED", "", ""),
            VersionDoc(r, "v2.1", "CURRENT", Versions.Maximum.ToString(), Versions.Minimum.ToString())),
    });

    private static Task VersionAsync(ApiRequest r, string id)
    {
        var doc = id == "v2.1"
            ? VersionDoc(r, "v2.1", "CURRENT", Versions.Maximum.ToString(), Versions.Minimum.ToString())
            : VersionDoc(r, "v2.0", "SUPPORTED", "", "");
        doc["media-types"] = new JsonArray(new JsonObject { ["base"] = "application/json", ["type"] = $"application/vnd.openstack.compute+json;version={id[1..]}" });
        return ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["version"] = doc });
    }

    private static JsonObject VersionDoc(ApiRequest r, string id, string status, string version, string min) => new()
    {
        ["id"] = id,
        ["status"] = status,
        ["version"] = version,
        ["min_version"] = min,
        ["updated"] = id == "v2.0" ? "2011-01-21T11:33:21Z" : "2013-07-23T11:33:21Z",
        ["links"] = new JsonArray(new JsonObject { ["rel"] = "self", ["href"] = $"{r.HostUrl}/{(id == "v2.0" ? "v2" : "v2.1")}/" }),
    };
}
