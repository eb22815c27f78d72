using System.Text.Json.Nodes;
using StorageCloud.Service.Api;

namespace StorageCloud.Block.Cinder;

public sealed partial class CinderApi
{
    /// <summary>A row's metadata: its project, its JSON, and how to store new JSON.</summary>
    private delegate Task<(string Project, string Json, Func<string, Task> Save)> MetadataOwner(ApiRequest r);

    /// <summary>
    /// The metadata routes of volumes and snapshots: <c>/{kind}/{id}/metadata</c> (GET, POST merges, PUT replaces) and
    /// <c>/{kind}/{id}/metadata/{key}</c> (GET, PUT, DELETE), answered as Cinder does.
    /// </summary>
    private void MapMetadata(string kind, MetadataOwner owner)
    {
        var what = kind == "volumes" ? "Volume" : "Snapshot";
        Project("GET", $"/{kind}/{{id}}/metadata", r => AllMetadataAsync(r, owner, replace: null));
        Project("POST", $"/{kind}/{{id}}/metadata", r => AllMetadataAsync(r, owner, replace: false));
        Project("PUT", $"/{kind}/{{id}}/metadata", r => AllMetadataAsync(r, owner, replace: true));
        Project("GET", $"/{kind}/{{id}}/metadata/{{key}}", r => MetadataKeyAsync(r, owner, what));
        Project("PUT", $"/{kind}/{{id}}/metadata/{{key}}", r => MetadataKeyAsync(r, owner, what));
        Project("DELETE", $"/{kind}/{{id}}/metadata/{{key}}", r => MetadataKeyAsync(r, owner, what));
    }

    private static async Task AllMetadataAsync(ApiRequest r, MetadataOwner owner, bool? replace)
    {
        var (project, json, save) = await owner(r);
        Enforce(r, replace is null ? "read" : "write", project);
        if (replace is { } replacing)
        {
            var body = await JsonBody.ReadAsync(r.Context);
            if (body["metadata"] is null) throw ApiError.BadRequest("Malformed request body: metadata is missing.");
            var merged = replacing ? [] : Metadata(new JsonObject { ["metadata"] = ParseObject(json) }, "metadata");
            foreach (var (k, v) in Metadata(body, "metadata")) merged[k] = v;
            json = Json(merged);
            await save(json);
        }
        await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["metadata"] = MetadataView(json) });
    }

    private static async Task MetadataKeyAsync(ApiRequest r, MetadataOwner owner, string what)
    {
        var (project, json, save) = await owner(r);
        var method = r.Context.Request.Method;
        Enforce(r, method is "GET" or "HEAD" ? "read" : "write", project);
        var key = r.Args[2];
        var metadata = ParseObject(json);
        if (method is "GET" or "HEAD")
        {
            if (metadata[key] is not { } value) throw ApiError.NotFound($"{what} {r.Args[1]} has no metadata with key {key}.");
            await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["meta"] = new JsonObject { [key] = value.DeepClone() } });
            return;
        }
        if (method == "PUT")
        {
            var meta = Metadata(await JsonBody.ReadAsync(r.Context), "meta");
            if (meta.Count != 1 || !meta.ContainsKey(key)) throw ApiError.BadRequest("Request body and URI mismatch");
            metadata[key] = meta[key];
        }
        else if (!metadata.Remove(key))
        {
            throw ApiError.NotFound($"{what} {r.Args[1]} has no metadata with key {key}.");
        }
        await save(metadata.ToJsonString());
        if (method == "DELETE") await ApiResponses.NoContent(r.Context, 200);
        else await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["meta"] = new JsonObject { [key] = metadata[key]!.DeepClone() } });
    }
}
