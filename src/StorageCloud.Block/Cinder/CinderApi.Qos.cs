using System.Text.Json.Nodes;
using StorageCloud.Block.Volumes;
using StorageCloud.Service.Api;

namespace StorageCloud.Block.Cinder;

/// <summary>
/// QoS specs (admin only): named sets of limits, associated with volume types. They are records: the chunk store does
/// not throttle a volume yet, so a front-end consumer's limits are for the client that attaches, as in Cinder.
/// </summary>
public sealed partial class CinderApi
{
    private static readonly HashSet<string> QosConsumers = ["front-end", "back-end", "both"];

    private void MapQos()
    {
        Project("GET", "/qos-specs", ListQosAsync);
        Project("POST", "/qos-specs", CreateQosAsync);
        Project("GET", "/qos-specs/{id}", ShowQosAsync);
        Project("PUT", "/qos-specs/{id}", SetQosKeysAsync);
        Project("DELETE", "/qos-specs/{id}", DeleteQosAsync);
        Project("PUT", "/qos-specs/{id}/delete_keys", UnsetQosKeysAsync);
        Project("GET", "/qos-specs/{id}/associations", QosAssociationsAsync);
        Project("GET", "/qos-specs/{id}/associate", r => AssociateQosAsync(r, associate: true));
        Project("GET", "/qos-specs/{id}/disassociate", r => AssociateQosAsync(r, associate: false));
        Project("GET", "/qos-specs/{id}/disassociate_all", DisassociateAllQosAsync);
    }

    private async Task<QosSpecsRow> FindQosAsync(ApiRequest r)
    {
        Enforce(r, "admin");
        var id = r.Args[1];
        var row = Guid.TryParse(id, out var guid) ? await _store.GetAsync<QosSpecsRow>(guid.ToString("D")) : null;
        return row ?? throw ApiError.NotFound($"No such QoS spec {id}.");
    }

    private static JsonObject QosView(QosSpecsRow row) => new()
    {
        ["id"] = row.Id,
        ["name"] = row.Name,
        ["consumer"] = row.Consumer,
        ["specs"] = ParseObject(row.Specs),
    };

