using System.Text.Json.Nodes;
using StorageCloud.Block.Volumes;
using StorageCloud.Service.Api;

namespace StorageCloud.Block.Cinder;

/// <summary>
/// Volume type encryption (admin only), kept as Cinder keeps it: the provider, cipher, key size and where encryption
/// happens. The appliance runs no key manager, so it never makes a volume of an encrypted type (400 at create): a volume
/// that claimed encryption but held plain data would be worse than a refusal.
/// </summary>
public sealed partial class CinderApi
{
    private void MapEncryption()
    {
        Project("GET", "/types/{id}/encryption", ShowEncryptionAsync);
        Project("POST", "/types/{id}/encryption", CreateEncryptionAsync);
        Project("GET", "/types/{id}/encryption/{key}", ShowEncryptionKeyAsync);
        Project("PUT", "/types/{id}/encryption/{encryption_id}", UpdateEncryptionAsync);
        Project("DELETE", "/types/{id}/encryption/{encryption_id}", DeleteEncryptionAsync);
    }

    private static JsonObject EncryptionView(VolumeTypeEncryptionRow row, bool full) 
    {
        var view = new JsonObject
        {
            ["volume_type_id"] = row.Id,
            ["encryption_id"] = row.EncryptionId,
            ["provider"] = row.Provider,
            ["cipher"] = row.Cipher,
            ["key_size"] = row.KeySize,
            ["control_location"] = row.ControlLocation,
        };
        if (full)
        {
            view["deleted"] = false;
            view["created_at"] = row.CreatedAt;
            view["updated_at"] = row.UpdatedAt;
            view["deleted_at"] = null;
        }
        return view;
    }

    private async Task<(VolumeTypeRow Type, VolumeTypeEncryptionRow? Encryption)> EncryptionOfAsync(ApiRequest r)
    {
        Enforce(r, "admin");
        var type = await FindTypeAsync(r);
        return (type, await _store.GetAsync<VolumeTypeEncryptionRow>(type.Id));
    }

    private async Task ShowEncryptionAsync(ApiRequest r)
    {
        var (_, encryption) = await EncryptionOfAsync(r);
        // A type without encryption answers an empty object, as Cinder's does.
        await ApiResponses.WriteJsonAsync(r.Context, 200, encryption is null ? new JsonObject() : EncryptionView(encryption, full: true));
    }

    private async Task ShowEncryptionKeyAsync(ApiRequest r)
    {
        var (type, encryption) = await EncryptionOfAsync(r);
        var key = r.Args[2];
        var view = encryption is null ? null : EncryptionView(encryption, full: false);
        if (view?[key] is not { } value) throw ApiError.NotFound($"Volume type encryption for type {type.Id} has no {key}.");
        await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { [key] = value.DeepClone() });
    }

    private async Task CreateEncryptionAsync(ApiRequest r)
    {
        var (type, existing) = await EncryptionOfAsync(r);
        if (existing is not null) throw ApiError.BadRequest($"Volume type encryption for type {type.Id} already exists.");
        await RefuseWhileInUseAsync(type, "create");
        var body = await BodyAsync(r, "encryption");
        var row = new VolumeTypeEncryptionRow { Id = type.Id, EncryptionId = Guid.NewGuid().ToString("D"), CreatedAt = VolumeManager.Now() };
        ApplyEncryption(row, body, creating: true);
        await _store.InsertAsync(row);
        await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["encryption"] = EncryptionView(row, full: false) });
    }

    private async Task UpdateEncryptionAsync(ApiRequest r)
    {
        var (type, row) = await EncryptionOfAsync(r);
        if (row is null) throw ApiError.NotFound($"Volume type encryption for type {type.Id} does not exist.");
        await RefuseWhileInUseAsync(type, "update");
        var body = await BodyAsync(r, "encryption");
        ApplyEncryption(row, body, creating: false);
        row.UpdatedAt = VolumeManager.Now();
        await _store.UpdateAsync(row);
        var answer = new JsonObject();
        foreach (var (key, value) in body) answer[key] = value?.DeepClone();
        await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["encryption"] = answer });
    }

    private async Task DeleteEncryptionAsync(ApiRequest r)
    {
        var (type, row) = await EncryptionOfAsync(r);
        if (row is null) throw ApiError.NotFound($"Volume type encryption for type {type.Id} does not exist.");
        await RefuseWhileInUseAsync(type, "delete");
        await _store.DeleteAsync<VolumeTypeEncryptionRow>(type.Id);
        await ApiResponses.NoContent(r.Context, 202);
    }

    private async Task RefuseWhileInUseAsync(VolumeTypeRow type, string verb)
    {
        if ((await _store.ListAsync<VolumeRow>(("volume_type", type.Name))).Count > 0)
            throw ApiError.BadRequest($"Cannot {verb} encryption specs. Volume type in use.");
    }

    /// <summary>Sets the fields the body names, with Cinder's checks (a provider is required at create).</summary>
    private static void ApplyEncryption(VolumeTypeEncryptionRow row, JsonObject body, bool creating)
    {
        var provider = JsonBody.OptionalString(body, "provider", "encryption");
        if (creating && string.IsNullOrWhiteSpace(provider)) throw ApiError.BadRequest("Invalid input received: provider must be specified.");
        if (provider is not null) row.Provider = provider;
        if (body.ContainsKey("cipher")) row.Cipher = JsonBody.OptionalString(body, "cipher", "encryption");
        if (JsonBody.OptionalString(body, "control_location", "encryption") is { } location)
        {
            if (location is not ("front-end" or "back-end"))
                throw ApiError.BadRequest($"Invalid input received: Valid control location are: ['front-end', 'back-end'] (got '{location}').");
            row.ControlLocation = location;
        }
        if (body.ContainsKey("key_size"))
        {
            if (body["key_size"] is null) row.KeySize = null;
            else if (body["key_size"] is JsonValue v && v.TryGetValue<long>(out var size) && size > 0) row.KeySize = size;
            else throw ApiError.BadRequest("Invalid input received: key_size must be a positive integer.");
        }
    }
}
