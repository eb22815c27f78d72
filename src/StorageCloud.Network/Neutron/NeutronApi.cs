using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using StorageCloud.Auth;
using StorageCloud.Auth.Policy;
using StorageCloud.Network.Records;
using StorageCloud.Service.Api;

namespace StorageCloud.Network.Neutron;

/// <summary>
/// The Neutron v2.0 API (`/v2.0/...` on the network port), records only: networks, subnets with IP allocation pools
/// and address assignment without collisions, ports with MAC addresses, routers with gateways and interfaces,
/// floating IPs, security groups and rules (each project's default group made on first use), quotas, extensions,
/// agents and availability zones. A caller sees its project's resources, and shared or external networks; another
/// project's answer 404, as Neutron's do; admins see all.
/// </summary>
public sealed partial class NeutronApi
{
    private static readonly PolicyTable Policy = PolicyTable.ProjectScoped("network");

    private readonly ApiRouter<ApiRequest> _router;
    private readonly NetworkStore _store;
    private readonly NetworkSettings _settings;
    private readonly SemaphoreSlim _gate = new(1, 1);

    /// <summary>Builds the routes.</summary>
    public NeutronApi(NetworkStore store, NetworkSettings settings, ILogger<NeutronApi> logger)
    {
        (_store, _settings) = (store, settings);
        _router = new ApiRouter<ApiRequest>(ApiErrorFormat.Neutron, (c, a) => new ApiRequest(c, a), logger);
        _router.Map("GET", "/", VersionsAsync);
        _router.Map("GET", "/v2.0", VersionAsync);
        MapNetworks();
        MapSubnets();
        MapPorts();
        MapRouters();
        MapFloatingIps();
        MapSecurityGroups();
        MapQuotas();
        MapInfo();
        foreach (var (collection, kind) in Collections)
        {
            Map("GET", $"/{collection}/{{id}}/tags", r => TagsAsync(r, kind));
            Map("PUT", $"/{collection}/{{id}}/tags", r => ReplaceTagsAsync(r, kind));
            Map("DELETE", $"/{collection}/{{id}}/tags", r => ReplaceTagsAsync(r, kind, clear: true));
            Map("GET", $"/{collection}/{{id}}/tags/{{tag}}", r => TagAsync(r, kind, "GET"));
            Map("PUT", $"/{collection}/{{id}}/tags/{{tag}}", r => TagAsync(r, kind, "PUT"));
            Map("DELETE", $"/{collection}/{{id}}/tags/{{tag}}", r => TagAsync(r, kind, "DELETE"));
        }
    }

    private static readonly (string Collection, string Kind)[] Collections =
    [
        ("networks", "network"), ("subnets", "subnet"), ("ports", "port"), ("routers", "router"), ("floatingips", "floatingip"),
        ("security-groups", "security_group"),
    ];

    /// <summary>Requests that need no token: the version documents.</summary>
    public static bool IsAnonymous(HttpContext context) => (context.Request.Path.Value ?? "/").TrimEnd('/') is "" or "/v2.0";

    /// <summary>Answers one request.</summary>
    public Task HandleAsync(HttpContext context) => _router.HandleAsync(context);

    /// <summary>Maps a route under /v2.0 (and its ".json" form, which older clients use).</summary>
    private void Map(string method, string path, ApiRouter<ApiRequest>.Handler handler)
    {
        _router.Map(method, "/v2.0" + path, handler);
        if (!path.EndsWith('}') || path.Count(c => c == '/') == 1) _router.Map(method, "/v2.0" + path + ".json", handler);
    }

    private static ValidatedToken Me(ApiRequest r) => Caller.Require(r.Context);

    private static void Enforce(ApiRequest r, string action) => Policy.Enforce(action, Me(r), new PolicyTarget(ProjectId: Me(r).ProjectId));

    private static string Now() => DateTimeOffset.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static ApiError NotFound(string type, string message) => new(404, message) { Kind = type };

    private static ApiError Conflict(string type, string message) => new(409, message) { Kind = type };

    private static ApiError BadRequest(string message, string type = "HTTPBadRequest") => new(400, message) { Kind = type };

