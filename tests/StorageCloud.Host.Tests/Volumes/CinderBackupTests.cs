using System.Net;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using StorageCloud.Tests;

namespace StorageCloud.Host.Tests.Volumes;

/// <summary>
/// Volume backups over real HTTP on the all-in-one appliance: full and incremental backups restored into new and
/// existing volumes and compared through NBD, deduplication across a project's backups, a damaged block failing the
/// restore by name, deletion order and the collection of packs, export/import, reset-status and quotas.
/// </summary>
public sealed class CinderBackupTests(CloudFixture cloud) : IClassFixture<CloudFixture>
{
    private const string Latest = "3.60";
    private const int MiB = 1 << 20;

    private string A(string path) => $"/v3/{cloud.A.Project}{path}";

    private string Admin(string path) => $"/v3/{cloud.Admin.Project}{path}";

    private async Task<JsonNode> CallAsync(HttpMethod method, string path, JsonObject? body = null, HttpStatusCode expected = HttpStatusCode.OK, string? token = null)
    {
        var (status, reply) = await cloud.SendAsync(method, path, token ?? cloud.A.Token, body, Latest);
        Assert.True(status == expected, $"{method} {path}: {(int)status} {reply?.ToJsonString()}");
        return reply ?? new JsonObject();
    }

    private async Task<string> VolumeAsync(string name, int gigabytes = 1)
    {
        var reply = await CallAsync(HttpMethod.Post, A("/volumes"), new JsonObject { ["volume"] = new JsonObject { ["size"] = gigabytes, ["name"] = name } }, HttpStatusCode.Accepted);
        return reply["volume"]!["id"]!.GetValue<string>();
    }

    private async Task<JsonNode> BackupAsync(string volume, string name, bool incremental = false, string? container = null, bool force = false)
    {
        var body = new JsonObject { ["volume_id"] = volume, ["name"] = name, ["incremental"] = incremental, ["force"] = force };
        if (container is not null) body["container"] = container;
        var id = (await CallAsync(HttpMethod.Post, A("/backups"), new JsonObject { ["backup"] = body }, HttpStatusCode.Accepted))["backup"]!["id"]!.GetValue<string>();
        return await WaitAsync($"/backups/{id}", "backup", "available", "error");
    }

    private async Task<JsonNode> WaitAsync(string path, string member, params string[] statuses)
    {
        for (var i = 0; i < 600; i++)
        {
            var row = (await CallAsync(HttpMethod.Get, A(path)))[member]!;
            if (statuses.Contains(row["status"]!.GetValue<string>())) return row;
            await Task.Delay(100);
        }
        throw new TimeoutException($"{path} never reached {string.Join("/", statuses)}");
    }

    private async Task<string> RestoreAsync(string backup, string? volume = null)
    {
        var body = new JsonObject();
        if (volume is not null) body["volume_id"] = volume;
        var restored = (await CallAsync(HttpMethod.Post, A($"/backups/{backup}/restore"), new JsonObject { ["restore"] = body }, HttpStatusCode.Accepted))["restore"]!;
        Assert.Equal(backup, restored["backup_id"]!.GetValue<string>());
        var id = restored["volume_id"]!.GetValue<string>();
        await WaitAsync($"/volumes/{id}", "volume", "available", "error_restoring");
        await WaitAsync($"/backups/{backup}", "backup", "available");
        return id;
    }

    private async Task WriteAsync(string volume, long offset, byte[] data)
    {
        await using var nbd = await NbdTestClient.OpenAsync(new IPEndPoint(IPAddress.Loopback, cloud.NbdPort), volume);
        for (var done = 0; done < data.Length; done += 4 * MiB)
            Assert.Equal(0u, await nbd.WriteBlockAsync(1, (ulong)(offset + done), data[done..Math.Min(data.Length, done + 4 * MiB)], fua: true));
    }

    /// <summary>SHA-256 of the volume's first <paramref name="length"/> bytes, read over NBD.</summary>
    private async Task<string> DigestAsync(string volume, long length)
    {
        await using var nbd = await NbdTestClient.OpenAsync(new IPEndPoint(IPAddress.Loopback, cloud.NbdPort), volume);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        for (long at = 0; at < length; at += 4 * MiB) hash.AppendData(await nbd.ReadBlockAsync(1, (ulong)at, 4 * MiB));
        return Convert.ToHexString(hash.GetHashAndReset());
    }

