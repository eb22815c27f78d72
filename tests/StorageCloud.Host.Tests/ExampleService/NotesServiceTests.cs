using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using StorageCloud.Service.Hosting;

namespace StorageCloud.Host.Tests.ExampleService;

/// <summary>
/// The example service composed by the real host: `aio` runs it beside every other role, `serve --roles notes` runs it
/// alone on another "node" that validates the same Keystone tokens through the auth library.
/// </summary>
public sealed class NotesServiceTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("sc-notes-").FullName;

    private sealed class RunningHost(Task<int> run, CancellationTokenSource stop) : IAsyncDisposable
    {
        public Task<int> Run => run;

        public async ValueTask DisposeAsync()
        {
            await stop.CancelAsync();
            Assert.Equal(0, await run.WaitAsync(TimeSpan.FromSeconds(30)));
            stop.Dispose();
        }
    }

    private static async Task<RunningHost> StartAsync(string[] args, IReadOnlyList<StorageCloudService> services, int port)
    {
        var stop = new CancellationTokenSource();
        var run = Task.Run(() => Program.RunAsync(args, services, stop.Token));
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            if (run.IsCompleted) throw new InvalidOperationException($"the host exited with {await run}");
            try
            {
                using var health = await http.GetAsync($"http://127.0.0.1:{port}/healthcheck");
                if (health.StatusCode == HttpStatusCode.OK) return new RunningHost(run, stop);
            }
            catch (HttpRequestException)
            {
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"nothing listened on {port}");
    }

    private static async Task<(string Token, string ProjectId)> LoginAsync(int identityPort, string password)
    {
        using var http = new HttpClient();
        var body = new JsonObject
        {
            ["auth"] = new JsonObject
            {
                ["identity"] = new JsonObject
                {
                    ["methods"] = new JsonArray("password"),
                    ["password"] = new JsonObject { ["user"] = new JsonObject { ["name"] = "admin", ["domain"] = new JsonObject { ["name"] = "Default" }, ["password"] = password } },
                },
                ["scope"] = new JsonObject { ["project"] = new JsonObject { ["name"] = "admin", ["domain"] = new JsonObject { ["name"] = "Default" } } },
            },
        };
        using var response = await http.PostAsJsonAsync($"http://127.0.0.1:{identityPort}/v3/auth/tokens", body);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var token = await response.Content.ReadFromJsonAsync<JsonObject>();
        return (response.Headers.GetValues("X-Subject-Token").Single(), token!["token"]!["project"]!["id"]!.GetValue<string>());
    }

    private static HttpRequestMessage Request(HttpMethod method, string url, string? token, JsonNode? body = null)
    {
        var request = new HttpRequestMessage(method, url);
        if (token is not null) request.Headers.Add("X-Auth-Token", token);
        if (body is not null) request.Content = JsonContent.Create(body);
        return request;
    }

    [Fact]
    public async Task Aio_and_serve_compose_the_example_service_which_authenticates_keystone_tokens_and_stores_objects()
    {
        var data = Path.Combine(_root, "data");
        int Free() => StorageCloudProcess.FreePort();
        var (proxy, identity, notes, otherNotes) = (Free(), Free(), Free(), Free());
        var notesService = new NotesService();
        await using var aio = await StartAsync(
            ["aio", "--data-dir", data, "--port", $"{proxy}", "--object-port", $"{Free()}", "--container-port", $"{Free()}", "--account-port", $"{Free()}",
             "--identity-port", $"{identity}", "--notes-port", $"{notes}", "--volume-port", $"{Free()}", "--nbd-port", $"{Free()}", "--image-port", $"{Free()}",
             "--network-port", $"{Free()}", "--compute-port", $"{Free()}", "--dashboard-port", $"{Free()}", "--log-level", "warning"],
            [.. Program.Services(), notesService], notes);
        var (token, project) = await LoginAsync(identity, File.ReadAllText(Path.Combine(data, "identity", "admin-password")).Trim());
        using var http = new HttpClient();
        var baseUrl = $"http://127.0.0.1:{notes}";

        using (var versions = await http.GetAsync(baseUrl + "/"))
        {
            Assert.Equal(HttpStatusCode.OK, versions.StatusCode);
            Assert.StartsWith("req-", versions.Headers.GetValues("X-Openstack-Request-Id").Single());
        }
        using (var anonymous = await http.GetAsync(baseUrl + "/v1/notes"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
            Assert.Equal($"Keystone uri=\"http://127.0.0.1:{identity}/v3\"", anonymous.Headers.WwwAuthenticate.ToString());
            Assert.Equal(401, (await anonymous.Content.ReadFromJsonAsync<JsonObject>())!["error"]!["code"]!.GetValue<int>());
        }
        using (var forged = await http.SendAsync(Request(HttpMethod.Get, baseUrl + "/v1/notes", token[..^4] + "AAAA")))
            Assert.Equal(HttpStatusCode.Unauthorized, forged.StatusCode);

        foreach (var (name, text) in new[] { ("hello", "hi there"), ("second", "two") })
        {
            using var put = await http.SendAsync(Request(HttpMethod.Put, $"{baseUrl}/v1/notes/{name}", token, new JsonObject { ["note"] = new JsonObject { ["text"] = text } }));
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        }
        using (var get = await http.SendAsync(Request(HttpMethod.Get, baseUrl + "/v1/notes/hello", token)))
            Assert.Equal("hi there", (await get.Content.ReadFromJsonAsync<JsonObject>())!["note"]!["text"]!.GetValue<string>());
        // Kept as an ordinary object in the project's account: the Swift API serves it with the same token.
        using (var swift = await http.SendAsync(Request(HttpMethod.Get, $"http://127.0.0.1:{proxy}/v1/AUTH_{project}/notes/hello", token)))
            Assert.Equal("hi there", await swift.Content.ReadAsStringAsync());
        using (var page = await http.SendAsync(Request(HttpMethod.Get, baseUrl + "/v1/notes?limit=1", token)))
        {
            var listing = (await page.Content.ReadFromJsonAsync<JsonObject>())!;
            Assert.Equal("hello", listing["notes"]![0]!["name"]!.GetValue<string>());
            Assert.Equal($"{baseUrl}/v1/notes?limit=1&marker=hello", listing["notes_links"]![0]!["href"]!.GetValue<string>());
        }
        using (var missing = await http.SendAsync(Request(HttpMethod.Get, baseUrl + "/v1/notes/nope", token)))
        {
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
            Assert.Equal("Note nope could not be found.", (await missing.Content.ReadFromJsonAsync<JsonObject>())!["itemNotFound"]!["message"]!.GetValue<string>());
        }
        using (var tooLong = await http.SendAsync(Request(HttpMethod.Put, baseUrl + "/v1/notes/long", token,
            new JsonObject { ["note"] = new JsonObject { ["text"] = new string('x', 5000) } })))
        {
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooLong.StatusCode);
            Assert.NotNull((await tooLong.Content.ReadFromJsonAsync<JsonObject>())!["overLimit"]);
        }

        // The catalog lists the services that run, this one included, and nothing that does not run.
        using (var catalog = await http.SendAsync(Request(HttpMethod.Get, $"http://127.0.0.1:{identity}/v3/auth/catalog", token)))
        {
            var types = (await catalog.Content.ReadFromJsonAsync<JsonObject>())!["catalog"]!.AsArray().Select(e => e!["type"]!.GetValue<string>()).Order().ToList();
            Assert.Equal(["block-storage", "compute", "ec2", "identity", "image", "network", "notes", "object-store", "s3", "volumev3"], types);
        }
        Assert.True(notesService.Api!.Passes > 0, "the service's daemon ran");

        // Another node runs the notes role alone; it reaches the storage nodes over the rings and validates the same
        // tokens with the shared identity database and keys.
        var config = Path.Combine(_root, "notes-node.json");
        File.WriteAllText(config, new JsonObject
        {
            ["Identity"] = new JsonObject { ["AuthUrl"] = $"http://127.0.0.1:{identity}/v3" },
            ["Server"] = new JsonObject { ["InProcessBackend"] = false },
        }.ToJsonString());
        await using (await StartAsync(["serve", "--roles", "notes", "--config", config, "--data-dir", data, "--notes-port", $"{otherNotes}", "--log-level", "warning"],
            [.. Program.Services(), new NotesService()], otherNotes))
        {
            using var get = await http.SendAsync(Request(HttpMethod.Get, $"http://127.0.0.1:{otherNotes}/v1/notes/second", token));
            Assert.Equal(HttpStatusCode.OK, get.StatusCode);
            Assert.Equal("two", (await get.Content.ReadFromJsonAsync<JsonObject>())!["note"]!["text"]!.GetValue<string>());
            using var anonymous = await http.GetAsync($"http://127.0.0.1:{otherNotes}/v1/notes");
            Assert.Equal($"Keystone uri=\"http://127.0.0.1:{identity}/v3\"", anonymous.Headers.WwwAuthenticate.ToString());
        }
    }

    [Fact]
    public async Task The_example_services_options_are_declared_once_and_known_to_the_host()
    {
        var services = (IReadOnlyList<StorageCloudService>)[.. Program.Services(), new NotesService()];
        var catalog = Configuration.HostConfiguration.Catalog(services);
        Assert.Contains(catalog.OptionsOf("Notes"), o => o.Key == "Notes:MaxNoteBytes");
        Assert.Contains(catalog.CommandLine, o => o.CommandLine == "--notes-port");
        var data = Path.Combine(_root, "bad");
        Assert.Equal(2, await Program.RunAsync(["serve", "--roles", "notes", "--data-dir", data], services, CancellationToken.None));
        Environment.SetEnvironmentVariable("STORAGECLOUD__Notes__MaxNoteBytes", "0");
        try
        {
            Assert.Equal(2, await Program.RunAsync(["aio", "--data-dir", data], services, CancellationToken.None));
        }
        finally
        {
            Environment.SetEnvironmentVariable("STORAGECLOUD__Notes__MaxNoteBytes", null);
        }
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
