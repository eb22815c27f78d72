namespace StorageCloud.Host.Tests;

/// <summary>Every kind of bad configuration stops the process with exit code 2 and one line that names the option.</summary>
public sealed class BadConfigurationTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sc-badcfg-").FullName;

    private async Task AssertRejected(string[] args, string expectedInLine, IDictionary<string, string>? env = null)
    {
        var (exit, _, stderr) = await StorageCloudProcess.RunAsync(args, env, _dir);
        Assert.Equal(2, exit);
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var line = Assert.Single(lines);
        Assert.StartsWith("storagecloud: ", line);
        Assert.Contains(expectedInLine, line);
        Assert.DoesNotContain("   at ", stderr);
    }

    [Fact]
    public Task Port_that_is_not_a_number() => AssertRejected(["aio", "--port", "eighty"], "Server:ProxyPort");

    [Fact]
    public Task Port_out_of_range() => AssertRejected(["aio", "--port", "70000"], "Server:ProxyPort");

    [Fact]
    public Task Bind_address_that_is_not_an_ip() => AssertRejected(["aio", "--bind", "localhost:80"], "Server:BindAddress");

    [Fact]
    public Task Devices_zero() => AssertRejected(["aio", "--devices", "0"], "Storage:Devices");

    [Fact]
    public Task Unknown_log_level() => AssertRejected(["aio", "--log-level", "loud"], "Logging:Level");

    [Fact]
    public Task Bad_value_from_the_environment()
        => AssertRejected(["aio"], "Constraints:MaxFileSize", new Dictionary<string, string> { ["STORAGECLOUD__Constraints__MaxFileSize"] = "-5" });

    [Fact]
    public Task Unknown_option_from_the_environment()
        => AssertRejected(["aio"], "Server:ProxyPrt", new Dictionary<string, string> { ["STORAGECLOUD__Server__ProxyPrt"] = "1" });

    [Fact]
    public Task Unknown_feature_to_disable()
        => AssertRejected(["aio"], "unknown feature 'sloo'", new Dictionary<string, string> { ["STORAGECLOUD__Proxy__DisabledFeatures"] = "slo,sloo" });

    [Fact]
    public Task Malformed_tempauth_user()
        => AssertRejected(["aio"], "Proxy:Users", new Dictionary<string, string> { ["STORAGECLOUD__Proxy__Users"] = "nocolon" });

    [Fact]
    public Task Missing_config_file() => AssertRejected(["aio", "--config", "nope.json"], "file not found");

    [Fact]
    public async Task Config_file_that_is_not_json()
    {
        await File.WriteAllTextAsync(Path.Combine(_dir, "broken.json"), "{ \"Server\": { \"ProxyPort\": ");
        await AssertRejected(["aio", "--config", "broken.json"], "not valid JSON");
    }

    [Fact]
    public async Task Unknown_section_in_the_file()
    {
        await File.WriteAllTextAsync(Path.Combine(_dir, "typo.json"), "{ \"Sever\": { \"ProxyPort\": 1 } }");
        await AssertRejected(["aio", "--config", "typo.json"], "unknown section 'Sever'");
    }

    [Fact]
    public Task More_replicas_than_devices() => AssertRejected(["aio", "--devices", "2"], "Cluster:Replicas");

    [Fact]
    public Task Unknown_role() => AssertRejected(["serve", "--roles", "proxy,teleporter"], "unknown role 'teleporter'");

    [Fact]
    public Task Unknown_command_line_option() => AssertRejected(["aio", "--prot", "1"], "--prot");

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
