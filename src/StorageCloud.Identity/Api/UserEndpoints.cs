using System.Text.Json.Nodes;
using StorageCloud.Auth.Policy;
using StorageCloud.Identity.Auth;
using StorageCloud.Identity.Policy;
using StorageCloud.Auth.Store;
using StorageCloud.Service.Api;

namespace StorageCloud.Identity.Api;

// /v3/users and /v3/groups, with group membership.
public sealed partial class IdentityApi
{
    private static readonly string[] FixedUserFields = ["id", "name", "domain_id", "password", "enabled", "default_project_id", "links", "options", "password_expires_at"];

    private void MapUsers()
    {
        Map("GET", "/v3/users", async r =>
        {
            await r.EnforceAsync("list_users");
            var rows = await Store.ListAsync<UserRow>(("name", r.Query("name")), ("domain_id", r.Query("domain_id")), ("enabled", EnabledFilter(r)));
            await WriteAsync(r.Context, 200, Views.List("users", $"{r.BaseUrl}/users", rows.Select(u => Views.User(u, r.BaseUrl))));
        });
        Map("POST", "/v3/users", async r =>
        {
            await r.EnforceAsync("create_user");
            var given = JsonBody.Object(await JsonBody.ReadAsync(r.Context), "user", "request body");
            var row = new UserRow { Id = NewId() };
            row.DomainId = JsonBody.OptionalString(given, "domain_id", "user") ?? (await r.CallerAsync()).Project?.DomainId ?? "default";
            if (await Store.GetAsync<DomainRow>(row.DomainId) is null) throw IdentityError.NotFound("domain", row.DomainId);
            await ApplyUserAsync(row, given, creating: true);
            if (!await Store.InsertAsync(row)) throw IdentityError.Conflict("user", $"Duplicate entry found with name {row.Name} at domain ID {row.DomainId}");
            await Compliance.RememberAsync(row.Id, row.PasswordHash);
            await WriteAsync(r.Context, 201, new JsonObject { ["user"] = Views.User(row, r.BaseUrl) });
        });
        Map("GET", "/v3/users/{id}", async r =>
        {
            await r.EnforceAsync("get_user", new PolicyTarget(UserId: r.Args[0]));
            var row = await Store.GetAsync<UserRow>(r.Args[0]) ?? throw IdentityError.NotFound("user", r.Args[0]);
            await WriteAsync(r.Context, 200, new JsonObject { ["user"] = Views.User(row, r.BaseUrl) });
        });
        Map("PATCH", "/v3/users/{id}", async r =>
        {
            await r.EnforceAsync("update_user");
            var row = await Store.GetAsync<UserRow>(r.Args[0]) ?? throw IdentityError.NotFound("user", r.Args[0]);
            var (oldHash, wasEnabled) = (row.PasswordHash, row.Enabled != 0);
            await ApplyUserAsync(row, JsonBody.Object(await JsonBody.ReadAsync(r.Context), "user", "request body"), creating: false);
            if (!await Store.UpdateAsync(row)) throw IdentityError.Conflict("user", $"Duplicate entry found with name {row.Name} at domain ID {row.DomainId}");
            // A new password or a disabled account ends every session the old state allowed.
            if (row.PasswordHash != oldHash || (wasEnabled && row.Enabled == 0)) await Tokens.RevokeUserAsync(row.Id);
            // An admin's reset is not held to the history (as in Keystone) but joins it.
            if (row.PasswordHash != oldHash) await Compliance.RememberAsync(row.Id, row.PasswordHash);
            await WriteAsync(r.Context, 200, new JsonObject { ["user"] = Views.User(row, r.BaseUrl) });
        });
        Map("DELETE", "/v3/users/{id}", async r =>
        {
            await r.EnforceAsync("delete_user");
            if (await Store.GetAsync<UserRow>(r.Args[0]) is null) throw IdentityError.NotFound("user", r.Args[0]);
            await DeleteUserRowsAsync(r.Args[0]);
            await Tokens.RevokeUserAsync(r.Args[0]);
            await NoContent(r.Context);
        });
        Map("POST", "/v3/users/{id}/password", async r =>
        {
            // As in Keystone, no token is asked for: the original password is the proof (a user whose password has
            // expired has no other), so failures count against the client's address like failed logins.
            var address = AddressOf(r.Context);
            if (Limiter.RetryAfterSeconds(address) is > 0 and var wait)
            {
                r.Context.Response.Headers.RetryAfter = wait.ToString(System.Globalization.CultureInfo.InvariantCulture);
                throw new IdentityError(429, "Too many failed authentication attempts from this address; try again later.");
            }
            var given = JsonBody.Object(await JsonBody.ReadAsync(r.Context), "user", "request body");
            var original = JsonBody.String(given, "original_password", "user");
            var password = JsonBody.String(given, "password", "user");
            var row = await Store.GetAsync<UserRow>(r.Args[0]);
            // An unknown user gets the same 401 as a wrong password.
            if (row is null)
            {
                Limiter.Failed(address);
                throw IdentityError.Unauthorized();
            }
            if (await Compliance.IsLockedOutAsync(row)) throw IdentityError.Unauthorized();
            if (!PasswordHasher.Verify(original, row.PasswordHash))
            {
                Limiter.Failed(address);
                await Compliance.FailedAsync(row);
                throw IdentityError.Unauthorized();
            }
            await Compliance.SucceededAsync(row);
            await Compliance.EnsureNotReusedAsync(row, password);
            row.PasswordHash = HashPassword(password);
            await Store.UpdateAsync(row);
            await Compliance.RememberAsync(row.Id, row.PasswordHash);
            await Tokens.RevokeUserAsync(row.Id);
            await NoContent(r.Context);
        });

        Map("GET", "/v3/groups", async r =>
        {
            await r.EnforceAsync("list_groups");
            var rows = await Store.ListAsync<GroupRow>(("name", r.Query("name")), ("domain_id", r.Query("domain_id")));
            await WriteAsync(r.Context, 200, Views.List("groups", $"{r.BaseUrl}/groups", rows.Select(g => Views.Group(g, r.BaseUrl))));
        });
        Map("POST", "/v3/groups", async r =>
        {
            await r.EnforceAsync("create_group");
            var given = JsonBody.Object(await JsonBody.ReadAsync(r.Context), "group", "request body");
            var row = new GroupRow { Id = NewId(), Name = JsonBody.Name(JsonBody.String(given, "name", "group"), "name") };
            row.DomainId = JsonBody.OptionalString(given, "domain_id", "group") ?? (await r.CallerAsync()).Project?.DomainId ?? "default";
            if (await Store.GetAsync<DomainRow>(row.DomainId) is null) throw IdentityError.NotFound("domain", row.DomainId);
            row.Description = JsonBody.OptionalString(given, "description", "group") ?? "";
            if (!await Store.InsertAsync(row)) throw IdentityError.Conflict("group", $"Duplicate entry found with name {row.Name} at domain ID {row.DomainId}");
            await WriteAsync(r.Context, 201, new JsonObject { ["group"] = Views.Group(row, r.BaseUrl) });
        });
        Map("GET", "/v3/groups/{id}", async r =>
        {
            await r.EnforceAsync("get_group");
            var row = await Store.GetAsync<GroupRow>(r.Args[0]) ?? throw IdentityError.NotFound("group", r.Args[0]);
            await WriteAsync(r.Context, 200, new JsonObject { ["group"] = Views.Group(row, r.BaseUrl) });
        });
        Map("PATCH", "/v3/groups/{id}", async r =>
        {
            await r.EnforceAsync("update_group");
            var row = await Store.GetAsync<GroupRow>(r.Args[0]) ?? throw IdentityError.NotFound("group", r.Args[0]);
            var given = JsonBody.Object(await JsonBody.ReadAsync(r.Context), "group", "request body");
            if (JsonBody.OptionalString(given, "name", "group") is { } name) row.Name = JsonBody.Name(name, "name");
            if (JsonBody.OptionalString(given, "description", "group") is { } description) row.Description = description;
            if (!await Store.UpdateAsync(row)) throw IdentityError.Conflict("group", $"Duplicate entry found with name {row.Name} at domain ID {row.DomainId}");
            await WriteAsync(r.Context, 200, new JsonObject { ["group"] = Views.Group(row, r.BaseUrl) });
        });
        Map("DELETE", "/v3/groups/{id}", async r =>
        {
            await r.EnforceAsync("delete_group");
            if (await Store.GetAsync<GroupRow>(r.Args[0]) is null) throw IdentityError.NotFound("group", r.Args[0]);
            await DeleteGroupRowsAsync(r.Args[0]);
            await NoContent(r.Context);
        });
        Map("GET", "/v3/groups/{id}/users", async r =>
        {
            await r.EnforceAsync("list_users_in_group");
            if (await Store.GetAsync<GroupRow>(r.Args[0]) is null) throw IdentityError.NotFound("group", r.Args[0]);
            var rows = await Store.QueryAsync<UserRow>("SELECT * FROM users WHERE id IN (SELECT user_id FROM group_members WHERE group_id = @g) ORDER BY id", new { g = r.Args[0] });
            await WriteAsync(r.Context, 200, Views.List("users", $"{r.BaseUrl}/groups/{r.Args[0]}/users", rows.Select(u => Views.User(u, r.BaseUrl))));
        });
        Map("PUT", "/v3/groups/{id}/users/{user}", async r =>
        {
            await r.EnforceAsync("add_user_to_group");
            await GroupAndUserAsync(r);
            await Store.ExecuteAsync("INSERT INTO group_members (group_id, user_id) VALUES (@g, @u) ON CONFLICT DO NOTHING", new { g = r.Args[0], u = r.Args[1] });
            await NoContent(r.Context);
        });
        Map("GET", "/v3/groups/{id}/users/{user}", async r =>
        {
            await r.EnforceAsync("check_user_in_group");
            await GroupAndUserAsync(r);
            var found = await Store.QueryAsync<string>("SELECT user_id FROM group_members WHERE group_id = @g AND user_id = @u", new { g = r.Args[0], u = r.Args[1] });
            if (found.Count == 0) throw new IdentityError(404, $"User {r.Args[1]} is not a member of group {r.Args[0]}.");
            await NoContent(r.Context);
        });
        Map("DELETE", "/v3/groups/{id}/users/{user}", async r =>
        {
            await r.EnforceAsync("remove_user_from_group");
            await GroupAndUserAsync(r);
            if (await Store.ExecuteAsync("DELETE FROM group_members WHERE group_id = @g AND user_id = @u", new { g = r.Args[0], u = r.Args[1] }) == 0)
                throw new IdentityError(404, $"User {r.Args[1]} is not a member of group {r.Args[0]}.");
            await NoContent(r.Context);
        });
        Map("GET", "/v3/users/{id}/groups", async r =>
        {
            await r.EnforceAsync("list_groups_for_user", new PolicyTarget(UserId: r.Args[0]));
            var rows = await Store.QueryAsync<GroupRow>("SELECT * FROM user_groups WHERE id IN (SELECT group_id FROM group_members WHERE user_id = @u) ORDER BY id", new { u = r.Args[0] });
            await WriteAsync(r.Context, 200, Views.List("groups", $"{r.BaseUrl}/users/{r.Args[0]}/groups", rows.Select(g => Views.Group(g, r.BaseUrl))));
        });
    }

