using System.Text.Json.Nodes;
using StorageCloud.Block.Volumes;
using StorageCloud.Service.Api;

namespace StorageCloud.Block.Cinder;

public sealed partial class CinderApi
{
    /// <summary>The type of volumes created without one, as Cinder names it.</summary>
    public const string DefaultTypeName = "__DEFAULT__";

    private void MapTypes()
    {
        Project("GET", "/types", ListTypesAsync);
        Project("POST", "/types", CreateTypeAsync);
        Project("GET", "/types/{id}", ShowTypeAsync);
        Project("PUT", "/types/{id}", UpdateTypeAsync);
        Project("DELETE", "/types/{id}", DeleteTypeAsync);
        Project("GET", "/types/{id}/extra_specs", ExtraSpecsAsync);
        Project("POST", "/types/{id}/extra_specs", ExtraSpecsAsync);
        Project("GET", "/types/{id}/extra_specs/{key}", ExtraSpecKeyAsync);
        Project("PUT", "/types/{id}/extra_specs/{key}", ExtraSpecKeyAsync);
        Project("DELETE", "/types/{id}/extra_specs/{key}", ExtraSpecKeyAsync);
    }

    /// <summary>The default type's row, created on first use.</summary>
    private async Task<VolumeTypeRow> DefaultTypeAsync()
    {
        var rows = await _store.ListAsync<VolumeTypeRow>(("name", DefaultTypeName));
        if (rows.Count > 0) return rows[0];
        await _store.InsertAsync(new VolumeTypeRow
        {
            Id = Guid.NewGuid().ToString("D"),
            Name = DefaultTypeName,
            Description = "Default Volume Type",
            CreatedAt = VolumeManager.Now(),
        });
        return (await _store.ListAsync<VolumeTypeRow>(("name", DefaultTypeName)))[0];
    }

    /// <summary>A type by id or name (the default when none is given); 404 as Cinder answers an unknown one.</summary>
    private async Task<VolumeTypeRow> ResolveTypeAsync(string? idOrName)
    {
        if (idOrName is null or "default") return await DefaultTypeAsync();
        if (Guid.TryParse(idOrName, out var id) && await _store.GetAsync<VolumeTypeRow>(id.ToString("D")) is { } byId) return byId;
        var byName = await _store.ListAsync<VolumeTypeRow>(("name", idOrName));
        if (byName.Count > 0) return byName[0];
        if (idOrName == DefaultTypeName) return await DefaultTypeAsync();
        throw ApiError.NotFound($"Volume type with name {idOrName} could not be found.");
    }

    /// <summary>A type as Cinder shows it; an update's answer leaves out the access extension's attribute, as Cinder's does.</summary>
    private static JsonObject TypeView(ApiRequest r, VolumeTypeRow row, bool access = true)
    {
        var view = new JsonObject
        {
            ["id"] = row.Id,
            ["name"] = row.Name,
            ["description"] = row.Description.Length > 0 ? row.Description : null,
            ["is_public"] = row.IsPublic != 0,
        };
        if (access) view["os-volume-type-access:is_public"] = row.IsPublic != 0;
        // Cinder shows extra specs to admins only.
        if (Me(r).IsAdmin) view["extra_specs"] = ParseObject(row.ExtraSpecs);
        return view;
    }

    private async Task<VolumeTypeRow> FindTypeAsync(ApiRequest r)
    {
        var id = r.Args[1];
        if (id == "default") return await DefaultTypeAsync();
        await DefaultTypeAsync();
        var row = Guid.TryParse(id, out var guid) ? await _store.GetAsync<VolumeTypeRow>(guid.ToString("D")) : null;
        if (row is null || (row.IsPublic == 0 && !Me(r).IsAdmin)) throw ApiError.NotFound($"Volume type {id} could not be found.");
        return row;
    }