    private static byte[] Random(int length, int seed)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }

    private async Task<List<string>> ObjectsAsync(string container)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{cloud.ProxyUrl}/v1/AUTH_{cloud.A.Project}/{container}");
        request.Headers.Add("X-Auth-Token", cloud.A.Token);
        using var response = await cloud.Http.SendAsync(request);
        if (response.StatusCode == HttpStatusCode.NotFound) return [];
        Assert.True(response.IsSuccessStatusCode, $"listing {container}: {(int)response.StatusCode}");
        var text = await response.Content.ReadAsStringAsync();
        return [.. text.Split('\n', StringSplitOptions.RemoveEmptyEntries)];
    }

    [Fact]
    public async Task Full_and_incremental_backups_restore_the_volume_as_it_was_at_each_point()
    {
        var volume = await VolumeAsync("source");
        await WriteAsync(volume, 0, Random(12 * MiB, 1));
        await WriteAsync(volume, 300L * MiB, Random(MiB, 2));
        var atFull = await DigestAsync(volume, 1L << 30);
        var full = await BackupAsync(volume, "full", container: "backups-a");
        Assert.Equal("available", full["status"]!.GetValue<string>());
        Assert.False(full["is_incremental"]!.GetValue<bool>());
        var progress = (await CallAsync(HttpMethod.Get, A($"/backups/{full["id"]}/progress")))["progress"]!;
        Assert.Equal(100, progress["percent"]!.GetValue<int>());
        var fullStored = progress["stored_bytes"]!.GetValue<long>();
        Assert.InRange(fullStored, 12 * MiB, 14 * MiB);

        // One 4 KiB write: the incremental re-reads one chunk and stores one block.
        await WriteAsync(volume, 700L * MiB, Random(4096, 3));
        var atIncrement = await DigestAsync(volume, 1L << 30);
        var increment = await BackupAsync(volume, "increment", incremental: true, container: "backups-a");
        Assert.True(increment["is_incremental"]!.GetValue<bool>());
        Assert.InRange(await StoredAsync(increment), 1, 2 * MiB);
        var fullId = full["id"]!.GetValue<string>();
        Assert.True((await CallAsync(HttpMethod.Get, A($"/backups/{fullId}")))["backup"]!["has_dependent_backups"]!.GetValue<bool>());
        var (refused, why) = await cloud.SendAsync(HttpMethod.Delete, A($"/backups/{fullId}"), cloud.A.Token, version: Latest);
        Assert.Equal(HttpStatusCode.BadRequest, refused);
        Assert.Contains("Incremental backups exist", why!.ToJsonString());

        var fromFull = await RestoreAsync(fullId);
        Assert.Equal(atFull, await DigestAsync(fromFull, 1L << 30));
        // Restoring the increment over that volume brings it to the later point, the earlier data included.
        Assert.Equal(fromFull, await RestoreAsync(increment["id"]!.GetValue<string>(), fromFull));
        Assert.Equal(atIncrement, await DigestAsync(fromFull, 1L << 30));

        // A volume created from a backup (3.47) is a restore into it.
        var fromBackup = (await CallAsync(HttpMethod.Post, A("/volumes"), new JsonObject { ["volume"] = new JsonObject { ["backup_id"] = fullId, ["name"] = "from-backup" } },
            HttpStatusCode.Accepted))["volume"]!["id"]!.GetValue<string>();
        Assert.Equal("available", (await WaitAsync($"/volumes/{fromBackup}", "volume", "available", "error_restoring"))["status"]!.GetValue<string>());
        Assert.Equal(atFull, await DigestAsync(fromBackup, 1L << 30));

        var objects = await ObjectsAsync("backups-a");
        Assert.Contains($"manifests/{fullId}", objects);
        Assert.Contains(objects, o => o.StartsWith($"packs/{fullId}/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Identical_data_is_stored_once_across_a_projects_backups_and_deleting_them_frees_every_pack()
    {
        var data = Random(8 * MiB, 7);
        var first = await VolumeAsync("twin-1");
        var second = await VolumeAsync("twin-2");
        await WriteAsync(first, 0, data);
        await WriteAsync(second, 64L * MiB, data);
        var one = await BackupAsync(first, "twin-1", container: "backups-dedup");
        var two = await BackupAsync(second, "twin-2", container: "backups-dedup");
        Assert.InRange(await StoredAsync(one), 8 * MiB, 9 * MiB);
        // The second backup stores its manifest only: every block is the first's.
        Assert.InRange(await StoredAsync(two), 1, 64 << 10);
        Assert.Equal(1, two["object_count"]!.GetValue<long>());

        await CallAsync(HttpMethod.Delete, A($"/backups/{one["id"]}"), expected: HttpStatusCode.Accepted);
        await WaitGoneAsync(one["id"]!.GetValue<string>());
        // The pack the first backup wrote is still used by the second.
        Assert.Contains(await ObjectsAsync("backups-dedup"), o => o.StartsWith("packs/", StringComparison.Ordinal));
        var restored = await RestoreAsync(two["id"]!.GetValue<string>());
        Assert.Equal(await DigestAsync(second, 1L << 30), await DigestAsync(restored, 1L << 30));

        await CallAsync(HttpMethod.Delete, A($"/backups/{two["id"]}"), expected: HttpStatusCode.Accepted);
        await WaitGoneAsync(two["id"]!.GetValue<string>());
        Assert.Empty(await ObjectsAsync("backups-dedup"));
    }

    private async Task<long> StoredAsync(JsonNode backup) =>
        (await CallAsync(HttpMethod.Get, A($"/backups/{backup["id"]}/progress")))["progress"]!["stored_bytes"]!.GetValue<long>();

    private async Task WaitGoneAsync(string backup)
    {
        for (var i = 0; i < 300; i++)
        {
            if ((await cloud.SendAsync(HttpMethod.Get, A($"/backups/{backup}"), cloud.A.Token, version: Latest)).Status == HttpStatusCode.NotFound)
            {
                // The row goes before the packs: give the collection a moment to finish.
                await Task.Delay(500);
                return;
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"backup {backup} was never deleted");
    }

    [Fact]
    public async Task The_backup_command_follows_a_backup_and_rebuilds_a_raw_file_from_the_container_alone()
    {
        var volume = (await CallAsync(HttpMethod.Post, Admin("/volumes"), new JsonObject { ["volume"] = new JsonObject { ["size"] = 1, ["name"] = "cli" } },
            HttpStatusCode.Accepted, cloud.Admin.Token))["volume"]!["id"]!.GetValue<string>();
        await WriteAsync(volume, 0, Random(3 * MiB, 31));
        await WriteAsync(volume, 900L * MiB, Random(MiB, 32));
        var rc = StorageCloudProcess.OpenRc(cloud.DataDir);
        var (exit, stdout, stderr) = await StorageCloudProcess.RunAsync(["backup", "create", volume, "--name", "cli-backup", "--container", "cli-backups"], rc);
        Assert.True(exit == 0, $"storagecloud backup create exited {exit}: {stdout} {stderr}");
        var backup = System.Text.RegularExpressions.Regex.Match(stdout, @"backup ([0-9a-f-]{36}): available").Groups[1].Value;
        Assert.NotEmpty(backup);

        var file = Path.Combine(cloud.DataDir, "..", "cli-restored.raw");
        (exit, stdout, stderr) = await StorageCloudProcess.RunAsync(["backup", "restore", backup, "--from-container", "cli-backups", "--to", file], rc);
        Assert.True(exit == 0, $"storagecloud backup restore --from-container exited {exit}: {stdout} {stderr}");
        Assert.Equal(1L << 30, new FileInfo(file).Length);
        using (var stream = File.OpenRead(file))
        using (var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256))
        {
            var buffer = new byte[4 * MiB];
            for (long at = 0; at < 1L << 30; at += buffer.Length)
            {
                stream.ReadExactly(buffer);
                hash.AppendData(buffer);
            }
            Assert.Equal(await DigestAsync(volume, 1L << 30), Convert.ToHexString(hash.GetHashAndReset()));
        }
        File.Delete(file);

        // A backup that is not in the container: a clear error, no file left half-written as if whole.
        (exit, _, stderr) = await StorageCloudProcess.RunAsync(["backup", "restore", Guid.NewGuid().ToString(), "--from-container", "cli-backups", "--to", file], rc);
        Assert.Equal(1, exit);
        Assert.Contains("manifest", stderr);
        Assert.False(File.Exists(file));

        (exit, stdout, stderr) = await StorageCloudProcess.RunAsync(["backup", "restore", backup], rc);
        Assert.True(exit == 0, $"storagecloud backup restore exited {exit}: {stdout} {stderr}");
        Assert.Matches(@"volume [0-9a-f-]{36}: available", stdout);
    }

    [Fact]
    public async Task A_damaged_block_fails_the_restore_by_name_and_leaves_the_volume_in_error_restoring()
    {
        var volume = await VolumeAsync("to-damage");
        await WriteAsync(volume, 0, Random(4 * MiB, 11));
        var backup = await BackupAsync(volume, "damaged", container: "backups-damaged");
        var id = backup["id"]!.GetValue<string>();
        var pack = (await ObjectsAsync("backups-damaged")).Single(o => o.StartsWith("packs/", StringComparison.Ordinal));
        var url = $"{cloud.ProxyUrl}/v1/AUTH_{cloud.A.Project}/backups-damaged/{pack}";
        using var get = new HttpRequestMessage(HttpMethod.Get, url);
        get.Headers.Add("X-Auth-Token", cloud.A.Token);
        using var got = await cloud.Http.SendAsync(get);
        var bytes = await got.Content.ReadAsByteArrayAsync();
        bytes[bytes.Length / 2] ^= 0xff;
        using var put = new HttpRequestMessage(HttpMethod.Put, url) { Content = new ByteArrayContent(bytes) };
        put.Headers.Add("X-Auth-Token", cloud.A.Token);
        using var stored = await cloud.Http.SendAsync(put);
        Assert.Equal(HttpStatusCode.Created, stored.StatusCode);

        var target = await RestoreAsync(id);
        var volumeRow = (await CallAsync(HttpMethod.Get, A($"/volumes/{target}")))["volume"]!;
        Assert.Equal("error_restoring", volumeRow["status"]!.GetValue<string>());
        var after = (await CallAsync(HttpMethod.Get, A($"/backups/{id}")))["backup"]!;
        Assert.Equal("available", after["status"]!.GetValue<string>());
        var reason = after["fail_reason"]!.GetValue<string>();
        Assert.Contains($"backup {id}: block ", reason);
        Assert.Contains("corrupt", reason);
    }

    [Fact]
    public async Task Backups_export_import_reset_status_honour_quotas_and_stay_in_their_project()
    {
        var volume = await VolumeAsync("exported");
        await WriteAsync(volume, 0, Random(MiB, 21));
        var backup = await BackupAsync(volume, "exported");
        var id = backup["id"]!.GetValue<string>();
        Assert.Equal(HttpStatusCode.NotFound, (await cloud.SendAsync(HttpMethod.Get, $"/v3/{cloud.B.Project}/backups/{id}", cloud.B.Token, version: Latest)).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await cloud.SendAsync(HttpMethod.Get, A($"/backups/{id}/export_record"), cloud.A.Token, version: Latest)).Status);

        var record = (await CallAsync(HttpMethod.Get, Admin($"/backups/{id}/export_record"), token: cloud.Admin.Token))["backup-record"]!;
        Assert.StartsWith("cinder.backup.drivers.", record["backup_service"]!.GetValue<string>());
        var fields = JsonNode.Parse(Convert.FromBase64String(record["backup_url"]!.GetValue<string>()))!.AsObject();
        Assert.Equal(HttpStatusCode.BadRequest, (await cloud.SendAsync(HttpMethod.Post, Admin("/backups/import_record"), cloud.Admin.Token,
            new JsonObject { ["backup-record"] = new JsonObject { ["backup_service"] = record["backup_service"]!.GetValue<string>(), ["backup_url"] = record["backup_url"]!.GetValue<string>() } }, Latest)).Status);
        var copy = Guid.NewGuid().ToString("D");
        fields["id"] = copy;
        var imported = await CallAsync(HttpMethod.Post, Admin("/backups/import_record"), new JsonObject
        {
            ["backup-record"] = new JsonObject
            {
                ["backup_service"] = record["backup_service"]!.GetValue<string>(),
                ["backup_url"] = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(fields.ToJsonString())),
            },
        }, HttpStatusCode.Created, cloud.Admin.Token);
        Assert.Equal(copy, imported["backup"]!["id"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.BadRequest, (await cloud.SendAsync(HttpMethod.Post, Admin("/backups/import_record"), cloud.Admin.Token,
            new JsonObject { ["backup-record"] = new JsonObject { ["backup_service"] = "cinder.backup.drivers.swift", ["backup_url"] = "bm90IGpzb24=" } }, Latest)).Status);

        // The original goes; the imported record keeps the blocks and restores.
        await CallAsync(HttpMethod.Delete, A($"/backups/{id}"), expected: HttpStatusCode.Accepted);
        await WaitGoneAsync(id);
        var restored = (await CallAsync(HttpMethod.Post, Admin($"/backups/{copy}/restore"), new JsonObject { ["restore"] = new JsonObject() }, HttpStatusCode.Accepted,
            cloud.Admin.Token))["restore"]!["volume_id"]!.GetValue<string>();
        for (var i = 0; i < 300 && (await CallAsync(HttpMethod.Get, Admin($"/volumes/{restored}"), token: cloud.Admin.Token))["volume"]!["status"]!.GetValue<string>() != "available"; i++)
            await Task.Delay(100);
        Assert.Equal(await DigestAsync(volume, 4 * MiB), await DigestAsync(restored, 4 * MiB));

        await CallAsync(HttpMethod.Post, Admin($"/backups/{copy}/action"), new JsonObject { ["os-reset_status"] = new JsonObject { ["status"] = "error" } },
            HttpStatusCode.Accepted, cloud.Admin.Token);
        Assert.Equal("error", (await CallAsync(HttpMethod.Get, Admin($"/backups/{copy}"), token: cloud.Admin.Token))["backup"]!["status"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.Forbidden, (await cloud.SendAsync(HttpMethod.Post, A($"/backups/{copy}/action"), cloud.A.Token,
            new JsonObject { ["os-reset_status"] = new JsonObject { ["status"] = "available" } }, Latest)).Status);

        // Bad requests: an in-use volume without force, an incremental with no full backup, a bad container, a quota reached.
        Assert.Equal(HttpStatusCode.BadRequest, (await cloud.SendAsync(HttpMethod.Post, A("/backups"), cloud.A.Token,
            new JsonObject { ["backup"] = new JsonObject { ["volume_id"] = volume, ["incremental"] = true, ["container"] = "never-used" } }, Latest)).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await cloud.SendAsync(HttpMethod.Post, A("/backups"), cloud.A.Token,
            new JsonObject { ["backup"] = new JsonObject { ["volume_id"] = volume, ["container"] = "a/b" } }, Latest)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await cloud.SendAsync(HttpMethod.Post, A("/backups"), cloud.A.Token,
            new JsonObject { ["backup"] = new JsonObject { ["volume_id"] = Guid.NewGuid().ToString() } }, Latest)).Status);
        var held = (await CallAsync(HttpMethod.Get, A("/backups")))["backups"]!.AsArray().Count;
        await CallAsync(HttpMethod.Put, Admin($"/os-quota-sets/{cloud.A.Project}"), new JsonObject { ["quota_set"] = new JsonObject { ["backups"] = held } },
            token: cloud.Admin.Token);
        try
        {
            var (status, _) = await cloud.SendAsync(HttpMethod.Post, A("/backups"), cloud.A.Token, new JsonObject { ["backup"] = new JsonObject { ["volume_id"] = volume } }, Latest);
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);
        }
        finally
        {
            await CallAsync(HttpMethod.Put, Admin($"/os-quota-sets/{cloud.A.Project}"), new JsonObject { ["quota_set"] = new JsonObject { ["backups"] = -1 } },
                token: cloud.Admin.Token);
        }
    }
}
