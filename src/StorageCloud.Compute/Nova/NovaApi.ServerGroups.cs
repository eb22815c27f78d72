using System.Text.Json.Nodes;
using StorageCloud.Service.Api;

namespace StorageCloud.Compute.Nova;

/// <summary>Server groups (`/os-server-groups`): affinity policies recorded; with one host every policy but anti-affinity holds.</summary>
public sealed partial class NovaApi
{
    private const string GroupKind = "server_group";
    private static readonly string[] GroupPolicies = ["affinity", "anti-affinity", "soft-affinity", "soft-anti-affinity"];

    private void MapServerGroups()
    {
        Map("GET", "/os-server-groups", async r =>
        {
            Enforce(r, "read");
            var groups = AllTenants(r) ? await AllAsync(GroupKind) : await AllAsync(GroupKind, Project(r));
            var (page, _) = Pagination.Page(groups, g => Str(g, "id")!, null, Pagination.Limit(r.Context.Request, 1000), m => ApiError.BadRequest(m));
            var list = new JsonArray();
            foreach (var g in page.Skip(Pagination.Offset(r.Context.Request))) list.Add(GroupView(r, g));
            await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["server_groups"] = list });
        });
        Map("POST", "/os-server-groups", CreateGroupAsync);
        Map("GET", "/os-server-groups/{id}", async r =>
            await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["server_group"] = GroupView(r, await FindGroupAsync(r)) }));
        Map("DELETE", "/os-server-groups/{id}", async r =>
        {
            var group = await FindGroupAsync(r, write: true);
            await DeleteRowAsync(GroupKind, Str(group, "id")!);
            await ApiResponses.NoContent(r.Context, 204);
        });
    }

    private async Task<JsonObject> FindGroupAsync(ApiRequest r, bool write = false)
    {
        Enforce(r, write ? "write" : "read");
        var group = await LoadAsync(GroupKind, r.Args[0]);
        if (group is null || (Str(group, "project_id") != Project(r) && !Me(r).IsAdmin)) throw NotFound($"Instance group {r.Args[0]} could not be found.");
        return group;
    }

    private JsonObject GroupView(ApiRequest r, JsonObject g)
    {
        var view = new JsonObject { ["id"] = Str(g, "id"), ["name"] = Str(g, "name"), ["members"] = LiveMembers(g) };
        if (AtLeast(r, 64))
        {
            view["policy"] = Str(g, "policy");
            view["rules"] = g["rules"]?.DeepClone() ?? new JsonObject();
        }
        else
        {
            view["policies"] = new JsonArray(Str(g, "policy"));
            view["metadata"] = new JsonObject();
        }
        if (AtLeast(r, 13))
        {
            view["project_id"] = Str(g, "project_id");
            view["user_id"] = Str(g, "user_id");
        }
        return view;
    }

    private static JsonArray LiveMembers(JsonObject g) => (JsonArray)(g["members"]?.DeepClone() ?? new JsonArray());

    /// <summary>A deleted server leaves its groups: Nova lists only live members.</summary>
    private async Task LeaveServerGroupsAsync(JsonObject server)
    {
        foreach (var groupId in (server["server_groups"] as JsonArray ?? []).Select(g => g?.ToString()).ToList())
        {
            if (groupId is null || await LoadAsync(GroupKind, groupId) is not { } group || group["members"] is not JsonArray members) continue;
            var member = members.FirstOrDefault(m => m?.ToString() == Str(server, "id"));
            if (member is null) continue;
            members.Remove(member);
            await SaveAsync(GroupKind, groupId, Str(group, "project_id")!, group);
        }
    }

    private async Task CreateGroupAsync(ApiRequest r)
    {
        Enforce(r, "write");
        var body = await BodyAsync(r, "server_group");
        var name = Name(body, "name");
        string policy;
        if (AtLeast(r, 64))
            policy = JsonBody.OptionalString(body, "policy", "server_group") ?? throw ApiError.BadRequest("Invalid input for field/attribute server_group. 'policy' is a required property");
        else
        {
            var policies = JsonBody.OptionalStrings(body, "policies", "server_group") ?? throw ApiError.BadRequest("Invalid input for field/attribute server_group. 'policies' is a required property");
            if (policies.Count != 1) throw ApiError.BadRequest($"Invalid input for field/attribute policies. Value: {string.Join(",", policies)}.");
            policy = policies[0];
        }
        if (Array.IndexOf(GroupPolicies, policy) < 0 || (!AtLeast(r, 15) && policy.StartsWith("soft", StringComparison.Ordinal)))
            throw ApiError.BadRequest($"Invalid input for field/attribute policy. Value: {policy}. '{policy}' is not one of {string.Join(", ", GroupPolicies)}");
        var rules = AtLeast(r, 64) ? JsonBody.OptionalObject(body, "rules", "server_group") ?? [] : [];
        var groups = await AllAsync(GroupKind, Project(r));
        if (groups.Count >= await LimitAsync(Project(r), "server_groups")) throw new ApiError(403, "Quota exceeded, too many server groups.");
        var id = Guid.NewGuid().ToString("D");
        var group = new JsonObject
        {
            ["id"] = id, ["name"] = name, ["policy"] = policy, ["rules"] = rules.DeepClone(), ["members"] = new JsonArray(),
            ["project_id"] = Project(r), ["user_id"] = Me(r).UserId,
        };
        await InsertAsync(GroupKind, id, Project(r), group);
        await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["server_group"] = GroupView(r, group) });
    }
}
