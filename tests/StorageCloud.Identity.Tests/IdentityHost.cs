using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using StorageCloud.Auth;
using StorageCloud.Identity.Api;
using StorageCloud.Service.Sql;
using StorageCloud.Auth.Store;
using StorageCloud.Identity.Tokens;
using StorageCloud.Service.Hosting;

namespace StorageCloud.Identity.Tests;

/// <summary>A clock the tests move by hand.</summary>
public sealed class TestClock : TimeProvider
{
    private DateTimeOffset _now = DateTimeOffset.UtcNow;

    public override DateTimeOffset GetUtcNow() => _now;

    public void Advance(TimeSpan by) => _now += by;
}

/// <summary>
/// The identity API on 127.0.0.1 (a real Kestrel server on a free port) over a fresh database, bootstrapped like the
/// appliance: Default domain, admin and service projects, the roles, the admin user and a small catalog.
/// </summary>
public sealed class IdentityHost : IAsyncDisposable
{
    public const string AdminPassword = "secret-admin";

    private readonly WebApplication _app;
    private readonly string _root;

    private IdentityHost(WebApplication app, string root, IdentityOptions options, TestClock clock)
    {
        _app = app;
        _root = root;
        Options = options;
        Clock = clock;
        var port = app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>()
            .Features.Get<Microsoft.AspNetCore.Hosting.Server.Features.IServerAddressesFeature>()!.Addresses.First();
        BaseUrl = port.Replace("[::]", "127.0.0.1", StringComparison.Ordinal);
        Client = new HttpClient { BaseAddress = new Uri(BaseUrl) };
    }

    public string BaseUrl { get; }

    public HttpClient Client { get; }

    public IdentityOptions Options { get; }

    public TestClock Clock { get; }

    public IServiceProvider Services => _app.Services;

    public string KeyDirectory => Options.Auth.KeyRepository;

    /// <summary>Starts a host over SQLite in a temp directory, or over the given PostgreSQL connection string; <paramref name="configure"/> adjusts the options.</summary>
    public static async Task<IdentityHost> StartAsync(string? postgres = null, int loginFailureLimit = 10, int maxActiveKeys = 3,
        Func<IdentityOptions, IdentityOptions>? configure = null)
    {
        var root = Path.Combine(Path.GetTempPath(), "sc-identity-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(root);
        var options = new IdentityOptions
        {
            Auth = new AuthOptions
            {
                Database = postgres is null ? "sqlite" : "postgres",
                ConnectionString = postgres ?? SqlDatabase.SqliteFile(Path.Combine(root, "identity.db")),
                KeyRepository = Path.Combine(root, "keys"),
                MaxActiveKeys = maxActiveKeys,
            },
            // Tests hash many passwords; production keeps the default's 210,000 rounds.
            PasswordHashRounds = 1_000,
            LoginFailureLimit = loginFailureLimit,
        };
        if (configure is not null) options = configure(options);
        var clock = new TestClock();
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrelCore().ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        builder.Services.AddIdentityService(options, clock);
        var app = builder.Build();
        var api = app.Services.GetRequiredService<IdentityApi>();
        app.Run(api.HandleAsync);
        await Bootstrap.RunAsync(app.Services.GetRequiredService<IdentityStore>(), options, AdminPassword, "RegionOne",
        [
            new CatalogEntry("identity", "keystone", "http://127.0.0.1:5000/v3"),
            new CatalogEntry("object-store", "swift", "http://127.0.0.1:8080/v1/AUTH_%(project_id)s"),
        ]);
        await app.StartAsync();
        return new IdentityHost(app, root, options, clock);
    }

    /// <summary>The auth body for a password login by name in the Default domain, scoped as given.</summary>
    public static JsonObject PasswordAuth(string user, string password, JsonNode? scope = null)
    {
        var auth = new JsonObject
        {
            ["identity"] = new JsonObject
            {
                ["methods"] = new JsonArray("password"),
                ["password"] = new JsonObject { ["user"] = new JsonObject { ["name"] = user, ["domain"] = new JsonObject { ["name"] = "Default" }, ["password"] = password } },
            },
        };
        if (scope is not null) auth["scope"] = scope;
        return new JsonObject { ["auth"] = auth };
    }

    /// <summary>{"project": {"name", "domain": {"name": "Default"}}}.</summary>
    public static JsonObject ProjectScope(string name) => new() { ["project"] = new JsonObject { ["name"] = name, ["domain"] = new JsonObject { ["name"] = "Default" } } };

    /// <summary>Logs in; returns the token and the token document (asserting 201).</summary>
    public async Task<(string Token, JsonObject Body)> LoginAsync(string user, string password, JsonNode? scope = null)
    {
        using var response = await SendAsync(HttpMethod.Post, "/v3/auth/tokens", null, PasswordAuth(user, password, scope));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"login {user}: {(int)response.StatusCode} {text}");
        return (response.Headers.GetValues("X-Subject-Token").Single(), (JsonObject)JsonNode.Parse(text)!);
    }

    /// <summary>An admin token scoped to the admin project.</summary>
    public async Task<string> AdminTokenAsync() => (await LoginAsync("admin", AdminPassword, ProjectScope("admin"))).Token;

    /// <summary>Sends a request with an optional token and JSON body.</summary>
    public async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? token, JsonNode? body = null, IDictionary<string, string>? headers = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (token is not null) request.Headers.Add("X-Auth-Token", token);
        if (headers is not null)
            foreach (var (k, v) in headers) request.Headers.TryAddWithoutValidation(k, v);
        if (body is not null) request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        return await Client.SendAsync(request);
    }

    /// <summary>Sends and returns the status and parsed JSON body (null when empty).</summary>
    public async Task<(HttpStatusCode Status, JsonObject? Body)> JsonAsync(HttpMethod method, string path, string? token, JsonNode? body = null, IDictionary<string, string>? headers = null)
    {
        using var response = await SendAsync(method, path, token, body, headers);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text) as JsonObject);
    }

    /// <summary>Creates a resource (asserting 201) and returns its id.</summary>
    public async Task<string> CreateAsync(string token, string collection, string kind, JsonObject fields)
    {
        var (status, body) = await JsonAsync(HttpMethod.Post, $"/v3/{collection}", token, new JsonObject { [kind] = fields });
        Assert.True(status == HttpStatusCode.Created, $"create {kind}: {status} {body}");
        return body![kind]!["id"]!.GetValue<string>();
    }

    /// <summary>The id of the role with this name.</summary>
    public async Task<string> RoleIdAsync(string token, string name)
    {
        var (_, body) = await JsonAsync(HttpMethod.Get, $"/v3/roles?name={name}", token);
        return body!["roles"]![0]!["id"]!.GetValue<string>();
    }

    /// <summary>Creates a project and a user holding the role there; returns their ids.</summary>
    public async Task<(string ProjectId, string UserId)> ProjectWithUserAsync(string admin, string project, string user, string password, string role = "member")
    {
        var projectId = await CreateAsync(admin, "projects", "project", new JsonObject { ["name"] = project, ["domain_id"] = "default" });
        var userId = await CreateAsync(admin, "users", "user", new JsonObject { ["name"] = user, ["password"] = password, ["domain_id"] = "default" });
        using var grant = await SendAsync(HttpMethod.Put, $"/v3/projects/{projectId}/users/{userId}/roles/{await RoleIdAsync(admin, role)}", admin);
        Assert.Equal(HttpStatusCode.NoContent, grant.StatusCode);
        return (projectId, userId);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
