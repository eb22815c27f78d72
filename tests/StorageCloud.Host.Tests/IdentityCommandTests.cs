using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace StorageCloud.Host.Tests;

/// <summary>The appliance's identity role as a process: bootstrap, openrc, and `storagecloud identity rotate-keys`.</summary>
public sealed class IdentityCommandTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("sc-identity-cmd-").FullName;

    [Fact]
    public async Task Rotating_keys_keeps_tokens_of_the_previous_primary_valid_until_they_leave_the_repository()
    {
        var data = Path.Combine(_root, "data");
        var port = StorageCloudProcess.FreePort();
        var identityPort = StorageCloudProcess.FreePort();
        // Keys and the database are read again within a second, so the rotation is seen without a restart.
        var environment = new Dictionary<string, string> { ["STORAGECLOUD__Identity__ValidationCacheSeconds"] = "0" };
        await using var aio = StorageCloudProcess.Start(["aio", "--port", port.ToString(), "--identity-port", identityPort.ToString(), "--data-dir", data, "--log-level", "warning"], environment);
        await aio.WaitUntilListeningAsync(identityPort, TimeSpan.FromSeconds(60));
        var openrc = File.ReadAllLines(Path.Combine(data, "openrc")).Where(l => l.StartsWith("export ", StringComparison.Ordinal))
            .ToDictionary(l => l["export ".Length..l.IndexOf('=')], l => l[(l.IndexOf('=') + 1)..]);
        Assert.Equal($"http://127.0.0.1:{identityPort}/v3", openrc["OS_AUTH_URL"]);
        Assert.Contains(openrc["OS_PASSWORD"], aio.Stdout);
        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(data, "openrc")));

        using var http = new HttpClient { BaseAddress = new Uri(openrc["OS_AUTH_URL"] + "/") };
        async Task<string> LoginAsync()
        {
            var body = new JsonObject
            {
                ["auth"] = new JsonObject
                {
                    ["identity"] = new JsonObject
                    {
                        ["methods"] = new JsonArray("password"),
                        ["password"] = new JsonObject
                        {
                            ["user"] = new JsonObject { ["name"] = "admin", ["domain"] = new JsonObject { ["name"] = "Default" }, ["password"] = openrc["OS_PASSWORD"] },
                        },
                    },
                    ["scope"] = new JsonObject { ["project"] = new JsonObject { ["name"] = "admin", ["domain"] = new JsonObject { ["name"] = "Default" } } },
                },
            };
            using var response = await http.PostAsJsonAsync("auth/tokens", body);
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            return response.Headers.GetValues("X-Subject-Token").Single();
        }
        async Task<HttpStatusCode> UseAsync(string token)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "projects");
            request.Headers.Add("X-Auth-Token", token);
            using var response = await http.SendAsync(request);
            return response.StatusCode;
        }

        var first = await LoginAsync();
        var keys = Path.Combine(data, "identity", "token-keys");
        Assert.Equal(new[] { "0", "1" }, Directory.GetFiles(keys).Select(f => Path.GetFileName(f)).Order().ToArray());
        var (exit, stdout, stderr) = await StorageCloudProcess.RunAsync(["identity", "rotate-keys", "--data-dir", data]);
        Assert.True(exit == 0, stderr);
        Assert.Contains("primary key 2", stdout);
        await Task.Delay(1200);
        Assert.Equal(HttpStatusCode.OK, await UseAsync(first));
        var second = await LoginAsync();
        (exit, _, stderr) = await StorageCloudProcess.RunAsync(["identity", "rotate-keys", "--data-dir", data]);
        Assert.True(exit == 0, stderr);
        Assert.Equal(new[] { "0", "2", "3" }, Directory.GetFiles(keys).Select(f => Path.GetFileName(f)).Order().ToArray());
        await Task.Delay(1200);
        // Key 1, which sealed the first token, is gone; key 2 (the second's) is still there.
        Assert.Equal(HttpStatusCode.Unauthorized, await UseAsync(first));
        Assert.Equal(HttpStatusCode.OK, await UseAsync(second));
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
