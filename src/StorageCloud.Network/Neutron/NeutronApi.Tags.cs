using System.Text.Json.Nodes;
using StorageCloud.Service.Api;

namespace StorageCloud.Network.Neutron;

public sealed partial class NeutronApi
{
    private async Task<JsonObject> TaggedAsync(ApiRequest r, string kind)
    {
        var doc = await LoadAsync(kind, r.Args[0]);
        if (doc is null || !(Me(r).IsAdmin || Str(doc, "project_id") == Me(r).ProjectId || (kind == "network" && Visible(r, doc))))
            throw NotFound("NotFound", $"{kind} {r.Args[0]} could not be found.");
        return doc;
    }

    private async Task TagsAsync(ApiRequest r, string kind)
    {
        Enforce(r, "read");
        var doc = await TaggedAsync(r, kind);
        await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["tags"] = doc["tags"]!.DeepClone() });
    }

    private async Task ReplaceTagsAsync(ApiRequest r, string kind, bool clear = false)
    {
        Enforce(r, "write");
        var doc = await TaggedAsync(r, kind);
        var tags = new JsonArray();
        if (!clear)
        {
            var body = await JsonBody.ReadAsync(r.Context);
            if (body["tags"] is not JsonArray given) throw BadRequest("Invalid input: a tags list is required.");
            foreach (var tag in given.Select(t => Text(t)).Distinct())
            {
                if (tag.Length is 0 or > 255) throw BadRequest($"Invalid tag '{tag}'.");
                tags.Add(tag);
            }
        }
        doc["tags"] = tags;
        await SaveAsync(kind, doc);
        if (clear) await ApiResponses.NoContent(r.Context, 204);
        else await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["tags"] = tags.DeepClone() });
    }

    private async Task TagAsync(ApiRequest r, string kind, string method)
    {
        Enforce(r, method == "GET" ? "read" : "write");
        var doc = await TaggedAsync(r, kind);
        var tag = Uri.UnescapeDataString(r.Args[1]);
        var tags = doc["tags"]!.AsArray();
        var existing = tags.FirstOrDefault(t => Text(t) == tag);
        switch (method)
        {
            case "GET":
                if (existing is null) throw NotFound("TagNotFound", $"Tag {tag} could not be found for {kind} {r.Args[0]}.");
                break;
            case "PUT":
                if (tag.Length is 0 or > 255) throw BadRequest($"Invalid tag '{tag}'.");
                if (existing is null)
                {
                    tags.Add(tag);
                    await SaveAsync(kind, doc);
                }
                await ApiResponses.NoContent(r.Context, 201);
                return;
            default:
                if (existing is null) throw NotFound("TagNotFound", $"Tag {tag} could not be found for {kind} {r.Args[0]}.");
                tags.Remove(existing);
                await SaveAsync(kind, doc);
                break;
        }
        await ApiResponses.NoContent(r.Context, 204);
    }
}