    private static ApiError InvalidInput(string message) => new(400, $"Invalid input for operation: {message}") { Kind = "InvalidInput" };

    /// <summary>The member object of a request body: Neutron's 400 when the body is not {member: {...}}.</summary>
    private static async Task<JsonObject> BodyAsync(ApiRequest r, string member)
    {
        var body = await JsonBody.ReadAsync(r.Context);
        if (body[member] is not JsonObject o) throw BadRequest($"Resource body required: the request body must hold a '{member}' object.");
        return o;
    }

    /// <summary>
    /// Creates one resource ({member: {...}}) or several ({plural: [{...}, ...]}, Neutron's bulk create): either all
    /// of a bulk request are made, or none (those made before a failure are undone).
    /// </summary>
    private static async Task CreateOneOrManyAsync(ApiRequest r, string member, string plural, Func<ApiRequest, JsonObject, Task<JsonObject>> create,
        Func<JsonObject, Task> undo)
    {
        var body = await JsonBody.ReadAsync(r.Context);
        if (body[member] is JsonObject one)
        {
            await WriteAsync(r, 201, member, await create(r, one));
            return;
        }
        if (body[plural] is not JsonArray { Count: > 0 } many) throw BadRequest($"Resource body required: the request body must hold a '{member}' object or a '{plural}' list.");
        var made = new List<JsonObject>();
        try
        {
            foreach (var item in many)
                made.Add(await create(r, item as JsonObject ?? throw BadRequest($"Each of '{plural}' must be an object.")));
        }
        catch
        {
            foreach (var doc in made) await undo(doc);
            throw;
        }
        var items = new JsonArray();
        foreach (var doc in made) items.Add(View(r, doc));
        await ApiResponses.WriteJsonAsync(r.Context, 201, new JsonObject { [plural] = items });
    }

    /// <summary>A new resource: the attributes every Neutron resource has.</summary>
    private static JsonObject Stamp(JsonObject doc, string project)
    {
        var now = Now();
        doc["id"] ??= Guid.NewGuid().ToString("D");
        doc["tenant_id"] = project;
        doc["project_id"] = project;
        doc["description"] ??= "";
        doc["tags"] ??= new JsonArray();
        doc["created_at"] = now;
        doc["updated_at"] = now;
        doc["revision_number"] = 0;
        return doc;
    }

    /// <summary>The project a new resource belongs to: the caller's, or one an admin names.</summary>
    private static string OwnerOf(ApiRequest r, JsonObject body)
    {
        var named = JsonBody.OptionalString(body, "project_id", "resource") ?? JsonBody.OptionalString(body, "tenant_id", "resource");
        if (named is null || named == Me(r).ProjectId) return Me(r).ProjectId ?? "";
        if (!Me(r).IsAdmin) throw new ApiError(403, "Specifying 'project_id' or 'tenant_id' other than the authenticated project in request requires admin privileges") { Kind = "HTTPForbidden" };
        return named;
    }

    private async Task<JsonObject?> LoadAsync(string kind, string id)
    {
        var row = await _store.GetAsync<ResourceRow>(id);
        return row is null || row.Kind != kind ? null : JsonNode.Parse(row.Body)!.AsObject();
    }

    private async Task<List<JsonObject>> AllAsync(string kind, string? project = null)
    {
        var rows = await _store.ListAsync<ResourceRow>(("kind", kind), ("project_id", project));
        var docs = new List<JsonObject>(rows.Count);
        foreach (var row in rows) docs.Add(JsonNode.Parse(row.Body)!.AsObject());
        return docs;
    }

    private Task InsertAsync(string kind, JsonObject doc) =>
        _store.InsertAsync(new ResourceRow { Id = Str(doc, "id")!, Kind = kind, ProjectId = Str(doc, "project_id") ?? "", Body = doc.ToJsonString() });

    /// <summary>Writes a changed resource: a new updated_at and revision.</summary>
    private Task SaveAsync(string kind, JsonObject doc)
    {
        doc["updated_at"] = Now();
        doc["revision_number"] = (doc["revision_number"]?.GetValue<int>() ?? 0) + 1;
        return _store.UpdateAsync(new ResourceRow { Id = Str(doc, "id")!, Kind = kind, ProjectId = Str(doc, "project_id") ?? "", Body = doc.ToJsonString() });
    }

