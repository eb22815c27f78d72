using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace StorageCloud.Host.Tests;

/// <summary>
/// One `storagecloud aio` on free ports for the OpenStack API tests (Cinder, Glance), with the admin's token and two
/// projects that each have a member user of their own (the tests' tenants).
/// </summary>
public class CloudFixture : IAsyncLifetime
{
    private readonly string _root = Directory.CreateTempSubdirectory("sc-cinder-").FullName;
    private StorageCloudProcess _process = null!;

    public HttpClient Http { get; } = new() { Timeout = TimeSpan.FromSeconds(60) };

    public int IdentityPort { get; } = StorageCloudProcess.FreePort();

    public int VolumePort { get; } = StorageCloudProcess.FreePort();

    public int NbdPort { get; } = StorageCloudProcess.FreePort();

    public int ImagePort { get; } = StorageCloudProcess.FreePort();

    public int NetworkPort { get; } = StorageCloudProcess.FreePort();

    public string NetworkUrl => $"http://127.0.0.1:{NetworkPort}";

    public int ComputePort { get; } = StorageCloudProcess.FreePort();

    public string ComputeUrl => $"http://127.0.0.1:{ComputePort}";

    public int DashboardPort { get; } = StorageCloudProcess.FreePort();

    public string DashboardUrl => $"http://127.0.0.1:{DashboardPort}";

    /// <summary>The Swift/S3 proxy.</summary>
    public int ProxyPort { get; } = StorageCloudProcess.FreePort();

    public string ProxyUrl => $"http://127.0.0.1:{ProxyPort}";

    public string ImageUrl => $"http://127.0.0.1:{ImagePort}";

    /// <summary>The largest image data this appliance takes (Image:MaxImageBytes).</summary>
    public const long MaxImageBytes = 16 << 20;

    public string VolumeUrl => $"http://127.0.0.1:{VolumePort}";

    /// <summary>The admin (admin role on the admin project).</summary>
    public (string Token, string Project) Admin { get; private set; }

    /// <summary>A member of project A.</summary>
    public (string Token, string Project) A { get; private set; }

    /// <summary>A member of project B.</summary>
    public (string Token, string Project) B { get; private set; }

    /// <summary>The appliance's data directory (its openrc is the admin's).</summary>
    public string DataDir => Path.Combine(_root, "data");

    /// <summary>Settings a derived fixture gives its appliance (environment variables).</summary>
    protected virtual IReadOnlyDictionary<string, string> ExtraEnvironment => new Dictionary<string, string>();

    private string[] _args = [];
    private Dictionary<string, string> _environment = [];

