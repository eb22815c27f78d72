using System.Net;
using Microsoft.Extensions.DependencyInjection;
using StorageCloud.Auth;
using StorageCloud.Auth.Store;
using StorageCloud.Auth.Tokens;
using StorageCloud.Service.Sql;

namespace StorageCloud.Proxy.Tests.Auth;

/// <summary>A clock the tests move by hand.</summary>
internal sealed class TestClock : TimeProvider
{
    private DateTimeOffset _now = DateTimeOffset.UtcNow;

    public override DateTimeOffset GetUtcNow() => _now;

    public void Advance(TimeSpan by) => _now += by;
}

/// <summary>
/// Identity tokens in the proxy (keystoneauth semantics) on a real cluster: operator roles own AUTH_&lt;project&gt;,
/// readers only read, other projects get 403, ACLs name project:user, the reseller admin role reaches every account,
/// and revoked, expired or unscoped tokens get 401, while tempauth keeps working beside it.
/// </summary>
public sealed class KeystoneAuthTests : IAsyncLifetime
{
    private readonly TestClock _clock = new();
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "sc-ks-" + Guid.NewGuid().ToString("N")[..12]);
    private ClusterHost _host = null!;
    private IdentityStore _store = null!;
    private TokenCodec _codec = null!;
    private Dictionary<string, string> _roles = null!;

    public async Task InitializeAsync()
    {
        var options = new AuthOptions
        {
            ConnectionString = SqlDatabase.SqliteFile(Path.Combine(_dir, "identity.db")),
            KeyRepository = Path.Combine(_dir, "keys"),
        };
        // The proxy validates with the auth library alone: the rows and keys the identity service would write are made here.
        _host = await ClusterHost.StartAsync(configure: s => s.AddTokenValidation(options, _clock), keystoneAuth: true);
        _store = _host.Services.GetRequiredService<IdentityStore>();
        _codec = _host.Services.GetRequiredService<TokenCodec>();
        await _store.InsertAsync(new DomainRow { Id = "default", Name = "Default" });
        foreach (var role in new[] { "admin", "member", "reader", "ResellerAdmin" })
            await _store.InsertAsync(new RoleRow { Id = Guid.NewGuid().ToString("N"), Name = role });
        _roles = (await _store.ListAsync<RoleRow>()).ToDictionary(r => r.Name, r => r.Id);
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }

    private async Task<(string ProjectId, string UserId)> ProjectUserAsync(string project, string user, string role)
    {
        var projectRow = (await _store.ListAsync<ProjectRow>(("name", project))).FirstOrDefault();
        if (projectRow is null)
        {
            projectRow = new ProjectRow { Id = Guid.NewGuid().ToString("N"), Name = project, DomainId = "default" };
            await _store.InsertAsync(projectRow);
        }
        var userRow = new UserRow { Id = Guid.NewGuid().ToString("N"), Name = user, DomainId = "default" };
        await _store.InsertAsync(userRow);
        await _store.ExecuteAsync("INSERT INTO assignments (type, actor_id, target_id, role_id) VALUES ('UserProject', @u, @p, @r)",
            new { u = userRow.Id, p = projectRow.Id, r = _roles[role] });
        return (projectRow.Id, userRow.Id);
    }

    private string Token(string userId, string? projectId) => _codec.Encode(new TokenPayload(userId, AuthMethods.Password,
        projectId is null ? ScopeKind.Unscoped : ScopeKind.Project, projectId, _clock.GetUtcNow(), _clock.GetUtcNow().AddHours(1), [TokenCodec.NewAuditId()]));

    private async Task<HttpStatusCode> Status(HttpMethod method, string path, string? token, string? body = null, params (string, string)[] headers)
    {
        using var response = await _host.SendAsync(method, path, token, body is null ? null : new StringContent(body), headers);
        return response.StatusCode;
    }

    [Fact]
    public async Task Members_own_their_projects_account_and_readers_only_read_it()
    {
        var (project, alice) = await ProjectUserAsync("alpha", "alice", "member");
        var (_, rita) = await ProjectUserAsync("alpha", "rita", "reader");
        var owner = Token(alice, project);
        var reader = Token(rita, project);
        var account = $"/v1/AUTH_{project}";

        Assert.Equal(HttpStatusCode.Created, await Status(HttpMethod.Put, $"{account}/docs", owner, null, ("X-Container-Read", "somebody:else")));
        Assert.Equal(HttpStatusCode.Created, await Status(HttpMethod.Put, $"{account}/docs/a.txt", owner, "alpha"));
        Assert.Equal(HttpStatusCode.NoContent, await Status(HttpMethod.Post, account, owner, null, ("X-Account-Meta-Color", "blue")));
        using (var head = await _host.SendAsync(HttpMethod.Head, $"{account}/docs", owner))
            Assert.Equal("somebody:else", head.Headers.GetValues("X-Container-Read").Single());
        // An operator still may not create or delete the account itself.
        Assert.Equal(HttpStatusCode.Forbidden, await Status(HttpMethod.Delete, account, owner));

        Assert.Equal(HttpStatusCode.OK, await Status(HttpMethod.Get, account, reader));
        Assert.Equal(HttpStatusCode.OK, await Status(HttpMethod.Get, $"{account}/docs", reader));
        using (var get = await _host.SendAsync(HttpMethod.Get, $"{account}/docs/a.txt", reader))
        {
            Assert.Equal(HttpStatusCode.OK, get.StatusCode);
            Assert.Equal("alpha", await get.Content.ReadAsStringAsync());
        }
        using (var head = await _host.SendAsync(HttpMethod.Head, $"{account}/docs", reader))
            Assert.False(head.Headers.Contains("X-Container-Read"));
        Assert.Equal(HttpStatusCode.Forbidden, await Status(HttpMethod.Put, $"{account}/docs/b.txt", reader, "no"));
        Assert.Equal(HttpStatusCode.Forbidden, await Status(HttpMethod.Delete, $"{account}/docs/a.txt", reader));
        Assert.Equal(HttpStatusCode.Forbidden, await Status(HttpMethod.Post, account, reader, null, ("X-Account-Meta-Color", "red")));
        Assert.Equal(HttpStatusCode.Forbidden, await Status(HttpMethod.Put, $"{account}/other", reader));
    }

    [Fact]
    public async Task Other_projects_are_refused_unless_an_acl_names_them()
    {
        var (projectA, alice) = await ProjectUserAsync("alpha", "alice", "member");
        var (projectB, bob) = await ProjectUserAsync("beta", "bob", "member");
        var owner = Token(alice, projectA);
        var outsider = Token(bob, projectB);
        var account = $"/v1/AUTH_{projectA}";
        Assert.Equal(HttpStatusCode.Created, await Status(HttpMethod.Put, $"{account}/shared", owner));
        Assert.Equal(HttpStatusCode.Created, await Status(HttpMethod.Put, $"{account}/shared/a.txt", owner, "alpha"));

        Assert.Equal(HttpStatusCode.Forbidden, await Status(HttpMethod.Get, account, outsider));
        Assert.Equal(HttpStatusCode.Forbidden, await Status(HttpMethod.Get, $"{account}/shared", outsider));
        Assert.Equal(HttpStatusCode.Forbidden, await Status(HttpMethod.Get, $"{account}/shared/a.txt", outsider));
        Assert.Equal(HttpStatusCode.Forbidden, await Status(HttpMethod.Put, $"{account}/shared/b.txt", outsider, "b"));

        // By ids, then by names (both in the default domain), then any project for this user.
        Assert.Equal(HttpStatusCode.NoContent, await Status(HttpMethod.Post, $"{account}/shared", owner, null, ("X-Container-Read", $"{projectB}:{bob}")));
        Assert.Equal(HttpStatusCode.OK, await Status(HttpMethod.Get, $"{account}/shared/a.txt", outsider));
        Assert.Equal(HttpStatusCode.Forbidden, await Status(HttpMethod.Put, $"{account}/shared/b.txt", outsider, "b"));
        Assert.Equal(HttpStatusCode.NoContent, await Status(HttpMethod.Post, $"{account}/shared", owner, null, ("X-Container-Write", "beta:bob")));
        Assert.Equal(HttpStatusCode.Created, await Status(HttpMethod.Put, $"{account}/shared/b.txt", outsider, "b"));
        Assert.Equal(HttpStatusCode.NoContent, await Status(HttpMethod.Post, $"{account}/shared", owner, null, ("X-Container-Read", $"*:{bob}")));
        Assert.Equal(HttpStatusCode.OK, await Status(HttpMethod.Get, $"{account}/shared/b.txt", outsider));
        Assert.Equal(HttpStatusCode.Forbidden, await Status(HttpMethod.Get, account, outsider));
    }

    [Fact]
    public async Task The_reseller_admin_role_reaches_every_account()
    {
        var (projectA, alice) = await ProjectUserAsync("alpha", "alice", "member");
        var (ops, olga) = await ProjectUserAsync("ops", "olga", "ResellerAdmin");
        Assert.Equal(HttpStatusCode.Created, await Status(HttpMethod.Put, $"/v1/AUTH_{projectA}/c", Token(alice, projectA)));
        var admin = Token(olga, ops);
        Assert.Equal(HttpStatusCode.OK, await Status(HttpMethod.Get, $"/v1/AUTH_{projectA}", admin));
        Assert.Equal(HttpStatusCode.Created, await Status(HttpMethod.Put, $"/v1/AUTH_{projectA}/c/by-admin", admin, "x"));
    }

    [Fact]
    public async Task Revoked_expired_unscoped_and_forged_tokens_get_401_and_tempauth_still_works()
    {
        var (project, alice) = await ProjectUserAsync("alpha", "alice", "member");
        var account = $"/v1/AUTH_{project}";
        var token = Token(alice, project);
        // A HEAD of an account not made yet answers 200, as Swift's does.
        Assert.Equal(HttpStatusCode.OK, await Status(HttpMethod.Head, account, token));

        var revoked = Token(alice, project);
        var payload = _codec.Decode(revoked)!;
        await _store.InsertAsync(new RevocationRow
        {
            AuditId = payload.AuditIds[^1], IssuedBefore = TokenCodec.Micros(_clock.GetUtcNow()) + 1, ExpiresAt = payload.ExpiresAt.ToUnixTimeSeconds(),
        });
        Assert.Equal(HttpStatusCode.Unauthorized, await Status(HttpMethod.Head, account, revoked));
        Assert.Equal(HttpStatusCode.Unauthorized, await Status(HttpMethod.Head, account, Token(alice, null)));
        Assert.Equal(HttpStatusCode.Unauthorized, await Status(HttpMethod.Head, account, token[..^4] + "AAAA"));

        var (tempToken, storageUrl) = await _host.AuthAsync();
        Assert.Equal(HttpStatusCode.OK, await Status(HttpMethod.Head, new Uri(storageUrl).AbsolutePath, tempToken));

        _clock.Advance(TimeSpan.FromHours(2));
        Assert.Equal(HttpStatusCode.Unauthorized, await Status(HttpMethod.Head, account, token));
    }
}