    private Task DeleteRowAsync(string id) => _store.DeleteAsync<ResourceRow>(id);

    private static string? Str(JsonObject doc, string name) => doc[name] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    private static bool Flag(JsonObject doc, string name) => doc[name] is JsonValue v && v.TryGetValue<bool>(out var b) && b;

    /// <summary>A boolean attribute of a request ("true"/"false" strings too); Neutron's 400 otherwise.</summary>
    private static bool? BoolField(JsonObject body, string name)
    {
        var node = body[name];
        if (node is null) return null;
        if (node is JsonValue v && v.TryGetValue<bool>(out var b)) return b;
        if (node is JsonValue s && s.TryGetValue<string>(out var text) && bool.TryParse(text, out var parsed)) return parsed;
        throw InvalidInput($"'{node.ToJsonString()}' is not a valid boolean value for {name}.");
    }

    /// <summary>A string attribute of at most <paramref name="max"/> characters.</summary>
    private static string? StringField(JsonObject body, string name, int max = 255)
    {
        var node = body[name];
        if (node is null) return null;
        if (node is not JsonValue v || !v.TryGetValue<string>(out var text)) throw InvalidInput($"'{node.ToJsonString()}' is not a valid string for {name}.");
        if (text.Length > max) throw InvalidInput($"'{text}' exceeds maximum length of {max} for {name}.");
        return text;
    }

    /// <summary>Only these attributes may be given; Neutron's 400 names the first that may not.</summary>
    private static void Allowed(JsonObject body, string kind, params string[] names)
    {
        foreach (var (key, _) in body)
            if (Array.IndexOf(names, key) < 0 && key is not ("tenant_id" or "project_id"))
                throw BadRequest($"Unrecognized attribute(s) '{key}'");
        _ = kind;
    }

    /// <summary>The view of a resource: internal attributes (starting with '_') left out, and only the asked-for fields.</summary>
    private static JsonObject View(ApiRequest r, JsonObject doc)
    {
        var fields = r.Context.Request.Query["fields"];
        var view = new JsonObject();
        foreach (var (key, value) in doc)
        {
            if (key.StartsWith('_')) continue;
            if (fields.Count > 0 && !fields.Contains(key)) continue;
            view[key] = value?.DeepClone();
        }
        return view;
    }

    private static Task WriteAsync(ApiRequest r, int status, string member, JsonObject doc) =>
        ApiResponses.WriteJsonAsync(r.Context, status, new JsonObject { [member] = View(r, doc) });

    private static readonly HashSet<string> NotFilters = ["fields", "sort_key", "sort_dir", "limit", "marker", "page_reverse", "tags", "tags-any", "not-tags", "not-tags-any"];