    private async Task GroupAndUserAsync(IdentityRequest r)
    {
        if (await Store.GetAsync<GroupRow>(r.Args[0]) is null) throw IdentityError.NotFound("group", r.Args[0]);
        if (await Store.GetAsync<UserRow>(r.Args[1]) is null) throw IdentityError.NotFound("user", r.Args[1]);
    }

    private async Task ApplyUserAsync(UserRow row, JsonObject given, bool creating)
    {
        if (JsonBody.OptionalString(given, "name", "user") is { } name) row.Name = JsonBody.Name(name, "name");
        else if (creating) throw IdentityError.Invalid("Expecting to find name in user.");
        if (!creating && given["domain_id"] is not null && JsonBody.OptionalString(given, "domain_id", "user") != row.DomainId)
            throw IdentityError.Invalid("Cannot change the domain_id of a user.");
        if (given.ContainsKey("password"))
            row.PasswordHash = JsonBody.OptionalString(given, "password", "user") is { } password ? HashPassword(password) : null;
        if (JsonBody.OptionalBool(given, "enabled", "user") is { } enabled) row.Enabled = enabled ? 1 : 0;
        if (given.ContainsKey("default_project_id"))
        {
            row.DefaultProjectId = JsonBody.OptionalString(given, "default_project_id", "user");
            if (row.DefaultProjectId is not null && await Store.GetAsync<ProjectRow>(row.DefaultProjectId) is null)
                throw IdentityError.NotFound("project", row.DefaultProjectId);
        }
        var extra = JsonNode.Parse(row.Extra) as JsonObject ?? new JsonObject();
        foreach (var (key, value) in given)
        {
            if (Array.IndexOf(FixedUserFields, key) >= 0) continue;
            extra[key] = value?.DeepClone();
        }
        var text = Views.Compact(extra);
        if (text.Length > 65_536) throw IdentityError.Invalid("The user's extra attributes are too large.");
        row.Extra = text;
    }

