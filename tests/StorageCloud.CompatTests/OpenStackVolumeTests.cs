using System.Text.Json.Nodes;

namespace StorageCloud.CompatTests;

/// <summary>
/// The seeds' block-storage workflows with Debian's `openstack` CLI (and `cinder` where the openstack CLI needs a
/// compute service the appliance does not run yet: quotas) against the appliance's Cinder v3 API, with the data
/// written and read through the volumes' NBD exports by qemu-io: a snapshot keeps what the volume held, a volume from
/// the snapshot and a clone of the volume read it, a transferred volume keeps its data in its new project.
/// </summary>
public sealed class OpenStackVolumeTests(AioFixture aio) : OpenStackCliTestBase(aio), IClassFixture<AioFixture>
{
    private async Task<string> Cinder(Dictionary<string, string> env, params string[] args)
    {
        var (exit, stdout, stderr) = await CliRunner.RunAsync("/usr/bin/cinder", args, env, Aio.Root);
        Assert.True(exit == 0, $"cinder {string.Join(' ', args)} exited {exit}: {stdout} {stderr}");
        return stdout;
    }

    [Fact]
    public async Task Volumes_snapshots_clones_types_extend_and_delete_work_with_the_openstack_cli_and_keep_the_data()
    {
        var admin = Env();
        var alice = await ProjectWithMemberAsync("vol-alice");
        var type = await OsJson(admin, "volume", "type", "create", "--property", "tier=fast", "fast");
        Assert.Equal("fast", type["name"]!.GetValue<string>());
        Assert.Contains("fast", await Os(alice, "volume", "type", "list", "-f", "value", "-c", "Name"));

        var vol = await OsJson(alice, "volume", "create", "--size", "1", "--type", "fast", "--property", "purpose=test", "--description", "first disk", "vol1");
        Assert.Equal("available", vol["status"]!.GetValue<string>());
        Assert.Equal("fast", vol["type"]!.GetValue<string>());
        Assert.Equal("test", vol["properties"]!["purpose"]!.GetValue<string>());
        var volId = Id(vol);
        await QemuIo(volId, "write -P 0x5a 0 1M", "write -P 0x11 8M 64k", "flush");

        var snap = await OsJson(alice, "volume", "snapshot", "create", "--volume", "vol1", "snap1");
        Assert.Equal("available", snap["status"]!.GetValue<string>());
        Assert.Contains("snap1", await Os(alice, "volume", "snapshot", "list", "-f", "value", "-c", "Name"));
        // Written after the snapshot: the snapshot (and a volume made from it) must not see it.
        await QemuIo(volId, "write -P 0x77 0 64k", "flush");

        var fromSnap = await OsJson(alice, "volume", "create", "--snapshot", "snap1", "--size", "1", "fromsnap");
        Assert.Equal(Id(snap), fromSnap["snapshot_id"]!.GetValue<string>());
        await QemuIo(Id(fromSnap), "read -P 0x5a 0 1M", "read -P 0x11 8M 64k", "read -P 0 9M 64k");

        var clone = await OsJson(alice, "volume", "create", "--source", "vol1", "--size", "1", "clone1");
        Assert.Equal(volId, clone["source_volid"]!.GetValue<string>());
        await QemuIo(Id(clone), "read -P 0x77 0 64k", "read -P 0x5a 64k 960k", "read -P 0x11 8M 64k");
        // Writes to the clone stay in the clone.
        await QemuIo(Id(clone), "write -P 0x33 0 4k", "flush");
        await QemuIo(volId, "read -P 0x77 0 64k");
        await QemuIo(Id(fromSnap), "read -P 0x5a 0 64k");

        await Os(alice, "volume", "set", "--size", "2", "--name", "vol1b", "--property", "owner=alice", "vol1");
        var shown = await OsJson(alice, "volume", "show", "vol1b");
        Assert.Equal(2, shown["size"]!.GetValue<int>());
        Assert.Equal("alice", shown["properties"]!["owner"]!.GetValue<string>());
        await Os(alice, "volume", "unset", "--property", "owner", "vol1b");
        Assert.Null((await OsJson(alice, "volume", "show", "vol1b"))["properties"]!["owner"]);
        var (_, info, _) = await CliRunner.RunAsync("/usr/bin/qemu-img", ["info", "-f", "raw", "--output=json", $"nbd://127.0.0.1:{Aio.NbdPort}/{volId}"]);
        Assert.Equal(2L << 30, JsonNode.Parse(info)!["virtual-size"]!.GetValue<long>());
        await QemuIo(volId, "read -P 0x11 8M 64k", "write -P 0x44 1536M 64k", "read -P 0x44 1536M 64k");

        var listed = JsonNode.Parse(await Os(alice, "volume", "list", "--long", "-f", "json"))!.AsArray();
        Assert.Equal(["clone1", "fromsnap", "vol1b"], listed.Select(v => v!["Name"]!.GetValue<string>()).Order().ToArray());

        // A volume with a snapshot is not deleted; with --purge its snapshots go too. Clones keep their data.
        Assert.Contains("snapshots", await OsFails(alice, "volume", "delete", "vol1b"));
        await Os(alice, "volume", "delete", "--purge", "vol1b");
        Assert.DoesNotContain("snap1", await Os(alice, "volume", "snapshot", "list", "-f", "value", "-c", "Name"));
        await QemuIo(Id(fromSnap), "read -P 0x5a 0 1M");
        await QemuIo(Id(clone), "read -P 0x33 0 4k", "read -P 0x77 4k 60k", "read -P 0x5a 64k 960k");
        await Os(alice, "volume", "delete", "fromsnap", "clone1");
        Assert.Empty(JsonNode.Parse(await Os(alice, "volume", "list", "-f", "json"))!.AsArray());
        await Os(admin, "volume", "type", "delete", "fast");
    }