    public async Task InitializeAsync()
    {
        var data = DataDir;
        _args = ["aio", "--port", ProxyPort.ToString(), "--identity-port", IdentityPort.ToString(),
            "--volume-port", VolumePort.ToString(), "--nbd-port", NbdPort.ToString(), "--image-port", ImagePort.ToString(), "--network-port", NetworkPort.ToString(), "--compute-port", ComputePort.ToString(), "--dashboard-port", DashboardPort.ToString(), "--data-dir", data, "--log-level", "warning"];
        // Small enough for a test to reach: the image service refuses larger image data with 413.
        _environment = new Dictionary<string, string>(ExtraEnvironment) { ["STORAGECLOUD__Image__MaxImageBytes"] = MaxImageBytes.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        await StartAsync();
        var password = (await File.ReadAllTextAsync(Path.Combine(data, "identity", "admin-password"))).Trim();
        Admin = await LoginAsync("admin", password, "admin");
        A = await TenantAsync("cinder-a");
        B = await TenantAsync("cinder-b");
    }

    private async Task StartAsync()
    {
        _process = StorageCloudProcess.Start(_args, _environment);
        await _process.WaitUntilListeningAsync(VolumePort, TimeSpan.FromSeconds(60));
        await _process.WaitUntilListeningAsync(IdentityPort, TimeSpan.FromSeconds(30));
        await _process.WaitUntilListeningAsync(ImagePort, TimeSpan.FromSeconds(30));
    }

    /// <summary>Kills the appliance (SIGKILL) and starts it again on the same data; the tokens stay valid.</summary>
    public async Task KillAndRestartAsync()
    {
        _process.SendSignal(StorageCloudProcess.SIGKILL);
        await _process.WaitForExitAsync(TimeSpan.FromSeconds(30));
        await _process.DisposeAsync();
        await StartAsync();
    }

    public async Task DisposeAsync()
    {
        Http.Dispose();
        await _process.DisposeAsync();
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private string IdentityUrl => $"http://127.0.0.1:{IdentityPort}/v3";

    private async Task<(string Token, string Project)> LoginAsync(string user, string password, string project)
    {
        var body = new JsonObject
        {
            ["auth"] = new JsonObject
            {
                ["identity"] = new JsonObject
                {
                    ["methods"] = new JsonArray("password"),
                    ["password"] = new JsonObject { ["user"] = new JsonObject { ["name"] = user, ["domain"] = new JsonObject { ["id"] = "default" }, ["password"] = password } },
                },
                ["scope"] = new JsonObject { ["project"] = new JsonObject { ["name"] = project, ["domain"] = new JsonObject { ["id"] = "default" } } },
            },
        };
        using var response = await Http.PostAsJsonAsync(IdentityUrl + "/auth/tokens", body);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var token = await response.Content.ReadFromJsonAsync<JsonObject>();
        return (response.Headers.GetValues("X-Subject-Token").Single(), token!["token"]!["project"]!["id"]!.GetValue<string>());
    }

    private async Task<JsonObject> IdentityAsync(HttpMethod method, string path, JsonNode? body = null)
    {
        using var request = new HttpRequestMessage(method, IdentityUrl + path) { Content = body is null ? null : JsonContent.Create(body) };
        request.Headers.Add("X-Auth-Token", Admin.Token);
        using var response = await Http.SendAsync(request);
        Assert.True(response.IsSuccessStatusCode, $"{method} {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return response.StatusCode == HttpStatusCode.NoContent ? [] : (await response.Content.ReadFromJsonAsync<JsonObject>())!;
    }

    private async Task<(string Token, string Project)> TenantAsync(string name)
    {
        var project = (await IdentityAsync(HttpMethod.Post, "/projects", new JsonObject { ["project"] = new JsonObject { ["name"] = name, ["domain_id"] = "default" } }))["project"]!["id"]!.GetValue<string>();
        var user = (await IdentityAsync(HttpMethod.Post, "/users", new JsonObject { ["user"] = new JsonObject { ["name"] = name + "-user", ["domain_id"] = "default", ["password"] = "pw-" + name } }))["user"]!["id"]!.GetValue<string>();
        var role = (await IdentityAsync(HttpMethod.Get, "/roles?name=member"))["roles"]![0]!["id"]!.GetValue<string>();
        await IdentityAsync(HttpMethod.Put, $"/projects/{project}/users/{user}/roles/{role}");
        return await LoginAsync(name + "-user", "pw-" + name, name);
    }

    /// <summary>Sends a request to the volume API; returns the status and the JSON body (or null).</summary>
    public Task<(HttpStatusCode Status, JsonNode? Body)> SendAsync(HttpMethod method, string path, string? token, JsonNode? body = null,
        string? version = null, string? rawBody = null) => SendToAsync(VolumeUrl, method, path, token, body, version, rawBody);

    /// <summary>A raw image of the given bytes, uploaded and active in the image service; returns its id.</summary>
    public async Task<string> ImageAsync(string token, byte[] data, string name = "test-image")
    {
        var (status, image) = await SendToAsync(ImageUrl, HttpMethod.Post, "/v2/images", token,
            new JsonObject { ["name"] = name, ["disk_format"] = "raw", ["container_format"] = "bare" });
        Assert.Equal(HttpStatusCode.Created, status);
        var id = image!["id"]!.GetValue<string>();
        using var upload = new HttpRequestMessage(HttpMethod.Put, $"{ImageUrl}/v2/images/{id}/file") { Content = new ByteArrayContent(data) };
        upload.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/octet-stream");
        upload.Headers.Add("X-Auth-Token", token);
        using var response = await Http.SendAsync(upload);
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        return id;
    }

    /// <summary>Sends a request to the API at <paramref name="baseUrl"/>; returns the status and the JSON body (or null).</summary>
    public async Task<(HttpStatusCode Status, JsonNode? Body)> SendToAsync(string baseUrl, HttpMethod method, string path, string? token, JsonNode? body = null,
        string? version = null, string? rawBody = null)
    {
        using var request = new HttpRequestMessage(method, baseUrl + path);
        // Glance answers errors as JSON only when asked to (its default is a text page).
        request.Headers.Accept.ParseAdd("application/json");
        if (rawBody is not null) request.Content = new StringContent(rawBody, System.Text.Encoding.UTF8, "application/json");
        else if (body is not null) request.Content = JsonContent.Create(body);
        if (token is not null) request.Headers.Add("X-Auth-Token", token);
        if (version is not null) request.Headers.Add("OpenStack-API-Version", version.Contains(' ') ? version : "volume " + version);
        using var response = await Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text));
    }
}
