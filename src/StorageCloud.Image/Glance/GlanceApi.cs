using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using StorageCloud.Auth;
using StorageCloud.Auth.Policy;
using StorageCloud.Image.Images;
using StorageCloud.ObjectLayer;
using StorageCloud.Service.Api;

namespace StorageCloud.Image.Glance;

/// <summary>
/// The Glance v2 API on the image port: images (records in SQL, data as large objects in the object store's images
/// account), their data (upload, download with ranges, staging and the glance-direct import, all through the format
/// inspector), JSON-patch updates, tags, members, schemas and discovery. A project sees its own images, public and
/// community ones, and shared ones it is a member of; anything else answers 404, as Glance does.
/// </summary>
public sealed partial class GlanceApi
{
    /// <summary>The account image data lives in: a service account no user's token maps to.</summary>
    public const string Account = ".images";

    /// <summary>The container of active images' data (segments go to its "_segments" container).</summary>
    public const string DataContainer = "images";

    /// <summary>The container of staged data (the interoperable import's first step).</summary>
    public const string StagingContainer = "staging";

    private static readonly PolicyTable Policy = PolicyTable.ProjectScoped("image");

    private readonly ApiRouter<ApiRequest> _router;
    private readonly ImageStore _store;
    private readonly ObjectStore _objects;
    private readonly ImageSettings _settings;
    private readonly ILogger<GlanceApi> _logger;
    private readonly WebDownload _web;
    private readonly ImageCache _cache;
    private readonly HttpClient _http = new(new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(10), AllowAutoRedirect = false })
    {
        Timeout = Timeout.InfiniteTimeSpan,
    };

    /// <summary>Builds the routes.</summary>
    public GlanceApi(ImageStore store, ObjectStore objects, ImageSettings settings, ILogger<GlanceApi> logger)
    {
        (_store, _objects, _settings, _logger) = (store, objects, settings, logger);
        _web = new WebDownload(settings.WebDownloadAllowedHosts);
        _cache = new ImageCache(settings.CacheDir, settings.CacheMaxBytes);
        _router = new ApiRouter<ApiRequest>(ApiErrorFormat.Glance, (c, a) => new ApiRequest(c, a), logger) { TrailingSlashNamesNothing = true };
        _router.Map("GET", "/", VersionsAsync);
        _router.Map("GET", "/versions", VersionsAsync);
        MapImages();
        MapData();
        MapMembers();
        MapSchemas();
        MapMetadefs();
        MapTasks();
        MapCache();
    }

    /// <summary>Requests that need no token: the version documents.</summary>
    public static bool IsAnonymous(HttpContext context) => (context.Request.Path.Value ?? "/").TrimEnd('/') is "" or "/versions";

    /// <summary>Answers one request.</summary>
    public Task HandleAsync(HttpContext context) => _router.HandleAsync(context);

    private static ValidatedToken Me(ApiRequest r) => Caller.Require(r.Context);

    private static string Project(ApiRequest r) => Me(r).ProjectId ?? throw ApiError.Forbidden("image:project_scope");

    private static void Enforce(ApiRequest r, string action) => Policy.Enforce(action, Me(r), new PolicyTarget(ProjectId: Project(r)));

    private static string Now() => DateTimeOffset.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    /// <summary>The image, if the caller may see it: owner, admin, public or community, or a member of a shared image.</summary>
    private async Task<ImageRow> FindAsync(ApiRequest r, string id)
    {
        Enforce(r, "read");
        var row = Guid.TryParse(id, out var guid) ? await _store.GetAsync<ImageRow>(guid.ToString("D")) : null;
        if (row is null || !await VisibleAsync(r, row)) throw ApiError.NotFound($"No image found with ID {id}");
        return row;
    }

    private async Task<bool> VisibleAsync(ApiRequest r, ImageRow row) =>
        row.Owner == Project(r) || Me(r).IsAdmin || row.Visibility is "public" or "community"
        || (row.Visibility == "shared" && await _store.GetAsync<ImageMemberRow>(MemberId(row.Id, Project(r))) is not null);

    /// <summary>The image, if the caller owns it (or is an admin); another's visible image is 403, an invisible one 404.</summary>
    private async Task<ImageRow> FindOwnAsync(ApiRequest r, string id, string action)
    {
        var row = await FindAsync(r, id);
        Enforce(r, "write");
        if (row.Owner != Project(r) && !Me(r).IsAdmin) throw Forbidden($"You are not permitted to {action} this image.");
        return row;
    }

    /// <summary>Glance's 403 with its own words (the policy table's message names a rule).</summary>
    private static ApiError Forbidden(string message) => new(403, message);

    private static string MemberId(string image, string member) => image + ":" + member;

    private static JsonArray TagsOf(ImageRow row) => JsonNode.Parse(row.Tags) as JsonArray ?? [];

    private static JsonObject PropertiesOf(ImageRow row) => JsonNode.Parse(row.Properties) as JsonObject ?? [];

    /// <summary>An image as Glance shows it: the core attributes, then each additional property at the top level.</summary>
    private static JsonObject View(ImageRow row)
    {
        var view = new JsonObject
        {
            ["id"] = row.Id,
            ["name"] = row.Name,
            ["status"] = row.Status,
            ["visibility"] = row.Visibility,
            ["protected"] = row.Protected != 0,
            ["os_hidden"] = row.OsHidden != 0,
            ["owner"] = row.Owner,
            ["checksum"] = row.Checksum,
            ["os_hash_algo"] = row.OsHashAlgo,
            ["os_hash_value"] = row.OsHashValue,
            ["size"] = row.Size,
            ["virtual_size"] = row.VirtualSize,
            ["min_disk"] = row.MinDisk,
            ["min_ram"] = row.MinRam,
            ["disk_format"] = row.DiskFormat,
            ["container_format"] = row.ContainerFormat,
            ["tags"] = TagsOf(row),
            ["created_at"] = row.CreatedAt,
            ["updated_at"] = row.UpdatedAt,
            ["self"] = $"/v2/images/{row.Id}",
            ["file"] = $"/v2/images/{row.Id}/file",
            ["schema"] = "/v2/schemas/image",
        };
        if (row.Location is not null && row.Status is "active" or "deactivated") view["stores"] = StoreId;
        foreach (var (key, value) in PropertiesOf(row)) view[key] = value?.DeepClone();
        return view;
    }

    private static Task VersionsAsync(ApiRequest r)
    {
        var versions = new JsonArray();
        foreach (var (id, status) in new[] { ("v2.16", "CURRENT"), ("v2.15", "SUPPORTED"), ("v2.9", "SUPPORTED"), ("v2.7", "SUPPORTED"), ("v2.6", "SUPPORTED"), ("v2.5", "SUPPORTED"), ("v2.4", "SUPPORTED"), ("v2.3", "SUPPORTED"), ("v2.2", "SUPPORTED"), ("v2.1", "SUPPORTED"), ("v2.0", "SUPPORTED") })
            versions.Add(new JsonObject { ["id"] = id, ["status"] = status, ["links"] = new JsonArray(new JsonObject { ["rel"] = "self", ["href"] = $"{r.HostUrl}/v2/" }) });
        return ApiResponses.WriteJsonAsync(r.Context, 300, new JsonObject { ["versions"] = versions });
    }
}
