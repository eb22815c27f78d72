using System.Text.Json;
using System.Text.Json.Nodes;
using StorageCloud.Auth.Store;

namespace StorageCloud.Identity.Api;

/// <summary>Keystone's JSON shape of each resource, with its self link.</summary>
public static class Views
{
    /// <summary>{"self": url}.</summary>
    public static JsonObject Links(string url) => new() { ["self"] = url };

    /// <summary>A list answer: {"&lt;plural&gt;": [...], "links": {...}}.</summary>
    public static JsonObject List(string plural, string url, IEnumerable<JsonNode> items)
    {
        var array = new JsonArray();
        foreach (var item in items) array.Add(item);
        return new JsonObject
        {
            [plural] = array,
            ["links"] = new JsonObject { ["self"] = url, ["previous"] = null, ["next"] = null },
        };
    }

    /// <summary>A domain.</summary>
    public static JsonObject Domain(DomainRow d, string baseUrl) => new()
    {
        ["id"] = d.Id, ["name"] = d.Name, ["description"] = d.Description, ["enabled"] = d.Enabled != 0,
        ["tags"] = new JsonArray(), ["options"] = new JsonObject(), ["links"] = Links($"{baseUrl}/domains/{d.Id}"),
    };

    /// <summary>A project.</summary>
    public static JsonObject Project(ProjectRow p, string baseUrl) => new()
    {
        ["id"] = p.Id, ["name"] = p.Name, ["domain_id"] = p.DomainId, ["description"] = p.Description, ["enabled"] = p.Enabled != 0,
        ["parent_id"] = p.ParentId ?? p.DomainId, ["is_domain"] = false, ["tags"] = JsonNode.Parse(p.Tags) as JsonArray ?? new JsonArray(),
        ["options"] = new JsonObject(),
        ["links"] = Links($"{baseUrl}/projects/{p.Id}"),
    };

    /// <summary>A user: fixed attributes, then the free-form ones.</summary>
    public static JsonObject User(UserRow u, string baseUrl)
    {
        var json = new JsonObject
        {
            ["id"] = u.Id, ["name"] = u.Name, ["domain_id"] = u.DomainId, ["enabled"] = u.Enabled != 0,
            ["password_expires_at"] = null, ["options"] = new JsonObject(), ["links"] = Links($"{baseUrl}/users/{u.Id}"),
        };
        if (u.DefaultProjectId is not null) json["default_project_id"] = u.DefaultProjectId;
        if (JsonNode.Parse(u.Extra) is JsonObject extra)
        {
            foreach (var (key, value) in extra)
                if (!json.ContainsKey(key)) json[key] = value?.DeepClone();
        }
        return json;
    }

    /// <summary>A group.</summary>
    public static JsonObject Group(GroupRow g, string baseUrl) => new()
    {
        ["id"] = g.Id, ["name"] = g.Name, ["domain_id"] = g.DomainId, ["description"] = g.Description,
        ["links"] = Links($"{baseUrl}/groups/{g.Id}"),
    };

    /// <summary>A role.</summary>
    public static JsonObject Role(RoleRow r, string baseUrl) => new()
    {
        ["id"] = r.Id, ["name"] = r.Name, ["domain_id"] = r.DomainId, ["description"] = r.Description, ["options"] = new JsonObject(),
        ["links"] = Links($"{baseUrl}/roles/{r.Id}"),
    };

    /// <summary>A region.</summary>
    public static JsonObject Region(RegionRow r, string baseUrl) => new()
    {
        ["id"] = r.Id, ["description"] = r.Description, ["parent_region_id"] = r.ParentRegionId, ["links"] = Links($"{baseUrl}/regions/{r.Id}"),
    };

    /// <summary>A service.</summary>
    public static JsonObject Service(ServiceRow s, string baseUrl) => new()
    {
        ["id"] = s.Id, ["type"] = s.Type, ["name"] = s.Name, ["description"] = s.Description, ["enabled"] = s.Enabled != 0,
        ["links"] = Links($"{baseUrl}/services/{s.Id}"),
    };

    /// <summary>An endpoint.</summary>
    public static JsonObject Endpoint(EndpointRow e, string baseUrl) => new()
    {
        ["id"] = e.Id, ["interface"] = e.Interface, ["region_id"] = e.RegionId, ["region"] = e.RegionId, ["url"] = e.Url,
        ["service_id"] = e.ServiceId, ["enabled"] = e.Enabled != 0, ["links"] = Links($"{baseUrl}/endpoints/{e.Id}"),
    };

    /// <summary>A credential (/v3/credentials).</summary>
    public static JsonObject Credential(CredentialRow c, string baseUrl) => new()
    {
        ["id"] = c.Id, ["user_id"] = c.UserId, ["project_id"] = c.ProjectId, ["type"] = c.Type, ["blob"] = c.Blob,
        ["links"] = Links($"{baseUrl}/credentials/{c.Id}"),
    };

    /// <summary>An EC2 credential as the OS-EC2 API shows it.</summary>
    public static JsonObject Ec2(CredentialRow c, string baseUrl)
    {
        var blob = JsonNode.Parse(c.Blob) as JsonObject ?? new JsonObject();
        var access = blob["access"]?.GetValue<string>() ?? "";
        return new JsonObject
        {
            ["user_id"] = c.UserId, ["tenant_id"] = c.ProjectId, ["access"] = access, ["secret"] = blob["secret"]?.GetValue<string>(),
            ["trust_id"] = null, ["links"] = Links($"{baseUrl}/users/{c.UserId}/credentials/OS-EC2/{access}"),
        };
    }

    /// <summary>An application credential (the secret only when just created).</summary>
    public static JsonObject AppCredential(AppCredentialRow a, string baseUrl, IReadOnlyList<RoleRow> roles, string? secret = null)
    {
        var roleArray = new JsonArray();
        foreach (var r in roles) roleArray.Add(new JsonObject { ["id"] = r.Id, ["name"] = r.Name, ["domain_id"] = null });
        var json = new JsonObject
        {
            ["id"] = a.Id, ["name"] = a.Name, ["user_id"] = a.UserId, ["project_id"] = a.ProjectId, ["description"] = a.Description,
            ["expires_at"] = a.ExpiresAt is { } at ? EchoedTime(at) : null,
            ["unrestricted"] = a.Unrestricted != 0, ["roles"] = roleArray, ["access_rules"] = new JsonArray(),
            ["links"] = Links($"{baseUrl}/users/{a.UserId}/application_credentials/{a.Id}"),
        };
        if (secret is not null) json["secret"] = secret;
        return json;
    }

    /// <summary>Keystone's timestamp format: 2026-11-22T10:13:11.000000Z.</summary>
    public static string Time(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>
    /// A time given in microseconds as Keystone echoes an application credential's expiry: Python's isoformat of a
    /// naive UTC time, with microseconds only when there are some.
    /// </summary>
    public static string EchoedTime(long micros)
    {
        var time = DateTimeOffset.UnixEpoch.AddTicks(micros * 10).UtcDateTime;
        var format = micros % 1_000_000 == 0 ? "yyyy-MM-dd'T'HH:mm:ss" : "yyyy-MM-dd'T'HH:mm:ss.ffffff";
        return time.ToString(format, System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>A compact JSON string of a node (credential blobs are stored as JSON text).</summary>
    public static string Compact(JsonNode node) => node.ToJsonString(new JsonSerializerOptions { WriteIndented = false });
}
