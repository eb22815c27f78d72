using System.Net;

namespace StorageCloud.Host.Tests.Probe;

/// <summary>The operator's commands as a user types them: storagecloud devcluster, recon and dispersion.</summary>
public sealed class OperatorCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sc-devcli-").FullName;

    private async Task<(int Exit, string Out, string Err)> RunAsync(params string[] args)
    {
        var (exit, stdout, stderr) = await StorageCloudProcess.RunAsync(args);
        return (exit, stdout, stderr);
    }

    [Fact]
    public async Task Devcluster_recon_and_dispersion_work_from_the_command_line()
    {
        var dir = Path.Combine(_dir, "c");
        var prefix = $"127.{Random.Shared.Next(100, 250)}.{Random.Shared.Next(0, 256)}";
        var init = await RunAsync("devcluster", "--dir", dir, "init", "--ip-prefix", prefix, "--set", "Replicator:IntervalSeconds=0", "--set", "Logging:Level=warning");
        Assert.True(init.Exit == 0, init.Err);
        Assert.Contains($"node4    {prefix}.14:6200-6202", init.Out);
        Assert.Contains($"log {dir}/node1/log", init.Out);
        try
        {
            var start = await RunAsync("devcluster", "--dir", dir, "start");
            Assert.True(start.Exit == 0, start.Err);
            Assert.Equal(5, start.Out.Split('\n').Count(l => l.Contains("running")));
            var status = await RunAsync("devcluster", "--dir", dir, "status");
            Assert.Equal(5, status.Out.Split('\n').Count(l => l.Contains("running (pid")));

            var config = Path.Combine(dir, "proxy", "node.json");
            var populate = await RunAsync("dispersion", "--config", config, "populate", "--coverage", "5");
            Assert.True(populate.Exit == 0, populate.Err);
            Assert.Contains("Created 13 objects for dispersion reporting", populate.Out);

            // A stopped node: recon says which, dispersion counts its missing copies.
            Assert.Equal(0, (await RunAsync("devcluster", "--dir", dir, "stop", "node2")).Exit);
            var recon = await RunAsync("recon", "--ring-dir", Path.Combine(dir, "rings"), "md5", "async");
            Assert.Equal(1, recon.Exit);
            Assert.Contains($"ERROR md5", recon.Out);
            Assert.Contains($"{prefix}.12:6200", recon.Out);
            var report = await RunAsync("dispersion", "--config", config, "report");
            Assert.Equal(1, report.Exit);
            Assert.Contains("partitions missing 1 copy", report.Out);

            Assert.Equal(0, (await RunAsync("devcluster", "--dir", dir, "start", "node2")).Exit);
            var replicate = await RunAsync("devcluster", "--dir", dir, "replicate");
            Assert.True(replicate.Exit == 0, replicate.Out + replicate.Err);
            // Object, container, account and chunk replicators on 4 nodes.
            Assert.Equal(16, replicate.Out.Split('\n').Count(l => l.Contains("\"failures\":0")));
            recon = await RunAsync("recon", "--ring-dir", Path.Combine(dir, "rings"));
            Assert.True(recon.Exit == 0, recon.Out);
            Assert.Equal(7, recon.Out.Split('\n').Count(l => l.StartsWith("OK", StringComparison.Ordinal)));
            report = await RunAsync("dispersion", "--config", config, "report", "--json");
            Assert.Equal(0, report.Exit);
            Assert.Contains("\"percentFound\":100", report.Out);

            // Bad input: one line, a non-zero exit, nothing changed.
            var unknown = await RunAsync("devcluster", "--dir", dir, "stop", "node9");
            Assert.Equal(1, unknown.Exit);
            Assert.Contains("no node 'node9'", unknown.Err);
            var again = await RunAsync("devcluster", "--dir", dir, "init");
            Assert.Equal(1, again.Exit);
            Assert.Contains("already holds a development cluster", again.Err);
            Assert.Equal(2, (await RunAsync("recon", "--ring-dir", dir, "nonsense")).Exit);
            using var http = new HttpClient();
            Assert.Equal(HttpStatusCode.NotFound, (await http.PostAsync($"http://{prefix}.11:6200/daemon/nonsense", null)).StatusCode);
            Assert.Equal(HttpStatusCode.MethodNotAllowed, (await http.GetAsync($"http://{prefix}.11:6200/daemon/object-replicator")).StatusCode);
            Assert.Contains("object-auditor", await http.GetStringAsync($"http://{prefix}.11:6200/daemon"));
        }
        finally
        {
            await RunAsync("devcluster", "--dir", dir, "kill");
        }
        var stopped = await RunAsync("devcluster", "--dir", dir, "status");
        Assert.Equal(5, stopped.Out.Split('\n').Count(l => l.Contains(" stopped ")));
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
