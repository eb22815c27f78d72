using System.Globalization;
using System.Text.Json.Nodes;
using StorageCloud.Service.Api;

namespace StorageCloud.Compute.Nova;

/// <summary>
/// Host aggregates (admins): create, list, show, rename, delete (when empty), add and remove the host, merge metadata;
/// an aggregate's availability zone is one servers may be created in once the host is in the aggregate. Ids are
/// integers never reused; a uuid shows from 2.41.
/// </summary>
public sealed partial class NovaApi
{
    private const string AggregateKind = "aggregate";

    private void MapAggregates()
    {
        Map("GET", "/os-aggregates", async r =>
        {
            Enforce(r, "admin");
            var list = new JsonArray();
            foreach (var aggregate in (await AllAsync(AggregateKind)).OrderBy(a => Long(a, "id"))) list.Add(AggregateView(r, aggregate, full: true));
            await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["aggregates"] = list });
        });
        Map("POST", "/os-aggregates", CreateAggregateAsync);
        Map("GET", "/os-aggregates/{id}", async r => await WriteAggregateAsync(r, await FindAggregateAsync(r)));
        Map("PUT", "/os-aggregates/{id}", UpdateAggregateAsync);
        Map("DELETE", "/os-aggregates/{id}", async r =>
        {
            var aggregate = await FindAggregateAsync(r);
            if (aggregate["hosts"] is JsonArray { Count: > 0 }) throw ApiError.BadRequest($"Cannot remove aggregate {r.Args[0]}: it still has hosts.");
            await DeleteRowAsync(AggregateKind, Str(aggregate, "uuid")!);
            await ApiResponses.NoContent(r.Context, 200);
        });
        Map("POST", "/os-aggregates/{id}/action", AggregateActionAsync);
    }

    private static JsonObject AggregateView(ApiRequest r, JsonObject a, bool full)
    {
        var view = new JsonObject
        {
            ["id"] = Long(a, "id"), ["name"] = Str(a, "name"), ["availability_zone"] = Str(a, "availability_zone"), ["created_at"] = Str(a, "created_at"),
            ["updated_at"] = Str(a, "updated_at"), ["deleted"] = false, ["deleted_at"] = null,
        };
        if (full)
        {
            view["hosts"] = a["hosts"]?.DeepClone() ?? new JsonArray();
            view["metadata"] = a["metadata"]?.DeepClone() ?? new JsonObject();
        }
        if (AtLeast(r, 41)) view["uuid"] = Str(a, "uuid");
        return view;
    }

    private static Task WriteAggregateAsync(ApiRequest r, JsonObject aggregate) =>
        ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["aggregate"] = AggregateView(r, aggregate, full: true) });

    /// <summary>The aggregate of the path's integer id (admins only, checked first); 400 for a non-integer, 404 for an unknown one.</summary>
    private async Task<JsonObject> FindAggregateAsync(ApiRequest r)
    {
        Enforce(r, "admin");
        if (!long.TryParse(r.Args[0], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var id))
            throw ApiError.BadRequest($"Invalid input for field/attribute id. Value: {r.Args[0]}. Aggregate ID must be an integer");
        return (await AllAsync(AggregateKind)).FirstOrDefault(a => Long(a, "id") == id) ?? throw NotFound($"Aggregate {r.Args[0]} could not be found.");
    }

    /// <summary>The availability zone field: null, or 1-255 characters without a colon.</summary>
    private static string? ZoneOf(JsonObject body)
    {
        if (body["availability_zone"] is null) return null;
        var zone = JsonBody.OptionalString(body, "availability_zone", "aggregate");
        if (zone is null || zone.Length is 0 or > 255 || zone.Contains(':'))
            throw ApiError.BadRequest($"Invalid input for field/attribute availability_zone. Value: {zone}.");
        return zone;
    }

    private static void SetZone(JsonObject aggregate, string? zone)
    {
        aggregate["availability_zone"] = zone;
        var metadata = aggregate["metadata"] as JsonObject ?? [];
        aggregate["metadata"] = metadata;
        if (zone is null) metadata.Remove("availability_zone");
        else metadata["availability_zone"] = zone;
    }

    private async Task CreateAggregateAsync(ApiRequest r)
    {
        Enforce(r, "admin");
        var body = await BodyAsync(r, "aggregate");
        foreach (var (key, _) in body)
            if (key is not ("name" or "availability_zone")) throw ApiError.BadRequest($"Invalid input for field/attribute aggregate. Additional properties are not allowed ('{key}' was unexpected)");
        var name = Name(body, "name");
        var zone = ZoneOf(body);
        JsonObject aggregate;
        await _gate.WaitAsync();
        try
        {
            var all = await AllAsync(AggregateKind);
            if (all.Any(a => Str(a, "name") == name)) throw ApiError.Conflict($"Aggregate {name} already exists.");
            var counter = await LoadAsync(AggregateKind + "-counter", "ids");
            var id = (counter is null ? 0 : Long(counter, "last")) + 1;
            var counterDoc = new JsonObject { ["last"] = id };
            if (counter is null) await InsertAsync(AggregateKind + "-counter", "ids", "", counterDoc);
            else await SaveAsync(AggregateKind + "-counter", "ids", "", counterDoc);
            aggregate = new JsonObject
            {
                ["id"] = id, ["uuid"] = Guid.NewGuid().ToString("D"), ["name"] = name, ["hosts"] = new JsonArray(), ["metadata"] = new JsonObject(),
                ["created_at"] = Now(), ["updated_at"] = null,
            };
            SetZone(aggregate, zone);
            await InsertAsync(AggregateKind, Str(aggregate, "uuid")!, "", aggregate);
        }
        finally
        {
            _gate.Release();
        }
        // Nova's create answer has neither hosts nor metadata.
        await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["aggregate"] = AggregateView(r, aggregate, full: false) });
    }

    private async Task UpdateAggregateAsync(ApiRequest r)
    {
        var aggregate = await FindAggregateAsync(r);
        var body = await BodyAsync(r, "aggregate");
        foreach (var (key, _) in body)
            if (key is not ("name" or "availability_zone")) throw ApiError.BadRequest($"Invalid input for field/attribute aggregate. Additional properties are not allowed ('{key}' was unexpected)");
        if (body.Count == 0) throw ApiError.BadRequest("Invalid input for field/attribute aggregate. Value: {}. {} does not have enough properties");
        if (body.ContainsKey("name"))
        {
            var name = Name(body, "name");
            if (name != Str(aggregate, "name") && (await AllAsync(AggregateKind)).Any(a => Str(a, "name") == name))
                throw ApiError.Conflict($"Aggregate {name} already exists.");
            aggregate["name"] = name;
        }
        if (body.ContainsKey("availability_zone")) SetZone(aggregate, ZoneOf(body));
        aggregate["updated_at"] = Now();
        await SaveAsync(AggregateKind, Str(aggregate, "uuid")!, "", aggregate);
        await WriteAggregateAsync(r, aggregate);
    }

    private async Task AggregateActionAsync(ApiRequest r)
    {
        var aggregate = await FindAggregateAsync(r);
        var body = await JsonBody.ReadAsync(r.Context);
        if (body.Count != 1 || body.First().Value is not JsonObject args)
            throw ApiError.BadRequest("Invalid input for field/attribute request body: one of add_host, remove_host or set_metadata.");
        var action = body.First().Key;
        var id = r.Args[0];
        var hosts = aggregate["hosts"] as JsonArray ?? [];
        aggregate["hosts"] = hosts;
        switch (action)
        {
            case "add_host" or "remove_host":
                foreach (var (key, _) in args)
                    if (key != "host") throw ApiError.BadRequest($"Invalid input for field/attribute {action}. Additional properties are not allowed ('{key}' was unexpected)");
                var host = JsonBody.OptionalString(args, "host", action);
                if (host is null || host.Length is 0 or > 255) throw ApiError.BadRequest($"Invalid input for field/attribute host. Value: {host}.");
                var present = hosts.Any(h => h?.ToString() == host);
                if (action == "add_host")
                {
                    if (host != _settings.HostName) throw NotFound($"Compute host {host} could not be found.");
                    if (present) throw ApiError.Conflict($"Aggregate {id} already has host {host}.");
                    if (Str(aggregate, "availability_zone") is { } zone
                        && (await AllAsync(AggregateKind)).Any(a => Str(a, "uuid") != Str(aggregate, "uuid") && Str(a, "availability_zone") is { } other && other != zone
                            && (a["hosts"] as JsonArray ?? []).Any(h => h?.ToString() == host)))
                        throw ApiError.BadRequest($"Cannot add host to aggregate {id}. Reason: One or more hosts already in availability zone(s) other than {zone}.");
                    hosts.Add(host);
                }
                else
                {
                    if (!present) throw NotFound($"Cannot remove host {host} in aggregate {id}");
                    hosts.Remove(hosts.First(h => h?.ToString() == host));
                }
                break;
            case "set_metadata":
                if (args["metadata"] is not JsonObject metadata) throw ApiError.BadRequest("Invalid input for field/attribute metadata.");
                foreach (var (key, value) in metadata)
                {
                    if (key.Length is 0 or > 255) throw ApiError.BadRequest($"Invalid input for field/attribute metadata. Value: {key}.");
                    if (value is null)
                    {
                        if (key == "availability_zone") SetZone(aggregate, null);
                        else (aggregate["metadata"] as JsonObject)?.Remove(key);
                        continue;
                    }
                    if (value is not JsonValue v || !v.TryGetValue<string>(out var text) || text.Length > 255)
                        throw ApiError.BadRequest($"Invalid input for field/attribute {key}. Value: {value.ToJsonString()}.");
                    if (key == "availability_zone") SetZone(aggregate, ZoneOf(new JsonObject { ["availability_zone"] = text }));
                    else aggregate["metadata"]![key] = text;
                }
                break;
            default:
                throw ApiError.BadRequest($"There is no such action: {action}");
        }
        aggregate["updated_at"] = Now();
        await SaveAsync(AggregateKind, Str(aggregate, "uuid")!, "", aggregate);
        await WriteAggregateAsync(r, aggregate);
    }

    /// <summary>The availability zones servers may be created in: "nova", and those of aggregates that hold the host.</summary>
    private async Task<HashSet<string>> ServerZonesAsync()
    {
        var zones = new HashSet<string>(StringComparer.Ordinal) { "nova" };
        foreach (var a in await AllAsync(AggregateKind))
            if (Str(a, "availability_zone") is { } zone && (a["hosts"] as JsonArray ?? []).Any(h => h?.ToString() == _settings.HostName)) zones.Add(zone);
        return zones;
    }
}
