using System.Text.Json;
using System.Text.Json.Nodes;
using StorageCloud.Auth.Store;
using StorageCloud.Service.Api;

namespace StorageCloud.Identity.Api;

/// <summary>Keystone's JSON shape of its extension resources (consumers, policies, endpoint groups).</summary>
public static class ExtensionViews
{
    /// <summary>An OS-OAUTH1 consumer; the secret only in the answer that created it.</summary>
    public static JsonObject Consumer(ConsumerRow c, string baseUrl, string? secret = null)
    {
        var json = WithExtra(c.Extra);
        json["id"] = c.Id;
        json["description"] = c.Description;
        json["links"] = Views.Links($"{baseUrl}/OS-OAUTH1/consumers/{c.Id}");
        if (secret is not null) json["secret"] = secret;
        return json;
    }

    /// <summary>A policy blob.</summary>
    public static JsonObject Policy(PolicyRow p, string baseUrl)
    {
        var json = WithExtra(p.Extra);
        json["id"] = p.Id;
        json["type"] = p.Type;
        json["blob"] = p.Blob;
        json["links"] = Views.Links($"{baseUrl}/policies/{p.Id}");
        return json;
    }

    /// <summary>An OS-EP-FILTER endpoint group.</summary>
    public static JsonObject EndpointGroup(EndpointGroupRow g, string baseUrl) => new()
    {
        ["id"] = g.Id, ["name"] = g.Name, ["description"] = g.Description, ["filters"] = ParseObject(g.Filters),
        ["links"] = Views.Links($"{baseUrl}/OS-EP-FILTER/endpoint_groups/{g.Id}"),
    };

    /// <summary>
    /// The members of a request object outside the known ones: Keystone keeps such attributes of consumers and
    /// policies and shows them back, so clients that tag these resources keep their tags.
    /// </summary>
    public static JsonObject Extra(JsonObject given, JsonObject existing, params string[] known)
    {
        var extra = (JsonObject)existing.DeepClone();
        foreach (var (key, value) in given)
            if (Array.IndexOf(known, key) < 0 && key != "id" && key != "links") extra[key] = value?.DeepClone();
        var text = Views.Compact(extra);
        if (text.Length > 65_536) throw ApiError.Invalid("The extra attributes are too large.");
        return extra;
    }

    /// <summary>A JSON object column, or an empty object when it holds anything else.</summary>
    public static JsonObject ParseObject(string text)
    {
        try
        {
            return JsonNode.Parse(text) as JsonObject ?? new JsonObject();
        }
        catch (JsonException)
        {
            return new JsonObject();
        }
    }

    private static JsonObject WithExtra(string extra) => ParseObject(extra);
}