    private string HashPassword(string password)
    {
        if (password.Length > PasswordHasher.MaxPasswordLength) throw IdentityError.Invalid("Invalid input for field 'password': too long.");
        return PasswordHasher.Hash(password, Options.PasswordHashRounds);
    }

    private PasswordCompliance? _compliance;

    private PasswordCompliance Compliance => _compliance ??= new(Store, Options, Tokens);

    private async Task DeleteUserRowsAsync(string userId)
    {
        await Compliance.ForgetAsync(userId);
        await Store.ExecuteAsync("DELETE FROM assignments WHERE actor_id = @id AND type LIKE 'User%'", new { id = userId });
        await Store.ExecuteAsync("DELETE FROM group_members WHERE user_id = @id", new { id = userId });
        await Store.ExecuteAsync("DELETE FROM credentials WHERE user_id = @id", new { id = userId });
        await Store.ExecuteAsync("DELETE FROM application_credentials WHERE user_id = @id", new { id = userId });
        await Store.ExecuteAsync("DELETE FROM trusts WHERE trustor_user_id = @id OR trustee_user_id = @id", new { id = userId });
        await Store.DeleteAsync<UserRow>(userId);
    }

    private async Task DeleteGroupRowsAsync(string groupId)
    {
        await Store.ExecuteAsync("DELETE FROM assignments WHERE actor_id = @id AND type LIKE 'Group%'", new { id = groupId });
        await Store.ExecuteAsync("DELETE FROM group_members WHERE group_id = @id", new { id = groupId });
        await Store.DeleteAsync<GroupRow>(groupId);
    }
}
