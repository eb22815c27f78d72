using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace StorageCloud.Host.Tests;

/// <summary>`storagecloud aio` as a user runs it: a real process on a free port with a temporary data directory.</summary>
public sealed class AioTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sc-aio-").FullName;

    private string DataDir => Path.Combine(_dir, "data");

    [Fact]
    public async Task Serves_healthcheck_and_info_then_stops_cleanly_on_sigterm()
    {
        var port = StorageCloudProcess.FreePort();
        await using var aio = StorageCloudProcess.Start(["aio", "--port", port.ToString(), "--data-dir", DataDir]);
        await aio.WaitUntilListeningAsync(port, TimeSpan.FromSeconds(60));
        using var http = new HttpClient();

        using var health = await http.GetAsync($"http://127.0.0.1:{port}/healthcheck");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal("OK", await health.Content.ReadAsStringAsync());
        var transId = Assert.Single(health.Headers.GetValues("X-Trans-Id"));
        Assert.Matches(new Regex("^tx[0-9a-f]{21}-[0-9a-f]{10}$"), transId);
        Assert.Equal(transId, Assert.Single(health.Headers.GetValues("X-Openstack-Request-Id")));

        using var info = await http.GetAsync($"http://127.0.0.1:{port}/info");
        Assert.Equal(HttpStatusCode.OK, info.StatusCode);
        Assert.Equal("application/json", info.Content.Headers.ContentType?.MediaType);
        using var doc = JsonDocument.Parse(await info.Content.ReadAsStringAsync());
        var swift = doc.RootElement.GetProperty("swift");
        Assert.Equal(5368709122L, swift.GetProperty("max_file_size").GetInt64());
        Assert.Equal(1024, swift.GetProperty("max_object_name_length").GetInt32());
        Assert.Equal(10000, swift.GetProperty("container_listing_limit").GetInt32());
        Assert.False(string.IsNullOrEmpty(swift.GetProperty("version").GetString()));
        Assert.Equal("Policy-0", swift.GetProperty("policies")[0].GetProperty("name").GetString());

        using var head = await http.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"http://127.0.0.1:{port}/info"));
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        using var post = await http.PostAsync($"http://127.0.0.1:{port}/info", null);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, post.StatusCode);
        // A path that is not /v1/<account>... is Swift's 412 "Bad URL".
        using var missing = await http.GetAsync($"http://127.0.0.1:{port}/nothing-here");
        Assert.Equal(HttpStatusCode.PreconditionFailed, missing.StatusCode);
        Assert.Equal("Bad URL", await missing.Content.ReadAsStringAsync());

        aio.SendSignal(StorageCloudProcess.SIGTERM);
        Assert.Equal(0, await aio.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains($"http://127.0.0.1:{port}", aio.Stdout);
        // The access log carries the transaction id and never the query string.
        Assert.Contains(transId, aio.Stdout);
    }

    [Fact]
    public async Task Prepares_the_data_directory_and_reuses_it()
    {
        var port = StorageCloudProcess.FreePort();
        string secrets;
        await using (var first = StorageCloudProcess.Start(["aio", "--port", port.ToString(), "--data-dir", DataDir]))
        {
            await first.WaitUntilListeningAsync(port, TimeSpan.FromSeconds(60));
            for (var i = 1; i <= 4; i++)
                Assert.True(File.Exists(Path.Combine(DataDir, $"d{i}", ".storagecloud-device")), $"d{i} has no marker");
            secrets = await File.ReadAllTextAsync(Path.Combine(DataDir, "etc", "cluster.json"));
            first.SendSignal(StorageCloudProcess.SIGINT);
            Assert.Equal(0, await first.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        }
        var kept = Path.Combine(DataDir, "d2", "kept.txt");
        await File.WriteAllTextAsync(kept, "still here");
        await using (var second = StorageCloudProcess.Start(["aio", "--port", port.ToString(), "--data-dir", DataDir]))
        {
            await second.WaitUntilListeningAsync(port, TimeSpan.FromSeconds(60));
            second.SendSignal(StorageCloudProcess.SIGTERM);
            Assert.Equal(0, await second.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        }
        Assert.Equal(secrets, await File.ReadAllTextAsync(Path.Combine(DataDir, "etc", "cluster.json")));
        Assert.Equal("still here", await File.ReadAllTextAsync(kept));
    }

    [Fact]
    public async Task File_then_environment_then_command_line_override_each_other()
    {
        var filePort = StorageCloudProcess.FreePort();
        var envPort = StorageCloudProcess.FreePort();
        var cliPort = StorageCloudProcess.FreePort();
        var config = Path.Combine(_dir, "config.json");
        await File.WriteAllTextAsync(config, JsonSerializer.Serialize(new
        {
            Server = new { ProxyPort = filePort },
            Storage = new { DataDir, Devices = 3 },
            Cluster = new { Replicas = 2 },
        }));

        await using (var fromEnv = StorageCloudProcess.Start(["aio", "--config", config],
            new Dictionary<string, string> { ["STORAGECLOUD__Server__ProxyPort"] = envPort.ToString() }))
        {
            await fromEnv.WaitUntilListeningAsync(envPort, TimeSpan.FromSeconds(60));
            fromEnv.SendSignal(StorageCloudProcess.SIGTERM);
            Assert.Equal(0, await fromEnv.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        }
        Assert.True(Directory.Exists(Path.Combine(DataDir, "d3")));
        Assert.False(Directory.Exists(Path.Combine(DataDir, "d4")));

        await using var fromCli = StorageCloudProcess.Start(["aio", "--config", config, "--port", cliPort.ToString()],
            new Dictionary<string, string> { ["STORAGECLOUD__Server__ProxyPort"] = envPort.ToString() });
        await fromCli.WaitUntilListeningAsync(cliPort, TimeSpan.FromSeconds(60));
        using var http = new HttpClient();
        using var info = await http.GetAsync($"http://127.0.0.1:{cliPort}/info");
        using var doc = JsonDocument.Parse(await info.Content.ReadAsStringAsync());
        Assert.Equal(2, doc.RootElement.GetProperty("storagecloud").GetProperty("replicas").GetInt32());
        fromCli.SendSignal(StorageCloudProcess.SIGTERM);
        Assert.Equal(0, await fromCli.WaitForExitAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task Healthcheck_answers_503_while_the_disable_file_exists()
    {
        var port = StorageCloudProcess.FreePort();
        var disable = Path.Combine(_dir, "disabled");
        await using var aio = StorageCloudProcess.Start(["aio", "--port", port.ToString(), "--data-dir", DataDir],
            new Dictionary<string, string> { ["STORAGECLOUD__Server__HealthcheckDisablePath"] = disable });
        await aio.WaitUntilListeningAsync(port, TimeSpan.FromSeconds(60));
        using var http = new HttpClient();
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync($"http://127.0.0.1:{port}/healthcheck")).StatusCode);
        await File.WriteAllTextAsync(disable, "");
        using var disabled = await http.GetAsync($"http://127.0.0.1:{port}/healthcheck");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, disabled.StatusCode);
        Assert.Equal("DISABLED BY FILE", await disabled.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Version_prints_the_version()
    {
        var (exit, stdout, _) = await StorageCloudProcess.RunAsync(["version"]);
        Assert.Equal(0, exit);
        Assert.Matches(new Regex(@"^storagecloud \d+\.\d+\.\d+"), stdout);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