    private async Task ListTypesAsync(ApiRequest r)
    {
        Enforce(r, "read");
        await DefaultTypeAsync();
        var rows = await _store.ListAsync<VolumeTypeRow>();
        var wantPublic = r.Query("is_public") is { } p ? p.ToLowerInvariant() switch { "none" => (bool?)null, "false" or "0" => false, _ => true } : true;
        var items = new JsonArray();
        foreach (var row in rows.OrderBy(t => t.Name, StringComparer.Ordinal))
        {
            if (!Me(r).IsAdmin && row.IsPublic == 0) continue;
            if (wantPublic is { } want && (row.IsPublic != 0) != want && Me(r).IsAdmin) continue;
            items.Add(TypeView(r, row));
        }
        await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["volume_types"] = items });
    }

    private async Task CreateTypeAsync(ApiRequest r)
    {
        Enforce(r, "admin");
        var body = await BodyAsync(r, "volume_type");
        var name = ShortString(body, "name", "volume_type")?.Trim();
        if (string.IsNullOrEmpty(name)) throw ApiError.BadRequest("Volume type name can not be empty.");
        var isPublic = body["os-volume-type-access:is_public"] is not null ? Bool(body, "os-volume-type-access:is_public")
            : body["is_public"] is null || Bool(body, "is_public");
        var row = new VolumeTypeRow
        {
            Id = Guid.NewGuid().ToString("D"),
            Name = name,
            Description = JsonBody.OptionalString(body, "description", "volume_type") ?? "",
            IsPublic = isPublic ? 1 : 0,
            ExtraSpecs = Json(Metadata(body, "extra_specs")),
            CreatedAt = VolumeManager.Now(),
        };
        if (!await _store.InsertAsync(row)) throw ApiError.Conflict($"Volume Type {name} already exists.");
        await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["volume_type"] = TypeView(r, row) });
    }

    private async Task ShowTypeAsync(ApiRequest r)
    {
        Enforce(r, "read");
        await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["volume_type"] = TypeView(r, await FindTypeAsync(r)) });
    }

    private async Task UpdateTypeAsync(ApiRequest r)
    {
        Enforce(r, "admin");
        var row = await FindTypeAsync(r);
        var body = await BodyAsync(r, "volume_type");
        if (ShortString(body, "name", "volume_type") is { } name)
        {
            if (string.IsNullOrWhiteSpace(name)) throw ApiError.BadRequest("Volume type name can not be empty.");
            if (row.Name == DefaultTypeName) throw ApiError.BadRequest("The default volume type cannot be renamed.");
            row.Name = name.Trim();
        }
        if (JsonBody.OptionalString(body, "description", "volume_type") is { } description) row.Description = description;
        if (body["is_public"] is not null) row.IsPublic = Bool(body, "is_public") ? 1 : 0;
        if (!await _store.UpdateAsync(row)) throw ApiError.Conflict($"Volume Type {row.Name} already exists.");
        await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["volume_type"] = TypeView(r, row, access: false) });
    }

    private async Task DeleteTypeAsync(ApiRequest r)
    {
        Enforce(r, "admin");
        var row = await FindTypeAsync(r);
        if (row.Name == DefaultTypeName) throw ApiError.BadRequest("Default volume type can not be deleted.");
        if ((await _store.ListAsync<VolumeRow>(("volume_type", row.Name))).Count > 0) throw ApiError.BadRequest("Target volume type is still in use.");
        await _store.DeleteAsync<VolumeTypeRow>(row.Id);
        await ApiResponses.NoContent(r.Context, 202);
    }

    private async Task ExtraSpecsAsync(ApiRequest r)
    {
        var row = await FindTypeAsync(r);
        Enforce(r, r.Context.Request.Method == "POST" ? "admin" : "read");
        var specs = Metadata(new JsonObject { ["extra_specs"] = ParseObject(row.ExtraSpecs) }, "extra_specs");
        if (r.Context.Request.Method == "POST")
        {
            var body = await JsonBody.ReadAsync(r.Context);
            if (body["extra_specs"] is null) throw ApiError.BadRequest("Malformed request body: extra_specs is missing.");
            foreach (var (k, v) in Metadata(body, "extra_specs")) specs[k] = v;
            row.ExtraSpecs = Json(specs);
            await _store.UpdateAsync(row);
        }
        await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["extra_specs"] = ParseObject(row.ExtraSpecs) });
    }

    private async Task ExtraSpecKeyAsync(ApiRequest r)
    {
        var row = await FindTypeAsync(r);
        var method = r.Context.Request.Method;
        Enforce(r, method is "GET" or "HEAD" ? "read" : "admin");
        var key = r.Args[2];
        var specs = ParseObject(row.ExtraSpecs);
        if (method is "GET" or "HEAD")
        {
            if (specs[key] is not { } value) throw ApiError.NotFound($"Volume Type {row.Id} has no extra specs with key {key}.");
            await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { [key] = value.DeepClone() });
            return;
        }
        if (method == "PUT")
        {
            var given = Metadata(new JsonObject { ["spec"] = await JsonBody.ReadAsync(r.Context) }, "spec");
            if (given.Count != 1 || !given.ContainsKey(key)) throw ApiError.BadRequest("Request body and URI mismatch");
            specs[key] = given[key];
        }
        else if (!specs.Remove(key))
        {
            throw ApiError.NotFound($"Volume Type {row.Id} has no extra specs with key {key}.");
        }
        row.ExtraSpecs = specs.ToJsonString();
        await _store.UpdateAsync(row);
        if (method == "DELETE") await ApiResponses.NoContent(r.Context, 202);
        else await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { [key] = specs[key]!.DeepClone() });
    }
}
