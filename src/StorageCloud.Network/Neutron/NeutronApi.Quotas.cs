using System.Globalization;
using System.Text.Json.Nodes;
using StorageCloud.Network.Records;
using StorageCloud.Service.Api;

namespace StorageCloud.Network.Neutron;

public sealed partial class NeutronApi
{
    /// <summary>Neutron's default quotas; -1 is unlimited.</summary>
    private static readonly (string Resource, long Default)[] QuotaDefaults =
    [
        ("network", 100), ("subnet", 100), ("port", 500), ("router", 10), ("floatingip", 50), ("security_group", 10), ("security_group_rule", 100),
        ("rbac_policy", 10), ("subnetpool", -1),
    ];

    private void MapQuotas()
    {
        Map("GET", "/quotas", async r =>
        {
            Enforce(r, "admin");
            var items = new JsonArray();
            foreach (var project in (await _store.ListAsync<NetworkQuotaRow>()).Select(q => q.ProjectId).Distinct())
            {
                var quota = QuotaView(await LimitsAsync(project));
                quota["tenant_id"] = project;
                quota["project_id"] = project;
                items.Add(quota);
            }
            await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["quotas"] = items });
        });
        Map("GET", "/quotas/{project}", async r =>
        {
            ReadQuotas(r);
            await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["quota"] = QuotaView(await LimitsAsync(r.Args[0])) });
        });
        Map("GET", "/quotas/{project}/default", async r =>
        {
            ReadQuotas(r);
            await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["quota"] = QuotaView(QuotaDefaults.ToDictionary(q => q.Resource, q => q.Default)) });
        });
        Map("GET", "/quotas/{project}/details", async r =>
        {
            ReadQuotas(r);
            var limits = await LimitsAsync(r.Args[0]);
            var details = new JsonObject();
            foreach (var (resource, _) in QuotaDefaults)
                details[resource] = new JsonObject { ["limit"] = limits[resource], ["used"] = await UsedAsync(r.Args[0], resource), ["reserved"] = 0 };
            await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["quota"] = details });
        });
        Map("PUT", "/quotas/{project}", async r =>
        {
            Enforce(r, "admin");
            var body = await BodyAsync(r, "quota");
            var known = QuotaDefaults.Select(q => q.Resource).ToHashSet();
            foreach (var (resource, node) in body)
            {
                if (!known.Contains(resource)) throw BadRequest($"Unrecognized attribute(s) '{resource}'");
                long value;
                if (node is JsonValue v && v.TryGetValue<long>(out var n)) value = n;
                else if (node is JsonValue s && s.TryGetValue<string>(out var text) && long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var parsed)) value = parsed;
                else throw InvalidInput($"'{node?.ToJsonString()}' is not an integer");
                if (value < -1) throw InvalidInput($"'{value}' should be greater than or equal to -1");
                var row = new NetworkQuotaRow { Id = $"{r.Args[0]}:{resource}", ProjectId = r.Args[0], Resource = resource, HardLimit = value };
                if (!await _store.InsertAsync(row)) await _store.UpdateAsync(row);
            }
            await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["quota"] = QuotaView(await LimitsAsync(r.Args[0])) });
        });
        Map("DELETE", "/quotas/{project}", async r =>
        {
            Enforce(r, "admin");
            await _store.ExecuteAsync("DELETE FROM quotas WHERE project_id = @project", new { project = r.Args[0] });
            await ApiResponses.NoContent(r.Context, 204);
        });
    }

    /// <summary>Anyone reads their own project's quotas; another project's need an admin.</summary>
    private static void ReadQuotas(ApiRequest r)
    {
        if (r.Args[0] == Me(r).ProjectId) Enforce(r, "read");
        else Enforce(r, "admin");
    }

    private static JsonObject QuotaView(Dictionary<string, long> limits)
    {
        var view = new JsonObject();
        foreach (var (resource, _) in QuotaDefaults) view[resource] = limits[resource];
        return view;
    }

    private async Task<Dictionary<string, long>> LimitsAsync(string project)
    {
        var limits = QuotaDefaults.ToDictionary(q => q.Resource, q => q.Default);
        foreach (var row in await _store.ListAsync<NetworkQuotaRow>(("project_id", project))) limits[row.Resource] = row.HardLimit;
        return limits;
    }

    private async Task<long> UsedAsync(string project, string resource) => resource switch
    {
        "security_group_rule" => (await AllAsync("security_group", project)).Sum(g => g["security_group_rules"]!.AsArray().Count),
        "rbac_policy" or "subnetpool" => 0,
        _ => (await AllAsync(resource, project)).Count,
    };

    /// <summary>Refuses (409 OverQuota, as Neutron answers) one more <paramref name="resource"/> past the project's limit. Callers hold the gate.</summary>
    private async Task CheckQuotaAsync(string project, string resource)
    {
        if (project.Length == 0) return;
        var limit = (await LimitsAsync(project))[resource];
        if (limit >= 0 && await UsedAsync(project, resource) + 1 > limit)
            throw Conflict("OverQuota", $"Quota exceeded for resources: ['{resource}'].");
    }
}