    [Fact]
    public async Task A_volume_transferred_to_another_project_keeps_its_data_and_leaves_the_first_project()
    {
        var carol = await ProjectWithMemberAsync("vol-carol");
        var dave = await ProjectWithMemberAsync("vol-dave");
        var vol = await OsJson(carol, "volume", "create", "--size", "1", "moving");
        await QemuIo(Id(vol), "write -P 0x6b 4M 128k", "flush");
        // Another project sees nothing of it.
        await OsFails(dave, "volume", "show", Id(vol));
        await OsFails(dave, "volume", "delete", Id(vol));

        var transfer = await OsJson(carol, "volume", "transfer", "request", "create", "--name", "to-dave", "moving");
        Assert.Equal("awaiting-transfer", (await OsJson(carol, "volume", "show", "moving"))["status"]!.GetValue<string>());
        Assert.Contains("auth key", await OsFails(dave, "volume", "transfer", "request", "accept", "--auth-key", "0000000000000000", Id(transfer)), StringComparison.OrdinalIgnoreCase);
        await Os(dave, "volume", "transfer", "request", "accept", "--auth-key", transfer["auth_key"]!.GetValue<string>(), Id(transfer));

        var taken = await OsJson(dave, "volume", "show", Id(vol));
        Assert.Equal("available", taken["status"]!.GetValue<string>());
        await OsFails(carol, "volume", "show", Id(vol));
        await QemuIo(Id(vol), "read -P 0x6b 4M 128k", "read -P 0 0 64k");
        await Os(dave, "volume", "delete", Id(vol));
    }

    [Fact]
    public async Task Quotas_set_with_the_cinder_cli_refuse_the_volume_past_the_limit_with_413()
    {
        var admin = Env();
        var erin = await ProjectWithMemberAsync("vol-erin");
        var project = Id(await OsJson(admin, "project", "show", "vol-erin"));
        await Cinder(admin, "quota-update", "--volumes", "2", "--gigabytes", "5", project);
        var quota = await Cinder(erin, "quota-show", project);
        Assert.Matches(@"\|\s*volumes\s*\|\s*2\s*\|", quota);
        await Os(erin, "volume", "create", "--size", "1", "q1");
        await Os(erin, "volume", "create", "--size", "1", "q2");
        var refused = await OsFails(erin, "volume", "create", "--size", "1", "q3");
        Assert.Contains("VolumeLimitExceeded", refused);
        Assert.Contains("413", refused);
        Assert.Contains("gigabytes", await OsFails(erin, "volume", "set", "--size", "9", "q1"));
        var limits = await Cinder(erin, "absolute-limits");
        Assert.Matches(@"\|\s*totalVolumesUsed\s*\|\s*2\s*\|", limits);
        await Os(erin, "volume", "delete", "q1", "q2");
    }
}
