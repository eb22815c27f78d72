using System.Text.Json.Nodes;

namespace StorageCloud.CompatTests;

/// <summary>
/// The seeds' backup workflow with Debian's `openstack` CLI: a volume written through NBD (qemu-io), attached (Cinder
/// attachments through `cinder`, as the appliance runs no compute service yet), backed up with `--force`, changed in
/// 1% of its blocks, backed up with `--incremental --force`, and each backup restored into a new volume that
/// `qemu-img compare` finds equal to the volume at that point; `swift list` shows the backup objects in the project's
/// container; deletion refuses a backup an increment depends on and leaves the container empty at the end.
/// </summary>
public sealed class OpenStackBackupTests(AioFixture aio) : OpenStackCliTestBase(aio), IClassFixture<AioFixture>
{
    /// <summary>`openstack volume backup restore` of python3-openstackclient 6.x restores, then fails formatting its answer (fixed upstream later).</summary>
    private const string KnownRestoreBug = "cannot unpack non-iterable VolumeBackupsRestore object";

    private async Task<string> Cinder(Dictionary<string, string> env, params string[] args)
    {
        var (exit, stdout, stderr) = await CliRunner.RunAsync("/usr/bin/cinder", ["--os-volume-api-version", "3.44", .. args], env, Aio.Root);
        Assert.True(exit == 0, $"cinder {string.Join(' ', args)} exited {exit}: {stdout} {stderr}");
        return stdout;
    }

    private async Task<JsonNode> WaitAsync(Dictionary<string, string> env, string kind, string name, string status)
    {
        for (var i = 0; i < 600; i++)
        {
            var shown = kind == "backup" ? await OsJson(env, "volume", "backup", "show", name) : await OsJson(env, "volume", "show", name);
            var now = shown["status"]!.GetValue<string>();
            if (now == status) return shown;
            Assert.DoesNotContain("error", now);
            await Task.Delay(200);
        }
        throw new TimeoutException($"{kind} {name} never became {status}");
    }

    private async Task RestoreAsync(Dictionary<string, string> env, string backup, string volume)
    {
        var (exit, stdout, stderr) = await CliRunner.RunAsync(OpenStack, ["volume", "backup", "restore", backup, volume], env, Aio.Root);
        if (exit != 0) Assert.Contains(KnownRestoreBug, stdout + stderr);
        await WaitAsync(env, "volume", volume, "available");
        await WaitAsync(env, "backup", backup, "available");
    }

    private async Task SaveAsync(string volume, string file)
    {
        var (exit, _, stderr) = await CliRunner.RunAsync("/usr/bin/qemu-img", ["convert", "-f", "raw", "-O", "raw", $"nbd://127.0.0.1:{Aio.NbdPort}/{volume}", file],
            new Dictionary<string, string> { ["PATH"] = "/usr/bin:/bin" }, Aio.Root);
        Assert.True(exit == 0, stderr);
    }

    private async Task AssertSameAsync(string file, string volume)
    {
        var (exit, stdout, stderr) = await CliRunner.RunAsync("/usr/bin/qemu-img", ["compare", "-f", "raw", "-F", "raw", file, $"nbd://127.0.0.1:{Aio.NbdPort}/{volume}"],
            new Dictionary<string, string> { ["PATH"] = "/usr/bin:/bin" }, Aio.Root);
        Assert.True(exit == 0, $"qemu-img compare {file} {volume}: {stdout} {stderr}");
        Assert.Contains("Images are identical", stdout);
    }