    private static Task WriteQosAsync(ApiRequest r, QosSpecsRow row) =>
        ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["qos_specs"] = QosView(row), ["links"] = Links(r, "qos-specs", row.Id) });

    private async Task ListQosAsync(ApiRequest r)
    {
        Enforce(r, "admin");
        var items = new JsonArray();
        foreach (var row in (await _store.ListAsync<QosSpecsRow>()).OrderBy(q => q.CreatedAt, StringComparer.Ordinal)) items.Add(QosView(row));
        await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["qos_specs"] = items });
    }

    private async Task CreateQosAsync(ApiRequest r)
    {
        Enforce(r, "admin");
        var body = await BodyAsync(r, "qos_specs");
        var name = ShortString(body, "name", "qos_specs")?.Trim();
        if (string.IsNullOrEmpty(name)) throw ApiError.BadRequest("Invalid input received: Please specify a name for QoS specs.");
        var consumer = JsonBody.OptionalString(body, "consumer", "qos_specs") ?? "back-end";
        if (!QosConsumers.Contains(consumer))
            throw ApiError.BadRequest($"Invalid input received: Valid consumer of QoS specs are: ['front-end', 'back-end', 'both'] (got '{consumer}').");
        var specs = new JsonObject();
        foreach (var (key, value) in Metadata(WithoutKeys(body, "name", "consumer"), "specs")) specs[key] = value;
        var row = new QosSpecsRow { Id = Guid.NewGuid().ToString("D"), Name = name, Consumer = consumer, Specs = specs.ToJsonString(), CreatedAt = VolumeManager.Now() };
        if (!await _store.InsertAsync(row)) throw ApiError.Conflict($"QoS Specs {name} already exists.");
        await WriteQosAsync(r, row);
    }

    /// <summary>The body's members but the named ones, as an object under "specs" (for <see cref="Metadata"/>'s checks).</summary>
    private static JsonObject WithoutKeys(JsonObject body, params string[] names)
    {
        var specs = new JsonObject();
        foreach (var (key, value) in body)
        {
            if (Array.IndexOf(names, key) < 0) specs[key] = value?.DeepClone();
        }
        return new JsonObject { ["specs"] = specs };
    }

    private async Task ShowQosAsync(ApiRequest r) => await WriteQosAsync(r, await FindQosAsync(r));

    private async Task SetQosKeysAsync(ApiRequest r)
    {
        var row = await FindQosAsync(r);
        var given = Metadata(WithoutKeys(await BodyAsync(r, "qos_specs")), "specs");
        if (given.Count == 0) throw ApiError.BadRequest("Invalid input received: no QoS keys to set.");
        var specs = ParseObject(row.Specs);
        var answer = new JsonObject();
        foreach (var (key, value) in given)
        {
            specs[key] = value;
            answer[key] = value;
        }
        row.Specs = specs.ToJsonString();
        await _store.UpdateAsync(row);
        await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["qos_specs"] = answer });
    }

    private async Task UnsetQosKeysAsync(ApiRequest r)
    {
        var row = await FindQosAsync(r);
        var body = await JsonBody.ReadAsync(r.Context);
        if (body["keys"] is not JsonArray keys) throw ApiError.BadRequest("Malformed request body: keys must be a list.");
        var specs = ParseObject(row.Specs);
        foreach (var key in keys)
        {
            var name = key is JsonValue v && v.TryGetValue<string>(out var s) ? s : throw ApiError.BadRequest("Malformed request body: keys must be strings.");
            if (!specs.Remove(name)) throw ApiError.NotFound($"QoS spec {row.Id} has no key {name}.");
        }
        row.Specs = specs.ToJsonString();
        await _store.UpdateAsync(row);
        await ApiResponses.NoContent(r.Context, 202);
    }

    private async Task<List<VolumeTypeRow>> TypesOfQosAsync(string qosId) => await _store.ListAsync<VolumeTypeRow>(("qos_specs_id", qosId));

    private async Task DeleteQosAsync(ApiRequest r)
    {
        var row = await FindQosAsync(r);
        var force = r.Query("force") is "true" or "True" or "1";
        var types = await TypesOfQosAsync(row.Id);
        if (types.Count > 0 && !force) throw ApiError.BadRequest($"QoS Specs {row.Id} is still associated with entities.");
        await DisassociateAsync(types);
        await _store.DeleteAsync<QosSpecsRow>(row.Id);
        await ApiResponses.NoContent(r.Context, 202);
    }

    private async Task QosAssociationsAsync(ApiRequest r)
    {
        var row = await FindQosAsync(r);
        var items = new JsonArray();
        foreach (var type in await TypesOfQosAsync(row.Id))
            items.Add(new JsonObject { ["association_type"] = "volume_type", ["name"] = type.Name, ["id"] = type.Id });
        await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["qos_associations"] = items });
    }

    private async Task AssociateQosAsync(ApiRequest r, bool associate)
    {
        var row = await FindQosAsync(r);
        var typeId = r.Query("vol_type_id") ?? throw ApiError.BadRequest("Invalid input received: vol_type_id is required.");
        var type = (Guid.TryParse(typeId, out var guid) ? await _store.GetAsync<VolumeTypeRow>(guid.ToString("D")) : null)
            ?? throw ApiError.NotFound($"Volume type {typeId} could not be found.");
        if (associate)
        {
            if (type.QosSpecsId is { } other && other != row.Id)
                throw ApiError.BadRequest($"Type {type.Id} is already associated with another qos specs: {other}");
            type.QosSpecsId = row.Id;
            await _store.UpdateAsync(type);
        }
        else if (type.QosSpecsId == row.Id)
        {
            await DisassociateAsync([type]);
        }
        await ApiResponses.NoContent(r.Context, 202);
    }

    private async Task DisassociateAllQosAsync(ApiRequest r)
    {
        var row = await FindQosAsync(r);
        await DisassociateAsync(await TypesOfQosAsync(row.Id));
        await ApiResponses.NoContent(r.Context, 202);
    }

    private async Task DisassociateAsync(List<VolumeTypeRow> types)
    {
        foreach (var type in types)
        {
            type.QosSpecsId = null;
            await _store.UpdateAsync(type);
        }
    }
}
