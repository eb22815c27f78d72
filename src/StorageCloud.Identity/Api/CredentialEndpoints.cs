using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using StorageCloud.Auth.Policy;
using StorageCloud.Identity.Auth;
using StorageCloud.Identity.Policy;
using StorageCloud.Auth.Store;
using StorageCloud.Auth.Tokens;
using StorageCloud.Identity.Tokens;
using StorageCloud.Service.Api;

namespace StorageCloud.Identity.Api;

// /v3/credentials, the OS-EC2 extension (access/secret pairs for S3) and application credentials.
public sealed partial class IdentityApi
{
    private void MapCredentials()
    {
        Map("GET", "/v3/credentials", async r =>
        {
            var caller = await r.CallerAsync();
            var user = r.Query("user_id");
            // Anyone but an admin sees only their own credentials.
            if (!caller.HasRole("admin")) user = caller.User.Id;
            await r.EnforceAsync("list_credentials", new PolicyTarget(UserId: user));
            var rows = await Store.ListAsync<CredentialRow>(("user_id", user), ("type", r.Query("type")));
            await WriteAsync(r.Context, 200, Views.List("credentials", $"{r.BaseUrl}/credentials", rows.Select(c => Views.Credential(c, r.BaseUrl))));
        });
        Map("POST", "/v3/credentials", async r =>
        {
            var given = JsonBody.Object(await JsonBody.ReadAsync(r.Context), "credential", "request body");
            var row = new CredentialRow
            {
                UserId = JsonBody.String(given, "user_id", "credential"),
                ProjectId = JsonBody.OptionalString(given, "project_id", "credential"),
                Type = JsonBody.Name(JsonBody.String(given, "type", "credential"), "type"),
                Blob = JsonBody.String(given, "blob", "credential"),
            };
            await r.EnforceAsync("create_credential", new PolicyTarget(UserId: row.UserId));
            if (await Store.GetAsync<UserRow>(row.UserId) is null) throw IdentityError.NotFound("user", row.UserId);
            row.Id = NewId();
            if (row.Type == "ec2")
            {
                if (row.ProjectId is null) throw IdentityError.Invalid("Expecting to find project_id in credential.");
                row.AccessKey = Ec2Access(row.Blob);
                row.Id = Ec2CredentialId(row.AccessKey);
            }
            if (!await Store.InsertAsync(row)) throw IdentityError.Conflict("credential", $"Duplicate ID, {row.Id}");
            await WriteAsync(r.Context, 201, new JsonObject { ["credential"] = Views.Credential(row, r.BaseUrl) });
        });
        Map("GET", "/v3/credentials/{id}", async r =>
        {
            var row = await OwnCredentialAsync(r, "get_credential", r.Args[0]);
            await WriteAsync(r.Context, 200, new JsonObject { ["credential"] = Views.Credential(row, r.BaseUrl) });
        });
        Map("PATCH", "/v3/credentials/{id}", async r =>
        {
            var row = await OwnCredentialAsync(r, "update_credential", r.Args[0]);
            var given = JsonBody.Object(await JsonBody.ReadAsync(r.Context), "credential", "request body");
            if (JsonBody.OptionalString(given, "blob", "credential") is { } blob)
            {
                // Keystone lets the access key change while the id (the old key's hash) stays; S3 finds a key by that hash
                // and then requires the row's key to match, so such a credential signs nothing under either key.
                if (row.Type == "ec2") row.AccessKey = Ec2Access(blob);
                row.Blob = blob;
            }
            if (JsonBody.OptionalString(given, "project_id", "credential") is { } project) row.ProjectId = project;
            await Store.UpdateAsync(row);
            await WriteAsync(r.Context, 200, new JsonObject { ["credential"] = Views.Credential(row, r.BaseUrl) });
        });
        Map("DELETE", "/v3/credentials/{id}", async r =>
        {
            var row = await OwnCredentialAsync(r, "delete_credential", r.Args[0]);
            await Store.DeleteAsync<CredentialRow>(row.Id);
            await NoContent(r.Context);
        });

        Map("GET", "/v3/users/{id}/credentials/OS-EC2", async r =>
        {
            await r.EnforceAsync("ec2_list_credentials", new PolicyTarget(UserId: r.Args[0]));
            var rows = await Store.ListAsync<CredentialRow>(("user_id", r.Args[0]), ("type", "ec2"));
            await WriteAsync(r.Context, 200, Views.List("credentials", $"{r.BaseUrl}/users/{r.Args[0]}/credentials/OS-EC2", rows.Select(c => Views.Ec2(c, r.BaseUrl))));
        });
        Map("POST", "/v3/users/{id}/credentials/OS-EC2", async r =>
        {
            await r.EnforceAsync("ec2_create_credential", new PolicyTarget(UserId: r.Args[0]));
            if (await Store.GetAsync<UserRow>(r.Args[0]) is null) throw IdentityError.NotFound("user", r.Args[0]);
            var given = await JsonBody.ReadAsync(r.Context);
            var project = JsonBody.String(given, "tenant_id", "request body");
            if (await Store.GetAsync<ProjectRow>(project) is null) throw IdentityError.NotFound("project", project);
            // Keys only for a project the user may use: S3 requests act with the user's roles there.
            if ((await Tokens.EffectiveRolesAsync(r.Args[0], "Project", project)).Count == 0)
                throw IdentityError.Forbidden("ec2_create_credential");
            var access = NewId();
            var blob = new JsonObject { ["access"] = access, ["secret"] = NewId(), ["trust_id"] = null };
            var row = new CredentialRow
            {
                Id = Ec2CredentialId(access), UserId = r.Args[0], ProjectId = project, Type = "ec2", Blob = Views.Compact(blob), AccessKey = access,
            };
            await Store.InsertAsync(row);
            await WriteAsync(r.Context, 201, new JsonObject { ["credential"] = Views.Ec2(row, r.BaseUrl) });
        });
        Map("GET", "/v3/users/{id}/credentials/OS-EC2/{access}", async r =>
        {
            await r.EnforceAsync("ec2_get_credential", new PolicyTarget(UserId: r.Args[0]));
            var row = await Ec2RowAsync(r.Args[0], r.Args[1]);
            await WriteAsync(r.Context, 200, new JsonObject { ["credential"] = Views.Ec2(row, r.BaseUrl) });
        });
        Map("DELETE", "/v3/users/{id}/credentials/OS-EC2/{access}", async r =>
        {
            await r.EnforceAsync("ec2_delete_credential", new PolicyTarget(UserId: r.Args[0]));
            var row = await Ec2RowAsync(r.Args[0], r.Args[1]);
            await Store.DeleteAsync<CredentialRow>(row.Id);
            await NoContent(r.Context);
        });

        Map("GET", "/v3/users/{id}/application_credentials", async r =>
        {
            await r.EnforceAsync("list_application_credentials", new PolicyTarget(UserId: r.Args[0]));
            var rows = await Store.ListAsync<AppCredentialRow>(("user_id", r.Args[0]), ("name", r.Query("name")));
            var views = new List<JsonNode>();
            foreach (var row in rows) views.Add(Views.AppCredential(row, r.BaseUrl, await AppCredentialRolesAsync(row)));
            await WriteAsync(r.Context, 200, Views.List("application_credentials", $"{r.BaseUrl}/users/{r.Args[0]}/application_credentials", views));
        });
        Map("POST", "/v3/users/{id}/application_credentials", CreateAppCredentialAsync);
        Map("GET", "/v3/users/{id}/application_credentials/{cred}", async r =>
        {
            await r.EnforceAsync("get_application_credential", new PolicyTarget(UserId: r.Args[0]));
            var row = await Store.GetAsync<AppCredentialRow>(r.Args[1]);
            if (row is null || row.UserId != r.Args[0]) throw IdentityError.NotFound("application credential", r.Args[1]);
            await WriteAsync(r.Context, 200, new JsonObject { ["application_credential"] = Views.AppCredential(row, r.BaseUrl, await AppCredentialRolesAsync(row)) });
        });
        Map("DELETE", "/v3/users/{id}/application_credentials/{cred}", async r =>
        {
            await r.EnforceAsync("delete_application_credential", new PolicyTarget(UserId: r.Args[0]));
            var row = await Store.GetAsync<AppCredentialRow>(r.Args[1]);
            if (row is null || row.UserId != r.Args[0]) throw IdentityError.NotFound("application credential", r.Args[1]);
            await Store.DeleteAsync<AppCredentialRow>(row.Id);
            await NoContent(r.Context);
        });
    }

