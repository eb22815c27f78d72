using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using StorageCloud.Tests;

namespace StorageCloud.Host.Tests;

/// <summary>
/// The backup crash test: a real `storagecloud aio` is killed with SIGKILL while a backup is being written and while
/// one is being restored. After each restart the interrupted backup is either available and restores the volume as it
/// was, or marked error; the interrupted restore's volume is in error_restoring (never available with half the data)
/// or complete; the first backup still restores exactly; and once the failed backups are deleted, no pack they left
/// behind remains in the container.
/// </summary>
public sealed class BackupCrashTests : IDisposable
{
    private const int MiB = 1 << 20;
    private const int DataBytes = 48 * MiB;
    private readonly string _dir = Directory.CreateTempSubdirectory("sc-backup-crash-").FullName;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(60) };

    [Fact]
    public async Task Backups_and_restores_killed_midway_leave_every_backup_complete_or_marked_error()
    {
        var ports = new[] { "--port", "--identity-port", "--volume-port", "--nbd-port" }.SelectMany(p => new[] { p, StorageCloudProcess.FreePort().ToString() }).ToArray();
        var nbd = new IPEndPoint(IPAddress.Loopback, int.Parse(ports[7]));
        var cinderPort = int.Parse(ports[5]);
        _proxyUrl = $"http://127.0.0.1:{ports[1]}";
        var data = Path.Combine(_dir, "data");
        string[] Args() => ["aio", .. ports, "--data-dir", data, "--log-level", "warning"];
        // Small blocks and packs, one chunk at a time: a backup takes long enough, and writes enough objects, to be killed midway.
        var environment = new Dictionary<string, string> { ["STORAGECLOUD__Backup__BlockBytes"] = "65536", ["STORAGECLOUD__Backup__PackBytes"] = "1048576", ["STORAGECLOUD__Backup__Parallelism"] = "1" };
        var random = new Random(20261206);

        var appliance = StorageCloudProcess.Start(Args(), environment);
        try
        {
            await appliance.WaitUntilListeningAsync(cinderPort, TimeSpan.FromSeconds(60));
            var (token, project) = await LoginAsync(data);
            var api = $"http://127.0.0.1:{cinderPort}/v3/{project}";
            var volume = (await CallAsync(token, HttpMethod.Post, $"{api}/volumes", new JsonObject { ["volume"] = new JsonObject { ["size"] = 1 } }))["volume"]!["id"]!.GetValue<string>();
            await WriteAsync(nbd, volume, random, 0, DataBytes);
            var firstDigest = await DigestAsync(nbd, volume);
            var first = await BackupAsync(token, api, volume);
            Assert.Equal("available", (await WaitBackupAsync(token, api, first, "available", "error"))["status"]!.GetValue<string>());

            var outcomes = new List<string>();
            for (var round = 0; round < 4; round++)
            {
                await WriteAsync(nbd, volume, random, random.Next(0, DataBytes / MiB - 4) * (long)MiB, 4 * MiB);
                var digest = await DigestAsync(nbd, volume);
                var backup = await BackupAsync(token, api, volume, incremental: round % 2 == 1);
                await Task.Delay(random.Next(20, 400));
                appliance.SendSignal(StorageCloudProcess.SIGKILL);
                await appliance.WaitForExitAsync(TimeSpan.FromSeconds(30));
                await appliance.DisposeAsync();
                appliance = StorageCloudProcess.Start(Args(), environment);
                await appliance.WaitUntilListeningAsync(cinderPort, TimeSpan.FromSeconds(60));
                (token, _) = await LoginAsync(data);

                var after = await WaitBackupAsync(token, api, backup, "available", "error");
                var status = after["status"]!.GetValue<string>();
                outcomes.Add(status);
                Assert.Equal("available", (await CallAsync(token, HttpMethod.Get, $"{api}/volumes/{volume}"))["volume"]!["status"]!.GetValue<string>());
                if (status == "available") Assert.Equal(digest, await DigestAsync(nbd, await RestoreAsync(token, api, backup)));
            }

            // A restore killed midway.
            var target = (await CallAsync(token, HttpMethod.Post, $"{api}/backups/{first}/restore", new JsonObject { ["restore"] = new JsonObject() }))["restore"]!["volume_id"]!.GetValue<string>();
            await Task.Delay(random.Next(20, 300));
            appliance.SendSignal(StorageCloudProcess.SIGKILL);
            await appliance.WaitForExitAsync(TimeSpan.FromSeconds(30));
            await appliance.DisposeAsync();
            appliance = StorageCloudProcess.Start(Args(), environment);
            await appliance.WaitUntilListeningAsync(cinderPort, TimeSpan.FromSeconds(60));
            (token, _) = await LoginAsync(data);
            Assert.Equal("available", (await WaitBackupAsync(token, api, first, "available"))["status"]!.GetValue<string>());
            var restoredStatus = (await CallAsync(token, HttpMethod.Get, $"{api}/volumes/{target}"))["volume"]!["status"]!.GetValue<string>();
            Assert.Contains(restoredStatus, new[] { "available", "error_restoring" });
            if (restoredStatus == "available") Assert.Equal(firstDigest, await DigestAsync(nbd, target));

            // The first backup is unharmed by all of it.
            Assert.Equal(firstDigest, await DigestAsync(nbd, await RestoreAsync(token, api, first)));

            // Failed backups go, and with them every pack only they used.
            var all = (await CallAsync(token, HttpMethod.Get, $"{api}/backups/detail"))["backups"]!.AsArray();
            foreach (var failed in all.Where(b => b!["status"]!.GetValue<string>() == "error").OrderByDescending(b => b!["created_at"]!.GetValue<string>()))
            {
                await CallAsync(token, HttpMethod.Delete, $"{api}/backups/{failed!["id"]}", expected: HttpStatusCode.Accepted);
                await WaitGoneAsync(token, api, failed["id"]!.GetValue<string>());
            }
            // A pack may outlive the backup that wrote it only while a backup left still uses it (it deduplicated against its blocks).
            var used = new HashSet<string>();
            foreach (var backup in (await CallAsync(token, HttpMethod.Get, $"{api}/backups"))["backups"]!.AsArray())
                foreach (var block in (await GetObjectAsync(token, project, $"manifests/{backup!["id"]}"))["blocks"]!.AsArray())
                    used.Add(block!["pack"]!.GetValue<string>());
            await Task.Delay(1000);
            foreach (var name in await ListAsync(token, project))
                Assert.True(used.Contains(name), $"{name} is used by no backup left (outcomes: {string.Join(", ", outcomes)})");
        }
        finally
        {
            await appliance.DisposeAsync();
        }
    }

    private async Task<(string Token, string Project)> LoginAsync(string data)
    {
        var rc = StorageCloudProcess.OpenRc(data);
        var body = new JsonObject
        {
            ["auth"] = new JsonObject
            {
                ["identity"] = new JsonObject
                {
                    ["methods"] = new JsonArray("password"),
                    ["password"] = new JsonObject { ["user"] = new JsonObject { ["name"] = rc["OS_USERNAME"], ["domain"] = new JsonObject { ["id"] = "default" }, ["password"] = rc["OS_PASSWORD"] } },
                },
                ["scope"] = new JsonObject { ["project"] = new JsonObject { ["name"] = rc["OS_PROJECT_NAME"], ["domain"] = new JsonObject { ["id"] = "default" } } },
            },
        };
        using var response = await _http.PostAsJsonAsync(rc["OS_AUTH_URL"].TrimEnd('/') + "/auth/tokens", body);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var token = await response.Content.ReadFromJsonAsync<JsonObject>();
        return (response.Headers.GetValues("X-Subject-Token").Single(), token!["token"]!["project"]!["id"]!.GetValue<string>());
    }

    private async Task<JsonNode> CallAsync(string token, HttpMethod method, string url, JsonObject? body = null, HttpStatusCode? expected = null)
    {
        using var request = new HttpRequestMessage(method, url) { Content = body is null ? null : JsonContent.Create(body) };
        request.Headers.Add("X-Auth-Token", token);
        request.Headers.Add("OpenStack-API-Version", "volume 3.60");
        using var response = await _http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(expected is null ? response.IsSuccessStatusCode : response.StatusCode == expected, $"{method} {url}: {(int)response.StatusCode} {text}");
        return text.Length == 0 ? new JsonObject() : JsonNode.Parse(text)!;
    }

    private async Task<string> BackupAsync(string token, string api, string volume, bool incremental = false) =>
        (await CallAsync(token, HttpMethod.Post, $"{api}/backups", new JsonObject { ["backup"] = new JsonObject { ["volume_id"] = volume, ["incremental"] = incremental } }))
            ["backup"]!["id"]!.GetValue<string>();

    private async Task<JsonNode> WaitBackupAsync(string token, string api, string backup, params string[] statuses)
    {
        for (var i = 0; i < 600; i++)
        {
            var row = (await CallAsync(token, HttpMethod.Get, $"{api}/backups/{backup}"))["backup"]!;
            if (statuses.Contains(row["status"]!.GetValue<string>())) return row;
            await Task.Delay(100);
        }
        throw new TimeoutException($"backup {backup} never reached {string.Join("/", statuses)}");
    }

    private async Task WaitGoneAsync(string token, string api, string backup)
    {
        for (var i = 0; i < 300; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"{api}/backups/{backup}");
            request.Headers.Add("X-Auth-Token", token);
            using var response = await _http.SendAsync(request);
            if (response.StatusCode == HttpStatusCode.NotFound) return;
            await Task.Delay(100);
        }
        throw new TimeoutException($"backup {backup} was never deleted");
    }

    private async Task<string> RestoreAsync(string token, string api, string backup)
    {
        var volume = (await CallAsync(token, HttpMethod.Post, $"{api}/backups/{backup}/restore", new JsonObject { ["restore"] = new JsonObject() }))["restore"]!["volume_id"]!.GetValue<string>();
        for (var i = 0; i < 600; i++)
        {
            var status = (await CallAsync(token, HttpMethod.Get, $"{api}/volumes/{volume}"))["volume"]!["status"]!.GetValue<string>();
            if (status == "available") return volume;
            Assert.NotEqual("error_restoring", status);
            await Task.Delay(100);
        }
        throw new TimeoutException($"restore of {backup} never finished");
    }

    private async Task<List<string>> ListAsync(string token, string project)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{_proxyUrl}/v1/AUTH_{project}/volumebackups?prefix=packs/");
        request.Headers.Add("X-Auth-Token", token);
        using var response = await _http.SendAsync(request);
        Assert.True(response.IsSuccessStatusCode, $"listing volumebackups: {(int)response.StatusCode}");
        return [.. (await response.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries)];
    }

    private string _proxyUrl = "";

    private async Task<JsonNode> GetObjectAsync(string token, string project, string name)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{_proxyUrl}/v1/AUTH_{project}/volumebackups/{name}");
        request.Headers.Add("X-Auth-Token", token);
        using var response = await _http.SendAsync(request);
        Assert.True(response.IsSuccessStatusCode, $"GET {name}: {(int)response.StatusCode}");
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
    }

    private static async Task WriteAsync(IPEndPoint nbd, string volume, Random random, long offset, int length)
    {
        await using var client = await NbdTestClient.OpenAsync(nbd, volume);
        var data = new byte[4 * MiB];
        for (var done = 0; done < length; done += data.Length)
        {
            random.NextBytes(data);
            Assert.Equal(0u, await client.WriteBlockAsync(1, (ulong)(offset + done), data, fua: true));
        }
    }

    /// <summary>SHA-256 of the data region, read over NBD.</summary>
    private static async Task<string> DigestAsync(IPEndPoint nbd, string volume)
    {
        await using var client = await NbdTestClient.OpenAsync(nbd, volume);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        for (var at = 0; at < DataBytes; at += 4 * MiB) hash.AppendData(await client.ReadBlockAsync(1, (ulong)at, 4 * MiB));
        return Convert.ToHexString(hash.GetHashAndReset());
    }

    public void Dispose()
    {
        _http.Dispose();
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
