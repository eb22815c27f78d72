using System.Security.Cryptography;

namespace StorageCloud.CompatTests;

/// <summary>
/// The seeds' instance workflow with Debian's `openstack` CLI against the appliance's Nova v2.1 API (fake driver):
/// network, subnet, router, an ssh rule and a generated key pair; `server create --wait`; a volume attached (in-use)
/// and detached; a floating IP added and shown in the server's addresses; stop, start, reboot; `server image create`
/// whose data is the image's; delete, which gives back the port and the volume; another project sees none of it.
/// </summary>
public sealed class OpenStackComputeTests(AioFixture aio) : OpenStackCliTestBase(aio), IClassFixture<AioFixture>
{
    private async Task<string> Status(Dictionary<string, string> env, string server) =>
        (await OsJson(env, "server", "show", server))["status"]!.GetValue<string>();

    [Fact]
    public async Task The_seeds_instance_flow_works_with_the_openstack_cli()
    {
        var admin = Env();
        var alice = await ProjectWithMemberAsync("vm-alice");
        var bob = await ProjectWithMemberAsync("vm-bob");
        await Os(admin, "network", "create", "--external", "public");
        await Os(admin, "subnet", "create", "--network", "public", "--subnet-range", "172.24.4.0/24", "--no-dhcp", "public-subnet");

        var disk = Path.Combine(Aio.Root, "boot.raw");
        var data = RandomNumberGenerator.GetBytes(2 << 20);
        await File.WriteAllBytesAsync(disk, data);
        await Os(alice, "image", "create", "--file", disk, "--disk-format", "raw", "--container-format", "bare", "boot");
        await Os(alice, "network", "create", "private");
        await Os(alice, "subnet", "create", "--network", "private", "--subnet-range", "10.0.0.0/24", "private-subnet");
        await Os(alice, "router", "create", "r1");
        await Os(alice, "router", "set", "--external-gateway", "public", "r1");
        await Os(alice, "router", "add", "subnet", "r1", "private-subnet");
        await Os(alice, "security", "group", "rule", "create", "--protocol", "tcp", "--dst-port", "22", "default");
        var privateKey = await Os(alice, "keypair", "create", "k");
        Assert.Contains("PRIVATE KEY", privateKey);
        Assert.Matches("^([0-9a-f]{2}:){15}[0-9a-f]{2}$", (await OsJson(alice, "keypair", "show", "k"))["fingerprint"]!.GetValue<string>());
        Assert.Contains("m1.tiny", await Os(alice, "flavor", "list", "-f", "value", "-c", "Name"));

        var server = await OsJson(alice, "server", "create", "--flavor", "m1.tiny", "--image", "boot", "--network", "private", "--key-name", "k", "--wait", "vm1");
        Assert.Equal("ACTIVE", server["status"]!.GetValue<string>());
        Assert.Equal("k", server["key_name"]!.GetValue<string>());
        Assert.StartsWith("10.0.0.", server["addresses"]!["private"]![0]!.GetValue<string>());
        var port = await OsJson(alice, "port", "list", "--server", "vm1");
        Assert.Single(port.AsArray());

        await Os(alice, "volume", "create", "--size", "1", "vol1");
        for (var i = 0; i < 100 && (await OsJson(alice, "volume", "show", "vol1"))["status"]!.GetValue<string>() != "available"; i++) await Task.Delay(100);
        await Os(alice, "server", "add", "volume", "vm1", "vol1");
        var volume = await OsJson(alice, "volume", "show", "vol1");
        Assert.Equal("in-use", volume["status"]!.GetValue<string>());
        Assert.Equal(Id(server), volume["attachments"]![0]!["server_id"]!.GetValue<string>());

        var floating = (await OsJson(alice, "floating", "ip", "create", "public"))["floating_ip_address"]!.GetValue<string>();
        await Os(alice, "server", "add", "floating", "ip", "vm1", floating);
        Assert.Contains(floating, (await OsJson(alice, "server", "show", "vm1"))["addresses"]!.ToJsonString());

        await Os(alice, "server", "stop", "vm1");
        Assert.Equal("SHUTOFF", await Status(alice, "vm1"));
        await Os(alice, "server", "start", "vm1");
        Assert.Equal("ACTIVE", await Status(alice, "vm1"));
        await Os(alice, "server", "reboot", "--wait", "vm1");
        Assert.Equal("ACTIVE", await Status(alice, "vm1"));
        Assert.Contains("reboot", await Os(alice, "console", "log", "show", "vm1"));

        var snapshot = await OsJson(alice, "server", "image", "create", "--name", "vm1-snap", "--wait", "vm1");
        Assert.Equal("active", (await OsJson(alice, "image", "show", Id(snapshot)))["status"]!.GetValue<string>());
        var saved = Path.Combine(Aio.Root, "snap.raw");
        await Os(alice, "image", "save", "--file", saved, "vm1-snap");
        // The snapshot is the root disk: the image's data, then zeros to m1.tiny's 1 GiB.
        await using (var file = File.OpenRead(saved))
        {
            Assert.Equal(1L << 30, file.Length);
            var head = new byte[data.Length];
            await file.ReadExactlyAsync(head);
            Assert.Equal(data, head);
            var rest = new byte[1 << 20];
            int read;
            while ((read = await file.ReadAsync(rest)) > 0)
                Assert.True(rest.AsSpan(0, read).IndexOfAnyExcept((byte)0) < 0, $"the snapshot holds data past the image at {file.Position - read}");
        }
        var events = await Os(alice, "server", "event", "list", "vm1", "-f", "value", "-c", "Action");
        foreach (var action in new[] { "create", "attach_volume", "stop", "start", "reboot", "createImage" }) Assert.Contains(action, events);

        // Bob sees none of it.
        Assert.Equal("", (await Os(bob, "server", "list", "-f", "value")).Trim());
        await OsFails(bob, "server", "show", Id(server));
        await OsFails(bob, "server", "delete", Id(server));

        await Os(alice, "server", "remove", "volume", "vm1", "vol1");
        Assert.Equal("available", (await OsJson(alice, "volume", "show", "vol1"))["status"]!.GetValue<string>());
        await Os(alice, "server", "delete", "--wait", "vm1");
        Assert.Equal("", (await Os(alice, "server", "list", "-f", "value")).Trim());
        Assert.Empty((await OsJson(alice, "port", "list", "--device-owner", "compute:nova")).AsArray());
        Assert.Equal("DOWN", (await OsJson(alice, "floating", "ip", "show", floating))["status"]!.GetValue<string>());
        Assert.Contains("nova-compute", await Os(admin, "compute", "service", "list", "-f", "value", "-c", "Binary"));
        Assert.Contains("storagecloud", await Os(admin, "hypervisor", "list", "-f", "value"));
    }
}
