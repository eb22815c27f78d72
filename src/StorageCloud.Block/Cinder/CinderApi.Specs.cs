using System.Text.Json.Nodes;
using StorageCloud.Service.Api;

namespace StorageCloud.Block.Cinder;

public sealed partial class CinderApi
{
    /// <summary>A row's spec set (volume type extra specs, group type group specs): its JSON and how to store a new one.</summary>
    private sealed record SpecsOwner(string MissingKeyMessage, string Json, Func<string, Task> SaveAsync);

    /// <summary>
    /// The routes of a spec set under <paramref name="path"/>: GET (all), POST (merge; answers only the specs given, as
    /// Cinder does), and GET/PUT/DELETE of one key. Anyone who may see the owner reads; admins change.
    /// </summary>
    private void MapSpecs(string path, string member, int postStatus, Func<ApiRequest, Task<SpecsOwner>> find)
    {
        Project("GET", path, async r =>
        {
            Enforce(r, "read");
            var owner = await find(r);
            await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { [member] = ParseObject(owner.Json) });
        });
        Project("POST", path, async r =>
        {
            Enforce(r, "admin");
            var owner = await find(r);
            var body = await JsonBody.ReadAsync(r.Context);
            if (body[member] is null) throw ApiError.BadRequest($"Malformed request body: {member} is missing.");
            var given = Metadata(body, member);
            var specs = Metadata(new JsonObject { [member] = ParseObject(owner.Json) }, member);
            foreach (var (key, value) in given) specs[key] = value;
            await owner.SaveAsync(Json(specs));
            await ApiResponses.WriteJsonAsync(r.Context, postStatus, new JsonObject { [member] = ParseObject(Json(given)) });
        });
        Project("GET", path + "/{key}", async r =>
        {
            Enforce(r, "read");
            var owner = await find(r);
            var key = r.Args[2];
            if (ParseObject(owner.Json)[key] is not { } value) throw ApiError.NotFound($"{owner.MissingKeyMessage} {key}.");
            await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { [key] = value.DeepClone() });
        });
        Project("PUT", path + "/{key}", async r =>
        {
            Enforce(r, "admin");
            var owner = await find(r);
            var key = r.Args[2];
            var given = Metadata(new JsonObject { ["spec"] = await JsonBody.ReadAsync(r.Context) }, "spec");
            if (given.Count != 1 || !given.ContainsKey(key)) throw ApiError.BadRequest("Request body and URI mismatch");
            var specs = ParseObject(owner.Json);
            specs[key] = given[key];
            await owner.SaveAsync(specs.ToJsonString());
            await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { [key] = given[key] });
        });
        Project("DELETE", path + "/{key}", async r =>
        {
            Enforce(r, "admin");
            var owner = await find(r);
            var specs = ParseObject(owner.Json);
            if (!specs.Remove(r.Args[2])) throw ApiError.NotFound($"{owner.MissingKeyMessage} {r.Args[2]}.");
            await owner.SaveAsync(specs.ToJsonString());
            await ApiResponses.NoContent(r.Context, 202);
        });
    }
}
