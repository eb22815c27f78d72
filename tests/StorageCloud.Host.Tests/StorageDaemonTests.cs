using System.Net;
using System.Net.Http.Headers;

namespace StorageCloud.Host.Tests;

/// <summary>The storage daemons run inside a real `storagecloud serve --roles object` process.</summary>
public sealed class StorageDaemonTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sc-daemons-").FullName;

    [Fact]
    public async Task The_appliance_replicates_on_its_interval_and_recon_reports_it()
    {
        var port = StorageCloudProcess.FreePort();
        var objectPort = StorageCloudProcess.FreePort();
        var data = Path.Combine(_dir, "recon");
        await using var aio = StorageCloudProcess.Start(["aio", "--port", port.ToString(), "--object-port", objectPort.ToString(), "--data-dir", data],
            new Dictionary<string, string> { ["STORAGECLOUD__Replicator__IntervalSeconds"] = "1" });
        await aio.WaitUntilListeningAsync(port, TimeSpan.FromSeconds(60));
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        using var auth = new HttpRequestMessage(HttpMethod.Get, "/auth/v1.0");
        auth.Headers.Add("X-Auth-User", "test:tester");
        auth.Headers.Add("X-Auth-Key", "testing");
        using var authResponse = await http.SendAsync(auth);
        http.DefaultRequestHeaders.Add("X-Auth-Token", authResponse.Headers.GetValues("X-Auth-Token").Single());
        Assert.Equal(HttpStatusCode.Created, (await http.PutAsync("/v1/AUTH_test/r", null)).StatusCode);
        for (var i = 0; i < 5; i++) Assert.Equal(HttpStatusCode.Created, (await http.PutAsync($"/v1/AUTH_test/r/o{i}", new StringContent("x"))).StatusCode);

        using var recon = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{objectPort}") };
        System.Text.Json.Nodes.JsonNode? replication = null;
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            replication = System.Text.Json.Nodes.JsonNode.Parse(await recon.GetStringAsync("/recon/replication"));
            if (replication?["replication_stats"]?["attempted"]?.GetValue<int>() > 0) break;
            await Task.Delay(300);
        }
        // Every object's partition is on three of the four devices: the pass looked at them, and all agreed.
        Assert.True(replication!["replication_stats"]!["attempted"]!.GetValue<int>() > 0, replication.ToJsonString());
        Assert.Equal(0, replication["replication_stats"]!["failure"]!.GetValue<int>());
        Assert.True(replication["replication_last"]!.GetValue<double>() > 1_700_000_000);
        var disks = System.Text.Json.Nodes.JsonNode.Parse(await recon.GetStringAsync("/recon/diskusage"))!.AsArray();
        Assert.Equal(["d1", "d2", "d3", "d4"], disks.Select(d => d!["device"]!.GetValue<string>()).Order().ToArray());
        Assert.All(disks, d => Assert.True(d!["mounted"]!.GetValue<bool>()));
        var rings = System.Text.Json.Nodes.JsonNode.Parse(await recon.GetStringAsync("/recon/ringmd5"))!.AsObject();
        Assert.Equal(3, rings.Count);
        Assert.Equal(0, System.Text.Json.Nodes.JsonNode.Parse(await recon.GetStringAsync("/recon/async"))!["async_pending"]!.GetValue<int>());
        Assert.Equal(0, System.Text.Json.Nodes.JsonNode.Parse(await recon.GetStringAsync("/recon/quarantined"))!["objects"]!.GetValue<long>());
        Assert.Equal(HttpStatusCode.NotFound, (await recon.GetAsync("/recon/nonsense")).StatusCode);
    }

    [Fact]
    public async Task The_reaper_in_the_appliance_empties_a_deleted_account()
    {
        var port = StorageCloudProcess.FreePort();
        await using var aio = StorageCloudProcess.Start(["aio", "--port", port.ToString(), "--data-dir", Path.Combine(_dir, "aio")],
            new Dictionary<string, string> { ["STORAGECLOUD__Reaper__IntervalSeconds"] = "1", ["STORAGECLOUD__Reaper__DelaySeconds"] = "3",
                ["STORAGECLOUD__Proxy__AllowAccountManagement"] = "true" });
        await aio.WaitUntilListeningAsync(port, TimeSpan.FromSeconds(60));
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        using var auth = new HttpRequestMessage(HttpMethod.Get, "/auth/v1.0");
        auth.Headers.Add("X-Auth-User", "admin:admin");
        auth.Headers.Add("X-Auth-Key", "admin");
        using var authResponse = await http.SendAsync(auth);
        http.DefaultRequestHeaders.Add("X-Auth-Token", authResponse.Headers.GetValues("X-Auth-Token").Single());
        Assert.Equal(HttpStatusCode.Created, (await http.PutAsync("/v1/AUTH_gone", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await http.PutAsync("/v1/AUTH_gone/box", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await http.PutAsync("/v1/AUTH_gone/box/thing", new StringContent("x"))).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await http.DeleteAsync("/v1/AUTH_gone")).StatusCode);
        // Deleting an account does not empty it; the reaper does, once the delay has passed.
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/v1/AUTH_gone/box/thing")).StatusCode);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        HttpStatusCode status;
        do
        {
            await Task.Delay(300);
            status = (await http.GetAsync("/v1/AUTH_gone/box/thing")).StatusCode;
        }
        while (status == HttpStatusCode.OK && DateTime.UtcNow < deadline);
        Assert.Equal(HttpStatusCode.NotFound, status);
    }

    [Fact]
    public async Task The_auditor_quarantines_damage_nobody_read()
    {
        var port = StorageCloudProcess.FreePort();
        var data = Path.Combine(_dir, "data");
        await using var node = StorageCloudProcess.Start(["serve", "--roles", "object", "--data-dir", data, "--object-port", port.ToString()],
            new Dictionary<string, string> { ["STORAGECLOUD__Auditor__IntervalSeconds"] = "1" });
        await node.WaitUntilListeningAsync(port, TimeSpan.FromSeconds(60));
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        foreach (var name in new[] { "victim", "bystander" })
        {
            var put = new HttpRequestMessage(HttpMethod.Put, $"/d1/5/AUTH_x/c/{name}") { Content = new ByteArrayContent(new byte[5000]) };
            put.Content.Headers.ContentType = MediaTypeHeaderValue.Parse("application/octet-stream");
            put.Headers.TryAddWithoutValidation("X-Timestamp", $"{DateTimeOffset.UtcNow.ToUnixTimeSeconds()}.00001");
            using var response = await http.SendAsync(put);
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        }
        // Flip a byte inside the first object's data, behind the running server's back.
        var segment = Directory.EnumerateFiles(Path.Combine(data, "d1", "segments"), "*.seg").Single();
        await using (var file = new FileStream(segment, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite))
        {
            file.Position = 2000;
            var b = file.ReadByte();
            file.Position = 2000;
            file.WriteByte((byte)(b ^ 0xFF));
        }
        var quarantine = Path.Combine(data, "d1", "quarantined");
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!Directory.EnumerateFiles(quarantine, "*.rec").Any() && DateTime.UtcNow < deadline) await Task.Delay(200);
        Assert.Single(Directory.EnumerateFiles(quarantine, "*.rec"));
        using (var victim = await http.GetAsync("/d1/5/AUTH_x/c/victim")) Assert.Equal(HttpStatusCode.NotFound, victim.StatusCode);
        using (var bystander = await http.GetAsync("/d1/5/AUTH_x/c/bystander")) Assert.Equal(HttpStatusCode.OK, bystander.StatusCode);
        node.SendSignal(StorageCloudProcess.SIGTERM);
        Assert.Equal(0, await node.WaitForExitAsync(TimeSpan.FromSeconds(30)));
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