    private async Task<string[]> SwiftListAsync(Dictionary<string, string> env, string container)
    {
        var (exit, stdout, stderr) = await CliRunner.RunAsync("/usr/bin/swift", ["list", container], env, Aio.Root);
        Assert.True(exit == 0 || stderr.Contains("Container", StringComparison.Ordinal), $"swift list {container}: {stderr}");
        return stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    [Fact]
    public async Task Full_and_incremental_backups_of_an_attached_volume_restore_equal_to_the_volume_at_each_point()
    {
        var alice = await ProjectWithMemberAsync("backup-alice");
        var bob = await ProjectWithMemberAsync("backup-bob");
        var volume = Id(await OsJson(alice, "volume", "create", "--size", "1", "bk-source"));
        await QemuIo(volume, "write -P 0x5a 0 96M", "write -P 0x21 512M 8M", "write -P 0x7e 1000M 2M", "flush");

        // Attached (in-use): a backup needs --force.
        var attachment = await Cinder(alice, "attachment-create", "--connect", "True", "--initiator", "iqn.test", "--ip", "127.0.0.1", "--host", "compat-host",
            volume, Guid.NewGuid().ToString());
        var attachmentId = attachment.Split('\n').First(l => l.Contains("| id ", StringComparison.Ordinal)).Split('|')[2].Trim();
        await Cinder(alice, "attachment-complete", attachmentId);
        Assert.Equal("in-use", (await OsJson(alice, "volume", "show", volume))["status"]!.GetValue<string>());
        Assert.Contains("force", await OsFails(alice, "volume", "backup", "create", "--name", "no-force", volume));

        var full = Id(await OsJson(alice, "volume", "backup", "create", "--force", "--name", "bk-full", volume));
        var shownFull = await WaitAsync(alice, "backup", full, "available");
        Assert.False(shownFull["is_incremental"]!.GetValue<bool>());
        Assert.Equal("volumebackups", shownFull["container"]!.GetValue<string>());
        Assert.Equal("in-use", (await OsJson(alice, "volume", "show", volume))["status"]!.GetValue<string>());
        var atFull = Path.Combine(Aio.Root, "bk-full.raw");
        await SaveAsync(volume, atFull);

        // 1% of the volume's 1 MiB blocks change.
        var changes = new List<string>();
        for (var i = 0; i < 10; i++) changes.Add($"write -P {0x30 + i} {i * 97 + 3}M 1M");
        await QemuIo(volume, [.. changes, "flush"]);
        var increment = Id(await OsJson(alice, "volume", "backup", "create", "--incremental", "--force", "--name", "bk-inc", volume));
        var shownIncrement = await WaitAsync(alice, "backup", increment, "available");
        Assert.True(shownIncrement["is_incremental"]!.GetValue<bool>());
        var atIncrement = Path.Combine(Aio.Root, "bk-inc.raw");
        await SaveAsync(volume, atIncrement);

        var objects = await SwiftListAsync(alice, "volumebackups");
        Assert.Contains($"manifests/{full}", objects);
        Assert.Contains($"manifests/{increment}", objects);
        Assert.Contains(objects, o => o.StartsWith($"packs/{increment}/", StringComparison.Ordinal));
        Assert.DoesNotContain(full, await Os(bob, "volume", "backup", "list", "-f", "value", "-c", "ID"));

        await RestoreAsync(alice, full, "bk-restored-full");
        await AssertSameAsync(atFull, Id(await OsJson(alice, "volume", "show", "bk-restored-full")));
        await RestoreAsync(alice, increment, "bk-restored-inc");
        await AssertSameAsync(atIncrement, Id(await OsJson(alice, "volume", "show", "bk-restored-inc")));

        Assert.Contains("Incremental backups exist", await OsFails(alice, "volume", "backup", "delete", full));
        await Os(alice, "volume", "backup", "delete", increment);
        for (var i = 0; i < 100 && (await Os(alice, "volume", "backup", "list", "-f", "value", "-c", "ID")).Contains(increment, StringComparison.Ordinal); i++) await Task.Delay(200);
        await Os(alice, "volume", "backup", "delete", full);
        for (var i = 0; i < 100 && (await Os(alice, "volume", "backup", "list", "-f", "value", "-c", "ID")).Trim().Length > 0; i++) await Task.Delay(200);
        await Task.Delay(1000);
        Assert.Empty(await SwiftListAsync(alice, "volumebackups"));
    }
}
