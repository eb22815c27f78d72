using System.Text.Json.Nodes;
using StorageCloud.Block.Volumes;
using StorageCloud.Service.Api;

namespace StorageCloud.Block.Cinder;

/// <summary>Group types (3.11+): names and group specs for generic volume groups; admins manage them.</summary>
public sealed partial class CinderApi
{
    private static readonly ApiVersion GroupTypesVersion = new(3, 11);
    private static readonly string[] GroupTypeSortKeys = ["name", "id", "created_at", "description", "is_public"];

    private void MapGroupTypes()
    {
        Project("GET", "/group_types", ListGroupTypesAsync);
        Project("POST", "/group_types", CreateGroupTypeAsync);
        Project("GET", "/group_types/{id}", ShowGroupTypeAsync);
        Project("PUT", "/group_types/{id}", UpdateGroupTypeAsync);
        Project("DELETE", "/group_types/{id}", DeleteGroupTypeAsync);
        MapSpecs("/group_types/{id}/group_specs", "group_specs", postStatus: 202, async r =>
        {
            var row = await FindGroupTypeAsync(r, r.Args[1]);
            return new SpecsOwner($"Group Type {row.Id} has no specs with key", row.GroupSpecs, json =>
            {
                row.GroupSpecs = json;
                return _store.UpdateAsync(row);
            });
        });
    }

    /// <summary>Groups and their types arrived with microversions; before them the routes name nothing.</summary>
    private static void RequireVersion(ApiRequest r, ApiVersion version, string what)
    {
        if (!Version(r).AtLeast(version)) throw ApiError.NotFound($"{what} need microversion {version} or later.");
    }

    private async Task<GroupTypeRow> FindGroupTypeAsync(ApiRequest r, string id)
    {
        RequireVersion(r, GroupTypesVersion, "Group types");
        var row = Guid.TryParse(id, out var guid) ? await _store.GetAsync<GroupTypeRow>(guid.ToString("D")) : null;
        if (row is null || (row.IsPublic == 0 && !Me(r).IsAdmin)) throw ApiError.NotFound($"Group type with id {id} could not be found.");
        return row;
    }

    private static JsonObject GroupTypeView(ApiRequest r, GroupTypeRow row)
    {
        var view = new JsonObject
        {
            ["id"] = row.Id,
            ["name"] = row.Name,
            ["description"] = row.Description.Length > 0 ? row.Description : null,
            ["is_public"] = row.IsPublic != 0,
        };
        if (Me(r).IsAdmin) view["group_specs"] = ParseObject(row.GroupSpecs);
        return view;
    }

    private async Task ListGroupTypesAsync(ApiRequest r)
    {
        Enforce(r, "read");
        RequireVersion(r, GroupTypesVersion, "Group types");
        // Admins see public types by default, every type with is_public=None, private ones with is_public=false.
        var wantPublic = r.Query("is_public") is { } p ? p.ToLowerInvariant() switch { "none" => (bool?)null, "false" or "0" => false, _ => true } : true;
        var rows = new List<GroupTypeRow>();
        foreach (var row in await _store.ListAsync<GroupTypeRow>())
        {
            if (!Me(r).IsAdmin && row.IsPublic == 0) continue;
            if (Me(r).IsAdmin && wantPublic is { } want && (row.IsPublic != 0) != want) continue;
            rows.Add(row);
        }
        var sorted = Sorted(rows, Pagination.Sort(r.Context.Request, GroupTypeSortKeys, new SortKey("created_at", true)), (t, key) => key switch
        {
            "id" => t.Id,
            "name" => t.Name,
            "description" => t.Description,
            "is_public" => t.IsPublic.ToString(System.Globalization.CultureInfo.InvariantCulture),
            _ => t.CreatedAt,
        });
        var items = new JsonArray();
        foreach (var row in sorted) items.Add(GroupTypeView(r, row));
        await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["group_types"] = items });
    }

    private async Task CreateGroupTypeAsync(ApiRequest r)
    {
        Enforce(r, "admin");
        RequireVersion(r, GroupTypesVersion, "Group types");
        var body = await BodyAsync(r, "group_type");
        var name = ShortString(body, "name", "group_type")?.Trim();
        if (string.IsNullOrEmpty(name)) throw ApiError.BadRequest("Group type name can not be empty.");
        var row = new GroupTypeRow
        {
            Id = Guid.NewGuid().ToString("D"),
            Name = name,
            Description = JsonBody.OptionalString(body, "description", "group_type") ?? "",
            IsPublic = body["is_public"] is null || Bool(body, "is_public") ? 1 : 0,
            GroupSpecs = Json(Metadata(body, "group_specs")),
            CreatedAt = VolumeManager.Now(),
        };
        if (!await _store.InsertAsync(row)) throw ApiError.Conflict($"Group Type {name} already exists.");
        await ApiResponses.WriteJsonAsync(r.Context, 202, new JsonObject { ["group_type"] = GroupTypeView(r, row) });
    }

    private async Task ShowGroupTypeAsync(ApiRequest r)
    {
        Enforce(r, "read");
        await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["group_type"] = GroupTypeView(r, await FindGroupTypeAsync(r, r.Args[1])) });
    }

    private async Task UpdateGroupTypeAsync(ApiRequest r)
    {
        Enforce(r, "admin");
        var row = await FindGroupTypeAsync(r, r.Args[1]);
        var body = await BodyAsync(r, "group_type");
        if (ShortString(body, "name", "group_type") is { } name)
        {
            if (string.IsNullOrWhiteSpace(name)) throw ApiError.BadRequest("Group type name can not be empty.");
            row.Name = name.Trim();
        }
        if (JsonBody.OptionalString(body, "description", "group_type") is { } description) row.Description = description;
        if (body["is_public"] is not null) row.IsPublic = Bool(body, "is_public") ? 1 : 0;
        if (!await _store.UpdateAsync(row)) throw ApiError.Conflict($"Group Type {row.Name} already exists.");
        await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["group_type"] = GroupTypeView(r, row) });
    }

    private async Task DeleteGroupTypeAsync(ApiRequest r)
    {
        Enforce(r, "admin");
        var row = await FindGroupTypeAsync(r, r.Args[1]);
        if ((await _store.ListAsync<GroupRow>(("group_type_id", row.Id))).Count > 0) throw ApiError.BadRequest("Target group type is still in use.");
        await _store.DeleteAsync<GroupTypeRow>(row.Id);
        await ApiResponses.NoContent(r.Context, 202);
    }
}