    /// <summary>
    /// Lists resources the caller may see, filtered by any attribute the query names (several values of one name
    /// match any of them; list attributes match an element, as fixed_ips=ip_address=...), and by tags, sorted by
    /// sort_key/sort_dir and paged by limit/marker with Neutron's links.
    /// </summary>
    private static async Task ListAsync(ApiRequest r, string collection, IEnumerable<JsonObject> visible)
    {
        var query = r.Context.Request.Query;
        IEnumerable<JsonObject> selected = visible;
        foreach (var (name, values) in query)
        {
            if (NotFilters.Contains(name)) continue;
            // A filter on an attribute the resource does not have is ignored, as Neutron ignores it without filter validation.
            selected = selected.Where(doc => !doc.ContainsKey(name) || values.Any(value => Matches(doc[name], value ?? "")));
        }
        if (query["tags"].Count > 0)
        {
            var all = query["tags"].SelectMany(t => t!.Split(',')).ToList();
            selected = selected.Where(d => all.All(t => TagsOf(d).Contains(t)));
        }
        if (query["tags-any"].Count > 0)
        {
            var any = query["tags-any"].SelectMany(t => t!.Split(',')).ToList();
            selected = selected.Where(d => any.Any(t => TagsOf(d).Contains(t)));
        }
        if (query["not-tags"].Count > 0)
        {
            var all = query["not-tags"].SelectMany(t => t!.Split(',')).ToList();
            selected = selected.Where(d => !all.All(t => TagsOf(d).Contains(t)));
        }
        if (query["not-tags-any"].Count > 0)
        {
            var any = query["not-tags-any"].SelectMany(t => t!.Split(',')).ToList();
            selected = selected.Where(d => !any.Any(t => TagsOf(d).Contains(t)));
        }
        var list = selected.ToList();
        var keys = query["sort_key"];
        var dirs = query["sort_dir"];
        list.Sort((a, b) =>
        {
            for (var i = 0; i < keys.Count; i++)
            {
                var c = Compare(a[keys[i]!], b[keys[i]!]);
                if (c != 0) return i < dirs.Count && dirs[i] == "desc" ? -c : c;
            }
            return keys.Count > 0 ? string.CompareOrdinal(Str(a, "id"), Str(b, "id")) : string.CompareOrdinal(Str(a, "created_at") + Str(a, "id"), Str(b, "created_at") + Str(b, "id"));
        });
        var (page, more) = Pagination.Page(list, d => Str(d, "id")!, r.Query("marker"), Pagination.Limit(r.Context.Request, int.MaxValue),
            m => NotFound("MarkerNotFound", $"Marker {m} could not be found."));
        var items = new JsonArray();
        foreach (var doc in page) items.Add(View(r, doc));
        var result = new JsonObject { [collection] = items };
        if (more) result[collection + "_links"] = new JsonArray(new JsonObject
        {
            ["rel"] = "next",
            ["href"] = $"{r.HostUrl}{r.Context.Request.Path}?limit={r.Query("limit")}&marker={Str(page[^1], "id")}",
        });
        await ApiResponses.WriteJsonAsync(r.Context, 200, result);
    }

    private static int Compare(JsonNode? a, JsonNode? b)
    {
        if (a is JsonValue x && b is JsonValue y && x.TryGetValue<long>(out var m) && y.TryGetValue<long>(out var n)) return m.CompareTo(n);
        return string.CompareOrdinal(Text(a), Text(b));
    }

    private static string Text(JsonNode? node) => node switch
    {
        null => "",
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        JsonValue v when v.TryGetValue<bool>(out var b) => b ? "True" : "False",
        _ => node.ToJsonString(),
    };

    private static bool Matches(JsonNode? attribute, string value)
    {
        switch (attribute)
        {
            case JsonArray array:
                // fixed_ips=ip_address=10.0.0.3 or =subnet_id=...; other lists match one element.
                var eq = value.IndexOf('=');
                if (eq > 0) return array.Any(e => e is JsonObject o && Text(o[value[..eq]]) == value[(eq + 1)..]);
                return array.Any(e => Text(e) == value);
            case JsonValue v when v.TryGetValue<bool>(out var b):
                return bool.TryParse(value, out var wanted) && wanted == b;
            case null:
                return value is "" or "None" or "null";
            default:
                return Text(attribute) == value;
        }
    }

    private static List<string> TagsOf(JsonObject doc) => doc["tags"] is JsonArray tags ? [.. tags.Select(t => Text(t))] : [];

    private static Task VersionsAsync(ApiRequest r) => ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject
    {
        ["versions"] = new JsonArray(new JsonObject
        {
            ["id"] = "v2.0", ["status"] = "CURRENT",
            ["links"] = new JsonArray(new JsonObject { ["href"] = $"{r.HostUrl}/v2.0/", ["rel"] = "self" }),
        }),
    });

    private static Task VersionAsync(ApiRequest r)
    {
        var resources = new JsonArray();
        foreach (var (collection, kind) in Collections)
            resources.Add(new JsonObject
            {
                ["name"] = kind, ["collection"] = collection,
                ["links"] = new JsonArray(new JsonObject { ["href"] = $"{r.HostUrl}/v2.0/{collection}", ["rel"] = "self" }),
            });
        return ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["resources"] = resources });
    }
}
