using System.Text.Json.Nodes;
using StorageCloud.Image.Images;
using StorageCloud.Service.Api;

namespace StorageCloud.Image.Glance;

/// <summary>
/// Metadata definitions (Glance's metadefs catalog): namespaces with their resource type associations, objects,
/// properties and tags, which dashboards and clients read to offer well-known image and volume properties. Everyone
/// reads public namespaces and their own; admins write. Deleting a namespace deletes what it holds.
/// </summary>
public sealed partial class GlanceApi
{
    private const int MaxMetadefName = 80;

    /// <summary>The resource types Glance knows from the start (its own defaults).</summary>
    private static readonly string[] SeedResourceTypes =
        ["OS::Glance::Image", "OS::Cinder::Volume", "OS::Nova::Flavor", "OS::Nova::Aggregate", "OS::Nova::Server", "OS::Trove::Instance", "OS::Glance::Metadef"];

    private void MapMetadefs()
    {
        const string ns = "/v2/metadefs/namespaces/{ns}";
        _router.Map("GET", "/v2/metadefs/resource_types", ListResourceTypesAsync);
        _router.Map("GET", "/v2/metadefs/namespaces", ListNamespacesAsync);
        _router.Map("POST", "/v2/metadefs/namespaces", CreateNamespaceAsync);
        _router.Map("GET", ns, async r => await ApiResponses.WriteJsonAsync(r.Context, 200, NamespaceView(await FindNamespaceAsync(r), full: true)));
        _router.Map("PUT", ns, UpdateNamespaceAsync);
        _router.Map("DELETE", ns, DeleteNamespaceAsync);
        _router.Map("GET", ns + "/resource_types", r => ReadPartAsync(r, c => new JsonObject { ["resource_type_associations"] = PartArray(c, "resource_type_associations").DeepClone() }));
        _router.Map("POST", ns + "/resource_types", AssociateAsync);
        _router.Map("DELETE", ns + "/resource_types/{name}", r => ChangeAsync(r, 204, (c, _) =>
        {
            var list = PartArray(c, "resource_type_associations");
            var found = list.FirstOrDefault(a => a!["name"]!.GetValue<string>() == r.Args[1]) ?? throw ApiError.NotFound($"Resource type association {r.Args[1]} not found.");
            list.Remove(found);
            return null;
        }));
        MapNamed(ns, "objects", "object", pluralAsMap: false);
        MapNamed(ns, "properties", "property", pluralAsMap: true);
        MapTags(ns);
        _router.Map("GET", "/v2/schemas/metadefs/{kind}", MetadefSchemaAsync);
    }

    private async Task<MetadefNamespaceRow> FindNamespaceAsync(ApiRequest r)
    {
        Enforce(r, "read");
        var row = await _store.GetAsync<MetadefNamespaceRow>(r.Args[0]);
        if (row is null || !(row.Visibility == "public" || row.Owner == Project(r) || Me(r).IsAdmin))
            throw ApiError.NotFound($"Metadata definition namespace={r.Args[0]} was not found.");
        return row;
    }

    /// <summary>The content's list of that name (resource type associations), created empty when missing.</summary>
    private static JsonArray PartArray(JsonObject content, string name)
    {
        if (content[name] is JsonArray part) return part;
        var created = new JsonArray();
        content[name] = created;
        return created;
    }

    /// <summary>The content's map of that name (objects, properties, tags by name), created empty when missing.</summary>
    private static JsonObject PartMap(JsonObject content, string name)
    {
        if (content[name] is JsonObject part) return part;
        var created = new JsonObject();
        content[name] = created;
        return created;
    }

    private static JsonObject Stamped(JsonObject item)
    {
        var now = Now();
        item["created_at"] ??= now;
        item["updated_at"] = now;
        return item;
    }

