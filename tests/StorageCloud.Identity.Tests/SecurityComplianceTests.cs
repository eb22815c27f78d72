using System.Net;
using System.Text.Json.Nodes;

namespace StorageCloud.Identity.Tests;

/// <summary>Keystone's security-compliance options: account lockout after failed logins, and password history.</summary>
public sealed class SecurityComplianceTests
{
    private static JsonObject PasswordChange(string original, string password) =>
        new() { ["user"] = new JsonObject { ["original_password"] = original, ["password"] = password } };

    [Fact]
    public async Task A_user_is_locked_out_after_failed_logins_until_the_lockout_ends()
    {
        await using var host = await IdentityHost.StartAsync(configure: o => o with { LockoutFailureAttempts = 2, LockoutDuration = TimeSpan.FromSeconds(30) });
        var admin = await host.AdminTokenAsync();
        await host.ProjectWithUserAsync(admin, "p", "lou", "loupw");
        await host.LoginAsync("lou", "loupw");
        for (var i = 0; i < 2; i++)
            Assert.Equal(HttpStatusCode.Unauthorized, (await host.JsonAsync(HttpMethod.Post, "/v3/auth/tokens", null, IdentityHost.PasswordAuth("lou", "wrong"))).Status);
        // Locked: the right password is refused too, until the lockout has run its time.
        Assert.Equal(HttpStatusCode.Unauthorized, (await host.JsonAsync(HttpMethod.Post, "/v3/auth/tokens", null, IdentityHost.PasswordAuth("lou", "loupw"))).Status);
        host.Clock.Advance(TimeSpan.FromSeconds(31));
        await host.LoginAsync("lou", "loupw");
        // A success clears the count: one more failure does not lock again.
        Assert.Equal(HttpStatusCode.Unauthorized, (await host.JsonAsync(HttpMethod.Post, "/v3/auth/tokens", null, IdentityHost.PasswordAuth("lou", "wrong"))).Status);
        await host.LoginAsync("lou", "loupw");
    }

    [Fact]
    public async Task Self_service_changes_may_not_reuse_recent_passwords_but_admin_resets_may()
    {
        await using var host = await IdentityHost.StartAsync(configure: o => o with { UniqueLastPasswordCount = 2 });
        var admin = await host.AdminTokenAsync();
        var (_, userId) = await host.ProjectWithUserAsync(admin, "p", "pat", "first");
        var change = $"/v3/users/{userId}/password";
        Assert.Equal(HttpStatusCode.NoContent, (await host.JsonAsync(HttpMethod.Post, change, null, PasswordChange("first", "second"))).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await host.JsonAsync(HttpMethod.Post, change, null, PasswordChange("second", "second"))).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await host.JsonAsync(HttpMethod.Post, change, null, PasswordChange("second", "first"))).Status);
        Assert.Equal(HttpStatusCode.NoContent, (await host.JsonAsync(HttpMethod.Post, change, null, PasswordChange("second", "third"))).Status);
        // Only the latest two are remembered.
        Assert.Equal(HttpStatusCode.NoContent, (await host.JsonAsync(HttpMethod.Post, change, null, PasswordChange("third", "first"))).Status);
        Assert.Equal(HttpStatusCode.OK, (await host.JsonAsync(HttpMethod.Patch, $"/v3/users/{userId}", admin,
            new JsonObject { ["user"] = new JsonObject { ["password"] = "first" } })).Status);
    }
}
