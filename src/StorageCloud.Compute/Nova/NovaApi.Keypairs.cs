using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using StorageCloud.Service.Api;

namespace StorageCloud.Compute.Nova;

/// <summary>
/// Key pairs (`/os-keypairs`): a user's public keys by name, imported (OpenSSH one-line keys, checked and
/// fingerprinted) or generated here (RSA 2048, the private key returned once and never kept).
/// </summary>
public sealed partial class NovaApi
{
    private const string KeypairKind = "keypair";
    private static readonly HashSet<string> KeyTypes = ["ssh-rsa", "ssh-ed25519", "ssh-dss", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521"];

    private void MapKeypairs()
    {
        Map("GET", "/os-keypairs", ListKeypairsAsync);
        Map("POST", "/os-keypairs", CreateKeypairAsync);
        Map("GET", "/os-keypairs/{name}", async r =>
            await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["keypair"] = KeypairView(r, await FindKeypairAsync(r), detail: true) }));
        Map("DELETE", "/os-keypairs/{name}", async r =>
        {
            var keypair = await FindKeypairAsync(r);
            await DeleteRowAsync(KeypairKind, Str(keypair, "user_id") + "/" + r.Args[0]);
            await ApiResponses.NoContent(r.Context, AtLeast(r, 2) ? 204 : 202);
        });
    }

    /// <summary>The user a key pair request is for: the caller, or the one an admin names (2.10).</summary>
    private static string KeypairUser(ApiRequest r)
    {
        var named = AtLeast(r, 10) ? r.Query("user_id") : null;
        if (named is null || named == Me(r).UserId) return Me(r).UserId;
        Enforce(r, "admin");
        return named;
    }

    private async Task<JsonObject> FindKeypairAsync(ApiRequest r)
    {
        Enforce(r, "read");
        return await LoadAsync(KeypairKind, KeypairUser(r) + "/" + r.Args[0]) ?? throw NotFound($"Keypair {r.Args[0]} not found for user {KeypairUser(r)}");
    }

    private static JsonObject KeypairView(ApiRequest r, JsonObject k, bool detail)
    {
        var view = new JsonObject { ["name"] = Str(k, "name"), ["public_key"] = Str(k, "public_key"), ["fingerprint"] = Str(k, "fingerprint") };
        if (AtLeast(r, 2)) view["type"] = Str(k, "type");
        if (!detail) return view;
        view["user_id"] = Str(k, "user_id");
        view["id"] = Long(k, "id");
        view["created_at"] = Str(k, "created_at");
        view["updated_at"] = null;
        view["deleted"] = false;
        view["deleted_at"] = null;
        return view;
    }

    private async Task ListKeypairsAsync(ApiRequest r)
    {
        Enforce(r, "read");
        var user = KeypairUser(r);
        var keys = (await AllAsync(KeypairKind)).Where(k => Str(k, "user_id") == user).OrderBy(k => Str(k, "name"), StringComparer.Ordinal).ToList();
        var (page, more) = AtLeast(r, 35)
            ? Pagination.Page(keys, k => Str(k, "name")!, r.Query("marker"), Pagination.Limit(r.Context.Request, 1000), m => ApiError.BadRequest($"marker [{m}] not found"))
            : (keys, false);
        var items = new JsonArray();
        foreach (var k in page) items.Add(new JsonObject { ["keypair"] = KeypairView(r, k, detail: false) });
        var body = new JsonObject { ["keypairs"] = items };
        if (more) body["keypairs_links"] = Pagination.NextLinks(r.Context.Request, $"{r.HostUrl}/v2.1/os-keypairs", Str(page[^1], "name")!);
        await ApiResponses.WriteJsonAsync(r.Context, 200, body);
    }

    private async Task CreateKeypairAsync(ApiRequest r)
    {
        Enforce(r, "write");
        var body = await BodyAsync(r, "keypair");
        var name = Name(body, "name");
        if (!name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or ' '))
            throw ApiError.BadRequest($"Invalid input for field/attribute name. Value: {name}. '{name}' does not match '^[a-zA-Z0-9 _-]+$'");
        var type = AtLeast(r, 2) ? JsonBody.OptionalString(body, "type", "keypair") ?? "ssh" : "ssh";
        if (type is not ("ssh" or "x509")) throw ApiError.BadRequest($"Invalid input for field/attribute type. Value: {type}. '{type}' is not one of ['ssh', 'x509']");
        var user = Me(r).UserId;
        if (AtLeast(r, 10) && JsonBody.OptionalString(body, "user_id", "keypair") is { } named && named != user)
        {
            Enforce(r, "admin");
            user = named;
        }
        var publicKey = JsonBody.OptionalString(body, "public_key", "keypair");
        string? privateKey = null;
        if (publicKey is null) (publicKey, privateKey) = GenerateKeypair();
        var fingerprint = Fingerprint(publicKey.Trim()) ?? throw ApiError.BadRequest("Keypair data is invalid: failed to generate fingerprint");
        var existing = await AllAsync(KeypairKind);
        if (existing.Count(k => Str(k, "user_id") == user) >= await LimitAsync(Project(r), "key_pairs"))
            throw new ApiError(403, "Quota exceeded, too many key pairs.");
        var keypair = new JsonObject
        {
            ["name"] = name, ["public_key"] = publicKey.Trim(), ["fingerprint"] = fingerprint, ["type"] = type, ["user_id"] = user,
            ["id"] = existing.Count == 0 ? 1 : existing.Max(k => Long(k, "id")) + 1, ["created_at"] = Now(),
        };
        if (!await InsertAsync(KeypairKind, user + "/" + name, Project(r), keypair)) throw ApiError.Conflict($"Key pair '{name}' already exists.");
        var view = KeypairView(r, keypair, detail: false);
        view["user_id"] = user;
        if (privateKey is not null) view["private_key"] = privateKey;
        await ApiResponses.WriteJsonAsync(r.Context, AtLeast(r, 2) ? 201 : 200, new JsonObject { ["keypair"] = view });
    }

    /// <summary>The MD5 fingerprint of an OpenSSH public key line ("aa:bb:..."), or null when it is not one.</summary>
    internal static string? Fingerprint(string line)
    {
        var parts = line.Split(' ', 3, StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length < 2 || !KeyTypes.Contains(parts[0])) return null;
        byte[] blob;
        try
        {
            blob = Convert.FromBase64String(parts[1]);
        }
        catch (FormatException)
        {
            return null;
        }
        // The blob starts with its own type as an SSH string; a key whose blob says otherwise is not a key.
        if (blob.Length < 4) return null;
        var length = BinaryPrimitives.ReadUInt32BigEndian(blob);
        if (length != parts[0].Length || blob.Length < 4 + length + 4 || Encoding.ASCII.GetString(blob, 4, (int)length) != parts[0]) return null;
        var hex = Convert.ToHexStringLower(MD5.HashData(blob));
        return string.Join(':', Enumerable.Range(0, hex.Length / 2).Select(i => hex.Substring(i * 2, 2)));
    }

    /// <summary>A new RSA 2048 key: its OpenSSH public line and its PEM private key.</summary>
    private static (string PublicKey, string PrivateKey) GenerateKeypair()
    {
        using var rsa = RSA.Create(2048);
        var parameters = rsa.ExportParameters(includePrivateParameters: false);
        var blob = new List<byte>();
        void Put(byte[] data)
        {
            var length = new byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(length, (uint)data.Length);
            blob.AddRange(length);
            blob.AddRange(data);
        }
        // mpints are two's complement: a leading 0 keeps a high bit from reading as a sign.
        byte[] Mpint(byte[] value) => value[0] >= 0x80 ? [0, .. value] : value;
        Put(Encoding.ASCII.GetBytes("ssh-rsa"));
        Put(Mpint(parameters.Exponent!));
        Put(Mpint(parameters.Modulus!));
        return ($"ssh-rsa {Convert.ToBase64String(blob.ToArray())} Generated-by-Nova", rsa.ExportRSAPrivateKeyPem() + "\n");
    }
}