    private static JsonObject NamespaceView(MetadefNamespaceRow row, bool full)
    {
        var view = new JsonObject
        {
            ["namespace"] = row.Id,
            ["display_name"] = row.DisplayName,
            ["description"] = row.Description,
            ["visibility"] = row.Visibility,
            ["protected"] = row.Protected != 0,
            ["owner"] = row.Owner,
            ["created_at"] = row.CreatedAt,
            ["updated_at"] = row.UpdatedAt,
            ["schema"] = "/v2/schemas/metadefs/namespace",
            ["self"] = $"/v2/metadefs/namespaces/{row.Id}",
        };
        var content = JsonNode.Parse(row.Content) as JsonObject ?? [];
        if (content["resource_type_associations"] is JsonArray { Count: > 0 } associations) view["resource_type_associations"] = associations.DeepClone();
        if (full)
        {
            if (content["objects"] is JsonObject { Count: > 0 } objects) view["objects"] = new JsonArray([.. objects.Select(o => o.Value!.DeepClone())]);
            if (content["properties"] is JsonObject { Count: > 0 } properties) view["properties"] = PropertiesView(properties);
            if (content["tags"] is JsonObject { Count: > 0 } tags) view["tags"] = new JsonArray([.. tags.Select(t => (JsonNode)new JsonObject { ["name"] = t.Key })]);
        }
        return view;
    }

    private static JsonObject PropertiesView(JsonObject properties)
    {
        var view = new JsonObject();
        foreach (var (name, value) in properties)
        {
            var property = (JsonObject)value!.DeepClone();
            property.Remove("name");
            view[name] = property;
        }
        return view;
    }

    private static string MetadefName(JsonNode? value, string what)
    {
        if (value is not JsonValue v || !v.TryGetValue<string>(out var name) || name.Length is 0 or > MaxMetadefName)
            throw ApiError.BadRequest($"Invalid {what}: a name of 1 to {MaxMetadefName} characters is required.");
        return name;
    }