    private async Task CreateAppCredentialAsync(IdentityRequest r)
    {
        await r.EnforceAsync("create_application_credential", new PolicyTarget(UserId: r.Args[0]));
        var caller = await r.CallerAsync();
        if (caller.Project is null) throw IdentityError.Invalid("Application credentials need a project-scoped token.");
        if (caller.Payload.ApplicationCredentialId is not null) throw IdentityError.Forbidden("create_application_credential");
        var given = JsonBody.Object(await JsonBody.ReadAsync(r.Context), "application_credential", "request body");
        var secret = JsonBody.OptionalString(given, "secret", "application_credential") ?? Convert.ToBase64String(RandomNumberGenerator.GetBytes(48)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var roles = new List<RoleRow>();
        if (given["roles"] is JsonArray requested)
        {
            foreach (var item in requested)
            {
                if (item is not JsonObject o) throw IdentityError.Invalid("Invalid input for field 'roles': expected objects.");
                var id = JsonBody.OptionalString(o, "id", "role");
                var role = id is not null ? caller.Roles.FirstOrDefault(x => x.Id == id) : caller.Roles.FirstOrDefault(x => x.Name == JsonBody.OptionalString(o, "name", "role"));
                // Only roles the caller holds on the project can be delegated.
                if (role is null) throw IdentityError.Forbidden("create_application_credential");
                roles.Add(new RoleRow { Id = role.Id, Name = role.Name });
            }
        }
        else roles.AddRange(caller.Roles.Select(x => new RoleRow { Id = x.Id, Name = x.Name }));
        long? expires = null;
        if (JsonBody.OptionalString(given, "expires_at", "application_credential") is { } at)
        {
            if (!DateTimeOffset.TryParse(at, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var when))
                throw IdentityError.Invalid("Invalid input for field 'expires_at': not a timestamp.");
            expires = TokenCodec.Micros(when);
        }
        var row = new AppCredentialRow
        {
            Id = NewId(), Name = JsonBody.Name(JsonBody.String(given, "name", "application_credential"), "name"), UserId = caller.User.Id,
            ProjectId = caller.Project.Id, SecretHash = HashPassword(secret),
            Description = JsonBody.OptionalString(given, "description", "application_credential") ?? "", ExpiresAt = expires,
            Unrestricted = JsonBody.OptionalBool(given, "unrestricted", "application_credential") == true ? 1 : 0,
            Roles = JsonSerializer.Serialize(roles.Select(x => x.Id).ToArray()),
        };
        if (r.Args[0] != caller.User.Id) throw IdentityError.Forbidden("create_application_credential");
        if (!await Store.InsertAsync(row)) throw IdentityError.Conflict("application_credential", $"Duplicate name, {row.Name}");
        await WriteAsync(r.Context, 201, new JsonObject { ["application_credential"] = Views.AppCredential(row, r.BaseUrl, roles, secret) });
    }

    private async Task<List<RoleRow>> AppCredentialRolesAsync(AppCredentialRow row)
    {
        var list = new List<RoleRow>();
        foreach (var id in JsonSerializer.Deserialize<string[]>(row.Roles) ?? [])
            if (await Store.GetAsync<RoleRow>(id) is { } role) list.Add(role);
        return list;
    }

    private async Task<CredentialRow> OwnCredentialAsync(IdentityRequest r, string action, string id)
    {
        var row = await Store.GetAsync<CredentialRow>(id);
        var caller = await r.CallerAsync();
        // Someone else's credential is "not found" to a non-admin, so ids cannot be probed.
        if (row is null || (row.UserId != caller.User.Id && !caller.HasRole("admin"))) throw IdentityError.NotFound("credential", id);
        await r.EnforceAsync(action, new PolicyTarget(UserId: row.UserId));
        return row;
    }

    private async Task<CredentialRow> Ec2RowAsync(string userId, string access)
    {
        var row = await Store.GetAsync<CredentialRow>(Ec2CredentialId(access));
        if (row is null || row.UserId != userId || row.Type != "ec2") throw IdentityError.NotFound("credential", access);
        return row;
    }

    private static string Ec2Access(string blob)
    {
        try
        {
            if (JsonNode.Parse(blob) is JsonObject o && o["access"] is JsonValue v && v.TryGetValue<string>(out var access) && access.Length > 0
                && o["secret"] is JsonValue s && s.TryGetValue<string>(out var secret) && secret.Length > 0)
                return access;
        }
        catch (JsonException)
        {
        }
        throw IdentityError.Invalid("Invalid blob in credential: an ec2 credential's blob is JSON with access and secret.");
    }

    /// <summary>Keystone's id for an EC2 credential: the SHA-256 of its access key, in hex.</summary>
    public static string Ec2CredentialId(string access) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(access)));
}
