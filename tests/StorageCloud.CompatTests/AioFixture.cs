using StorageCloud.Host.Tests;

namespace StorageCloud.CompatTests;

/// <summary>One `storagecloud aio` process (4 devices, 3 replicas) on free ports, shared by a test class.</summary>
public sealed class AioFixture : IAsyncLifetime
{
    public string Root { get; } = Directory.CreateTempSubdirectory("sc-compat-").FullName;

    public StorageCloudProcess Process { get; private set; } = null!;

    public int Port { get; private set; }

    /// <summary>The volume service's port (the block admin API).</summary>
    public int VolumePort { get; private set; }

    /// <summary>The NBD server's port.</summary>
    public int NbdPort { get; private set; }

    /// <summary>The image service's port (Glance v2).</summary>
    public int ImagePort { get; private set; }

    public string Url => $"http://127.0.0.1:{Port}";

    public string DataDir => Path.Combine(Root, "data");

    /// <summary>The environment that points the swift CLI at the appliance as test:tester.</summary>
    public Dictionary<string, string> SwiftEnv(string user = "test:tester", string key = "testing") => new()
    {
        ["ST_AUTH"] = Url + "/auth/v1.0",
        ["ST_USER"] = user,
        ["ST_KEY"] = key,
    };

    public async Task InitializeAsync()
    {
        Port = StorageCloudProcess.FreePort();
        VolumePort = StorageCloudProcess.FreePort();
        NbdPort = StorageCloudProcess.FreePort();
        ImagePort = StorageCloudProcess.FreePort();
        Process = StorageCloudProcess.Start(["aio", "--port", Port.ToString(), "--volume-port", VolumePort.ToString(), "--nbd-port", NbdPort.ToString(),
            "--image-port", ImagePort.ToString(),
            "--data-dir", DataDir, "--log-level", "warning"]);
        await Process.WaitUntilListeningAsync(Port, TimeSpan.FromSeconds(60));
    }

    public async Task DisposeAsync()
    {
        await Process.DisposeAsync();
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>The variables of the openrc the appliance wrote.</summary>
    public Dictionary<string, string> OpenRc() => StorageCloudProcess.OpenRc(DataDir);

    /// <summary>Runs `storagecloud` (the appliance's own executable) with the openrc's credentials.</summary>
    public Task<(int Exit, string Stdout, string Stderr)> StorageCloudAsync(params string[] args) =>
        CliRunner.RunAsync("dotnet", [StorageCloudProcess.ExecutablePath, .. args], OpenRc(), Root);

    /// <summary>Runs the swift CLI against the appliance; fails the test with its output when it fails.</summary>
    public async Task<string> SwiftAsync(params string[] args)
    {
        var (exit, stdout, stderr) = await CliRunner.RunAsync("swift", args, SwiftEnv(), Root);
        Assert.True(exit == 0, $"swift {string.Join(' ', args)} exited {exit}: {stdout} {stderr}");
        return stdout;
    }

    /// <summary>Runs curl with no credentials; returns (HTTP status, body file path).</summary>
    public async Task<(int Status, string Body)> CurlAsync(string url)
    {
        var output = Path.Combine(Root, "curl-" + Guid.NewGuid().ToString("N"));
        var (exit, stdout, stderr) = await CliRunner.RunAsync("curl", ["-s", "-o", output, "-w", "%{http_code}", url]);
        Assert.True(exit == 0, $"curl exited {exit}: {stderr}");
        return (int.Parse(stdout.Trim()), output);
    }
}
