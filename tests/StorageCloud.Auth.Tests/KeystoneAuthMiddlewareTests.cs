using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using StorageCloud.Auth.Policy;
using StorageCloud.Auth.Store;
using StorageCloud.Auth.Tokens;
using StorageCloud.Service.Api;
using StorageCloud.Service.Sql;
using StorageCloud.Tests;

namespace StorageCloud.Auth.Tests;

/// <summary>
/// keystonemiddleware's behaviour with local validation: rows and keys as the identity service writes them, tokens
/// sealed with those keys, and the middleware deciding from them alone.
/// </summary>
public sealed class KeystoneAuthMiddlewareTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sc-auth-").FullName;
    private readonly ManualClock _clock = new();
    private ServiceProvider _services = null!;
    private IdentityStore _store = null!;
    private TokenCodec _codec = null!;
    private string _project = "";
    private readonly Dictionary<string, string> _users = [];

    public async Task InitializeAsync()
    {
        var options = new AuthOptions { ConnectionString = SqlDatabase.SqliteFile(Path.Combine(_dir, "identity.db")), KeyRepository = Path.Combine(_dir, "keys") };
        _services = new ServiceCollection().AddTokenValidation(options, _clock).BuildServiceProvider();
        _store = _services.GetRequiredService<IdentityStore>();
        _codec = _services.GetRequiredService<TokenCodec>();
        await _store.InsertAsync(new DomainRow { Id = "default", Name = "Default" });
        _project = Guid.NewGuid().ToString("N");
        await _store.InsertAsync(new ProjectRow { Id = _project, Name = "alpha", DomainId = "default" });
        var roleIds = new Dictionary<string, string>();
        foreach (var role in new[] { "member", "reader", "service" })
        {
            var roleId = Guid.NewGuid().ToString("N");
            roleIds[role] = roleId;
            await _store.InsertAsync(new RoleRow { Id = roleId, Name = role });
            var userId = Guid.NewGuid().ToString("N");
            await _store.InsertAsync(new UserRow { Id = userId, Name = role + "-user", DomainId = "default" });
            await _store.InsertAsync(new AssignmentRow { Type = "UserProject", ActorId = userId, TargetId = _project, RoleId = roleId });
            _users[role] = userId;
        }
        // The identity service's bootstrap writes this rule; here the rows are made by hand.
        await _store.InsertAsync(new ImpliedRoleRow { PriorRoleId = roleIds["member"], ImpliedRoleId = roleIds["reader"] });
    }

    public async Task DisposeAsync()
    {
        await _services.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }

    private string Token(string role, TimeSpan? life = null) => _codec.Encode(new TokenPayload(_users[role], AuthMethods.Password, ScopeKind.Project, _project,
        _clock.GetUtcNow(), _clock.GetUtcNow() + (life ?? TimeSpan.FromHours(1)), [TokenCodec.NewAuditId()]));

    private async Task<(HttpContext Context, bool Reached)> SendAsync(KeystoneAuthOptions? options = null, params (string Name, string Value)[] headers)
    {
        var context = new DefaultHttpContext { RequestServices = _services };
        context.Request.Method = "GET";
        context.Request.Path = "/v1/things";
        foreach (var (name, value) in headers) context.Request.Headers[name] = value;
        context.Response.Body = new MemoryStream();
        var reached = false;
        var middleware = new KeystoneAuthMiddleware(_ => { reached = true; return Task.CompletedTask; }, _services.GetRequiredService<TokenValidator>(),
            options ?? new KeystoneAuthOptions { AuthUri = "http://keystone.example:5000/v3" });
        await middleware.InvokeAsync(context);
        return (context, reached);
    }

    [Fact]
    public async Task A_valid_token_reaches_the_service_with_its_identity_and_spoofed_headers_are_replaced()
    {
        var (context, reached) = await SendAsync(null, ("X-Auth-Token", Token("member")), ("X-Roles", "admin"), ("X-Project-Id", "someone-else"));
        Assert.True(reached);
        var headers = context.Request.Headers;
        Assert.Equal("Confirmed", headers["X-Identity-Status"].ToString());
        Assert.Equal(_project, headers["X-Project-Id"].ToString());
        Assert.Equal("member-user", headers["X-User-Name"].ToString());
        // Implied roles come with the role: member implies reader.
        Assert.Equal("member,reader", headers["X-Roles"].ToString());
        var caller = Caller.Require(context);
        Assert.Equal(_project, caller.ProjectId);
        Assert.False(caller.IsAdmin);
    }

    [Fact]
    public async Task Missing_forged_and_expired_tokens_get_keystones_401_naming_the_identity_endpoint()
    {
        var expired = Token("member", TimeSpan.FromMinutes(1));
        _clock.Advance(TimeSpan.FromMinutes(2));
        foreach (var headers in new[] { Array.Empty<(string, string)>(), [("X-Auth-Token", Token("member")[..^3] + "abc")], [("X-Auth-Token", expired)] })
        {
            var (context, reached) = await SendAsync(null, headers);
            Assert.False(reached);
            Assert.Equal(401, context.Response.StatusCode);
            Assert.Equal("Keystone uri=\"http://keystone.example:5000/v3\"", context.Response.Headers.WWWAuthenticate.ToString());
            context.Response.Body.Position = 0;
            var body = JsonNode.Parse(context.Response.Body)!;
            Assert.Equal("The request you have made requires authentication.", body["error"]!["message"]!.GetValue<string>());
        }
        var (delayed, reachedAnyway) = await SendAsync(new KeystoneAuthOptions { AuthUri = "x", DelayAuthDecision = true });
        Assert.True(reachedAnyway);
        Assert.Equal("Invalid", delayed.Request.Headers["X-Identity-Status"].ToString());
        Assert.Null(Caller.Of(delayed));
        var (anonymous, open) = await SendAsync(new KeystoneAuthOptions { AuthUri = "x", Anonymous = c => c.Request.Path == "/v1/things" });
        Assert.True(open);
    }

    [Fact]
    public async Task A_service_token_counts_only_with_a_service_role()
    {
        var (withService, reached) = await SendAsync(null, ("X-Auth-Token", Token("member")), ("X-Service-Token", Token("service")));
        Assert.True(reached);
        Assert.Equal("Confirmed", withService.Request.Headers["X-Service-Identity-Status"].ToString());
        Assert.Equal("service", withService.Request.Headers["X-Service-Roles"].ToString());
        Assert.NotNull(Caller.ServiceOf(withService));
        var (notService, refused) = await SendAsync(null, ("X-Auth-Token", Token("member")), ("X-Service-Token", Token("reader")));
        Assert.False(refused);
        Assert.Equal(401, notService.Response.StatusCode);
    }

    [Fact]
    public async Task Policy_tables_decide_from_the_validated_token()
    {
        var table = new PolicyTable("things", new Dictionary<string, Allow> { ["read"] = Allow.ProjectReader, ["write"] = Allow.ProjectMember, ["admin"] = Allow.Admin });
        var validator = _services.GetRequiredService<TokenValidator>();
        var reader = (await validator.ValidateAsync(Token("reader")))!;
        var member = (await validator.ValidateAsync(Token("member")))!;
        var target = new PolicyTarget(ProjectId: _project);
        Assert.True(table.Allows("read", reader, target));
        Assert.False(table.Allows("write", reader, target));
        Assert.True(table.Allows("write", member, target));
        Assert.False(table.Allows("read", member, new PolicyTarget(ProjectId: "other")));
        Assert.Equal(403, Assert.Throws<ApiError>(() => table.Enforce("admin", member, target)).Status);
        Assert.Equal(401, Assert.Throws<ApiError>(() => table.Enforce("read", null, target)).Status);
    }
}