    private async Task ListResourceTypesAsync(ApiRequest r)
    {
        Enforce(r, "read");
        var names = new SortedSet<string>(SeedResourceTypes, StringComparer.Ordinal);
        foreach (var row in await _store.ListAsync<MetadefNamespaceRow>())
            foreach (var association in PartArray(JsonNode.Parse(row.Content) as JsonObject ?? [], "resource_type_associations"))
                names.Add(association!["name"]!.GetValue<string>());
        // Glance's defaults first, in its order; others after.
        var items = new JsonArray();
        foreach (var name in SeedResourceTypes.Concat(names.Except(SeedResourceTypes)))
            items.Add(new JsonObject { ["name"] = name, ["created_at"] = "2014-08-28T17:13:04Z", ["updated_at"] = "2014-08-28T17:13:04Z" });
        await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["resource_types"] = items });
    }

    private async Task ListNamespacesAsync(ApiRequest r)
    {
        Enforce(r, "read");
        var items = new JsonArray();
        foreach (var row in (await _store.ListAsync<MetadefNamespaceRow>()).OrderByDescending(n => n.CreatedAt, StringComparer.Ordinal).ThenBy(n => n.Id, StringComparer.Ordinal))
        {
            if (row.Visibility != "public" && row.Owner != Project(r) && !Me(r).IsAdmin) continue;
            if (r.Query("visibility") is { } visibility && row.Visibility != visibility) continue;
            if (r.Query("resource_types") is { } type && !PartArray(JsonNode.Parse(row.Content) as JsonObject ?? [], "resource_type_associations").Any(a => a!["name"]!.GetValue<string>() == type)) continue;
            items.Add(NamespaceView(row, full: false));
        }
        await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["namespaces"] = items, ["first"] = "/v2/metadefs/namespaces", ["schema"] = "/v2/schemas/metadefs/namespaces" });
    }

    private async Task CreateNamespaceAsync(ApiRequest r)
    {
        Enforce(r, "admin");
        var body = await JsonBody.ReadAsync(r.Context);
        var now = Now();
        var row = new MetadefNamespaceRow { Id = MetadefName(body["namespace"], "namespace"), Owner = Project(r), CreatedAt = now, UpdatedAt = now };
        ApplyNamespace(row, body);
        var content = new JsonObject();
        foreach (var association in body["resource_type_associations"] as JsonArray ?? [])
            PartArray(content, "resource_type_associations").Add(Association(association as JsonObject ?? []));
        foreach (var tag in body["tags"] as JsonArray ?? []) PartMap(content, "tags")[MetadefName(tag?["name"], "tag")] = Stamped([]);
        row.Content = content.ToJsonString();
        if (!await _store.InsertAsync(row)) throw ApiError.Conflict($"Metadata definition namespace={row.Id} already exists.");
        await ApiResponses.WriteJsonAsync(r.Context, 201, NamespaceView(row, full: true));
    }

    private static void ApplyNamespace(MetadefNamespaceRow row, JsonObject body)
    {
        if (body.ContainsKey("display_name")) row.DisplayName = JsonBody.OptionalString(body, "display_name", "namespace");
        if (body.ContainsKey("description")) row.Description = JsonBody.OptionalString(body, "description", "namespace");
        if (JsonBody.OptionalString(body, "visibility", "namespace") is { } visibility)
            row.Visibility = visibility is "public" or "private" ? visibility : throw ApiError.BadRequest($"Invalid visibility: {visibility} (public or private).");
        if (JsonBody.OptionalBool(body, "protected", "namespace") is { } isProtected) row.Protected = isProtected ? 1 : 0;
    }

    private static JsonObject Association(JsonObject body) => Stamped(new JsonObject
    {
        ["name"] = MetadefName(body["name"], "resource type"),
        ["prefix"] = JsonBody.OptionalString(body, "prefix", "resource type association"),
        ["properties_target"] = JsonBody.OptionalString(body, "properties_target", "resource type association"),
    });

    private async Task UpdateNamespaceAsync(ApiRequest r)
    {
        Enforce(r, "admin");
        var row = await FindNamespaceAsync(r);
        var body = await JsonBody.ReadAsync(r.Context);
        ApplyNamespace(row, body);
        row.UpdatedAt = Now();
        var name = body["namespace"] is null ? row.Id : MetadefName(body["namespace"], "namespace");
        if (name != row.Id)
        {
            var old = row.Id;
            row.Id = name;
            if (!await _store.InsertAsync(row)) throw ApiError.Conflict($"Metadata definition namespace={name} already exists.");
            await _store.DeleteAsync<MetadefNamespaceRow>(old);
        }
        else
        {
            await _store.UpdateAsync(row);
        }
        await ApiResponses.WriteJsonAsync(r.Context, 200, NamespaceView(row, full: false));
    }

    private async Task DeleteNamespaceAsync(ApiRequest r)
    {
        Enforce(r, "admin");
        var row = await FindNamespaceAsync(r);
        if (row.Protected != 0) throw Forbidden($"Namespace {row.Id} is protected and cannot be deleted.");
        await _store.DeleteAsync<MetadefNamespaceRow>(row.Id);
        await ApiResponses.NoContent(r.Context, 204);
    }

    private async Task ReadPartAsync(ApiRequest r, Func<JsonObject, JsonNode> read)
    {
        var row = await FindNamespaceAsync(r);
        await ApiResponses.WriteJsonAsync(r.Context, 200, read(JsonNode.Parse(row.Content) as JsonObject ?? []));
    }

    /// <summary>Changes a namespace's content as an admin; <paramref name="change"/> returns the answer (null for an empty 204).</summary>
    private async Task ChangeAsync(ApiRequest r, int status, Func<JsonObject, JsonObject?, JsonNode?> change, bool readsBody = false)
    {
        Enforce(r, "admin");
        var row = await FindNamespaceAsync(r);
        var body = readsBody ? await JsonBody.ReadAsync(r.Context) : null;
        var content = JsonNode.Parse(row.Content) as JsonObject ?? [];
        var answer = change(content, body);
        row.Content = content.ToJsonString();
        row.UpdatedAt = Now();
        await _store.UpdateAsync(row);
        if (answer is null) await ApiResponses.NoContent(r.Context, status);
        else await ApiResponses.WriteJsonAsync(r.Context, status, answer);
    }

    private Task AssociateAsync(ApiRequest r) => ChangeAsync(r, 201, (c, body) =>
    {
        var association = Association(body!);
        var list = PartArray(c, "resource_type_associations");
        if (list.Any(a => a!["name"]!.GetValue<string>() == association["name"]!.GetValue<string>()))
            throw ApiError.Conflict($"Resource type {association["name"]} is already associated with namespace {r.Args[0]}.");
        list.Add(association);
        return association.DeepClone();
    }, readsBody: true);

    /// <summary>
    /// The routes of a named part (objects, properties): create, list, show, update (a new name renames), delete. Objects
    /// list as an array; properties as a map from name to property, as Glance answers.
    /// </summary>
    private void MapNamed(string ns, string plural, string singular, bool pluralAsMap)
    {
        JsonObject View(JsonObject item) => (JsonObject)item.DeepClone();
        JsonObject Item(JsonObject content, string name) =>
            PartMap(content, plural)[name] as JsonObject ?? throw ApiError.NotFound($"Metadata definition {singular}={name} was not found in namespace.");
        JsonObject FromBody(JsonObject body, JsonObject? existing)
        {
            var item = (JsonObject)body.DeepClone();
            item["name"] = MetadefName(body["name"] ?? existing?["name"]?.DeepClone(), singular);
            if (plural == "objects")
            {
                item["schema"] = "/v2/schemas/metadefs/object";
                item["required"] ??= new JsonArray();
                item["properties"] ??= new JsonObject();
            }
            item["created_at"] = existing?["created_at"]?.DeepClone();
            return Stamped(item);
        }
        _router.Map("POST", $"{ns}/{plural}", r => ChangeAsync(r, 201, (c, body) =>
        {
            var item = FromBody(body!, null);
            var name = item["name"]!.GetValue<string>();
            var map = PartMap(c, plural);
            if (map.ContainsKey(name)) throw ApiError.Conflict($"A metadata definition {singular} with name={name} already exists in namespace={r.Args[0]}.");
            map[name] = item;
            return View(item);
        }, readsBody: true));
        _router.Map("GET", $"{ns}/{plural}", r => ReadPartAsync(r, c =>
        {
            var map = PartMap(c, plural);
            JsonNode list = pluralAsMap ? PropertiesView(map) : new JsonArray([.. map.Select(o => o.Value!.DeepClone())]);
            return new JsonObject { [plural] = list, ["schema"] = $"/v2/schemas/metadefs/{plural}" };
        }));
        _router.Map("GET", $"{ns}/{plural}/{{name}}", r => ReadPartAsync(r, c => View(Item(c, r.Args[1]))));
        _router.Map("PUT", $"{ns}/{plural}/{{name}}", r => ChangeAsync(r, 200, (c, body) =>
        {
            var existing = Item(c, r.Args[1]);
            var item = FromBody(body!, existing);
            var name = item["name"]!.GetValue<string>();
            var map = PartMap(c, plural);
            if (name != r.Args[1] && map.ContainsKey(name)) throw ApiError.Conflict($"A metadata definition {singular} with name={name} already exists.");
            map.Remove(r.Args[1]);
            map[name] = item;
            return View(item);
        }, readsBody: true));
        _router.Map("DELETE", $"{ns}/{plural}/{{name}}", r => ChangeAsync(r, 204, (c, _) =>
        {
            Item(c, r.Args[1]);
            PartMap(c, plural).Remove(r.Args[1]);
            return null;
        }));
    }

    private void MapTags(string ns)
    {
        static JsonObject TagView(string name, JsonObject tag) => new() { ["name"] = name, ["created_at"] = tag["created_at"]?.DeepClone(), ["updated_at"] = tag["updated_at"]?.DeepClone() };
        _router.Map("POST", ns + "/tags", r => ChangeAsync(r, 201, (c, body) =>
        {
            // Glance replaces the namespace's tags with the ones given (unless told to append).
            var append = r.Context.Request.Headers["X-Openstack-Append"].ToString() is "true" or "True";
            var tags = append ? PartMap(c, "tags") : [];
            var answer = new JsonArray();
            foreach (var tag in body!["tags"] as JsonArray ?? throw ApiError.BadRequest("Expecting tags: a list of {\"name\": ...}."))
            {
                var name = MetadefName(tag?["name"], "tag");
                if (tags.ContainsKey(name)) throw ApiError.Conflict($"A metadata tag with name={name} already exists.");
                tags[name] = Stamped([]);
                answer.Add(TagView(name, (JsonObject)tags[name]!));
            }
            c["tags"] = tags;
            return new JsonObject { ["tags"] = answer };
        }, readsBody: true));
        _router.Map("GET", ns + "/tags", r => ReadPartAsync(r, c =>
            new JsonObject { ["tags"] = new JsonArray([.. PartMap(c, "tags").Select(t => (JsonNode)TagView(t.Key, (JsonObject)t.Value!))]) }));
        _router.Map("DELETE", ns + "/tags", r => ChangeAsync(r, 204, (c, _) =>
        {
            c["tags"] = new JsonObject();
            return null;
        }));
        _router.Map("POST", ns + "/tags/{tag}", r => ChangeAsync(r, 201, (c, _) =>
        {
            var name = MetadefName(JsonValue.Create(r.Args[1]), "tag");
            var tags = PartMap(c, "tags");
            if (tags.ContainsKey(name)) throw ApiError.Conflict($"A metadata tag with name={name} already exists.");
            tags[name] = Stamped([]);
            return TagView(name, (JsonObject)tags[name]!);
        }));
        _router.Map("GET", ns + "/tags/{tag}", r => ReadPartAsync(r, c =>
            PartMap(c, "tags")[r.Args[1]] is JsonObject tag ? TagView(r.Args[1], tag) : throw ApiError.NotFound($"Metadata tag {r.Args[1]} not found.")));
        _router.Map("PUT", ns + "/tags/{tag}", r => ChangeAsync(r, 200, (c, body) =>
        {
            var tags = PartMap(c, "tags");
            if (tags[r.Args[1]] is not JsonObject tag) throw ApiError.NotFound($"Metadata tag {r.Args[1]} not found.");
            var name = MetadefName(body!["name"], "tag");
            if (name != r.Args[1] && tags.ContainsKey(name)) throw ApiError.Conflict($"A metadata tag with name={name} already exists.");
            tags.Remove(r.Args[1]);
            tags[name] = Stamped((JsonObject)tag.DeepClone());
            return TagView(name, (JsonObject)tags[name]!);
        }, readsBody: true));
        _router.Map("DELETE", ns + "/tags/{tag}", r => ChangeAsync(r, 204, (c, _) =>
            PartMap(c, "tags").Remove(r.Args[1]) ? null : throw ApiError.NotFound($"Metadata tag {r.Args[1]} not found.")));
    }

    /// <summary>GET /v2/schemas/metadefs/{kind}: a schema document named as Glance names it.</summary>
    private static Task MetadefSchemaAsync(ApiRequest r)
    {
        var name = r.Args[0] switch
        {
            "namespace" or "namespaces" or "object" or "objects" or "property" or "properties" or "tag" or "tags" => r.Args[0],
            "resource_type" => "resource_type_association",
            "resource_types" => "resource_type_associations",
            _ => throw ApiError.NotFound($"No metadefs schema named {r.Args[0]}."),
        };
        var properties = name switch
        {
            "namespace" => new JsonObject { ["namespace"] = Property("string", "The unique namespace text.", maxLength: MaxMetadefName), ["display_name"] = Property("string", "The user friendly name for the namespace."), ["description"] = Property("string", "Provides a user friendly description of the namespace."), ["visibility"] = Property("string", "Scope of namespace accessibility.", choices: ["public", "private"]), ["protected"] = Property("boolean", "If true, namespace will not be deletable."), ["owner"] = Property("string", "Owner of the namespace.") },
            "object" => new JsonObject { ["name"] = Property("string", "The object's name.", maxLength: MaxMetadefName), ["description"] = Property("string", "The object's description."), ["required"] = new JsonObject { ["type"] = "array", ["items"] = new JsonObject { ["type"] = "string" } } },
            "property" => new JsonObject { ["name"] = Property("string", "The property's name.", maxLength: MaxMetadefName), ["title"] = Property("string", "The property's title."), ["type"] = Property("string", "The property's type.", choices: ["array", "boolean", "integer", "number", "object", "string"]) },
            "tag" => new JsonObject { ["name"] = Property("string", "The tag.", maxLength: 255) },
            "resource_type_association" => new JsonObject { ["name"] = Property("string", "Resource type names should be aligned with Heat resource types whenever possible.", maxLength: MaxMetadefName), ["prefix"] = Property("string", "Specifies the prefix to use for the given resource type."), ["properties_target"] = Property("string", "Some resource types allow more than one key / value pair per instance.") },
            _ => new JsonObject { [name] = new JsonObject { ["type"] = "array" }, ["schema"] = new JsonObject { ["type"] = "string" }, ["first"] = new JsonObject { ["type"] = "string" }, ["next"] = new JsonObject { ["type"] = "string" } },
        };
        return ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["name"] = name, ["properties"] = properties });
    }
}
