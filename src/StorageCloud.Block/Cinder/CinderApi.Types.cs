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
        MapSpecs("/types/{id}/extra_specs", "extra_specs", postStatus: 200, async r =>
        {
            var row = await FindTypeAsync(r);
            return new SpecsOwner($"Volume Type {row.Id} has no extra specs with key", row.ExtraSpecs, json =>
            {
                row.ExtraSpecs = json;
                return _store.UpdateAsync(row);
            });
        });
        Project("GET", "/types/{id}/os-volume-type-access", ListTypeAccessAsync);
        Project("POST", "/types/{id}/action", TypeActionAsync);
        MapEncryption();
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

    /// <summary>
    /// A type by id or name (the default when none is given) that the request's project may use; 404 as Cinder answers
    /// an unknown one, or a private one the project was not given.
    /// </summary>
    private async Task<VolumeTypeRow> ResolveTypeAsync(ApiRequest r, string? idOrName)
    {
        if (idOrName is null or "default") return await DefaultTypeAsync();
        VolumeTypeRow? row = null;
        if (Guid.TryParse(idOrName, out var id)) row = await _store.GetAsync<VolumeTypeRow>(id.ToString("D"));
        if (row is null && (await _store.ListAsync<VolumeTypeRow>(("name", idOrName))) is [var byName, ..]) row = byName;
        if (row is null && idOrName == DefaultTypeName) row = await DefaultTypeAsync();
        if (row is null || !await MayUseTypeAsync(r, row)) throw ApiError.NotFound($"Volume type with name {idOrName} could not be found.");
        return row;
    }

    /// <summary>Public types are everyone's; a private one is the admins' and the projects it was given to.</summary>
    private async Task<bool> MayUseTypeAsync(ApiRequest r, VolumeTypeRow row) =>
        row.IsPublic != 0 || Me(r).IsAdmin || await _store.GetAsync<VolumeTypeAccessRow>(AccessId(row.Id, ProjectOf(r))) is not null;

    private static string AccessId(string typeId, string projectId) => typeId + ":" + projectId;

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
        if (row is null || !await MayUseTypeAsync(r, row)) throw ApiError.NotFound($"Volume type {id} could not be found.");
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
            if (!await MayUseTypeAsync(r, row)) continue;
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
        if ((await _store.ListAsync<VolumeRow>(("volume_type", row.Name))).Count > 0
            || (await _store.ListAsync<GroupRow>()).Any(g => TypesOf(g).Contains(row.Id)))
            throw ApiError.BadRequest("Target volume type is still in use.");
        foreach (var access in await _store.ListAsync<VolumeTypeAccessRow>(("volume_type_id", row.Id))) await _store.DeleteAsync<VolumeTypeAccessRow>(access.Id);
        await _store.DeleteAsync<VolumeTypeEncryptionRow>(row.Id);
        await _store.DeleteAsync<VolumeTypeRow>(row.Id);
        await ApiResponses.NoContent(r.Context, 202);
    }

    private async Task ListTypeAccessAsync(ApiRequest r)
    {
        Enforce(r, "admin");
        var row = await FindTypeAsync(r);
        if (row.IsPublic != 0) throw ApiError.NotFound("Access list not available for public volume types.");
        var items = new JsonArray();
        foreach (var access in await _store.ListAsync<VolumeTypeAccessRow>(("volume_type_id", row.Id)))
            items.Add(new JsonObject { ["volume_type_id"] = row.Id, ["project_id"] = access.ProjectId });
        await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["volume_type_access"] = items });
    }

    /// <summary>POST /types/{id}/action: addProjectAccess or removeProjectAccess on a private type.</summary>
    private async Task TypeActionAsync(ApiRequest r)
    {
        Enforce(r, "admin");
        var row = await FindTypeAsync(r);
        var body = await JsonBody.ReadAsync(r.Context);
        if (body.Count != 1) throw ApiError.BadRequest("Malformed request body: an action body has exactly one key.");
        var (action, node) = body.First();
        var project = JsonBody.String(node as JsonObject ?? [], "project", action);
        if (row.IsPublic != 0) throw ApiError.BadRequest("Invalid volume type: Type access modification is not applicable to public volume type.");
        var id = AccessId(row.Id, project);
        switch (action)
        {
            case "addProjectAccess":
                if (!await _store.InsertAsync(new VolumeTypeAccessRow { Id = id, VolumeTypeId = row.Id, ProjectId = project }))
                    throw ApiError.Conflict($"Volume type access for {row.Id}/{project} combination already exists.");
                break;
            case "removeProjectAccess":
                if (!await _store.DeleteAsync<VolumeTypeAccessRow>(id))
                    throw ApiError.NotFound($"Volume type access not found for {row.Id}/{project} combination.");
                break;
            default:
                throw ApiError.BadRequest($"There is no such action: {action}");
        }
        await ApiResponses.NoContent(r.Context, 202);
    }
}
