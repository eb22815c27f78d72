using System.Security.Cryptography;
using System.Text.Json.Nodes;

namespace StorageCloud.CompatTests;

/// <summary>
/// The seeds' image workflows with Debian's `openstack` CLI against the appliance's Glance v2 API: a qcow2 made by
/// qemu-img uploaded, listed, shown, changed, tagged, saved back byte for byte (its sha512 is the image's
/// os_hash_value), made into volumes that read what qemu-img reads in the file and a volume made back into an image,
/// shared with another project that accepts it, protected and deleted; and the known hostile images,
/// each refused with no active image left behind.
/// </summary>
public sealed class OpenStackImageTests(AioFixture aio) : OpenStackCliTestBase(aio), IClassFixture<AioFixture>
{
    private async Task QemuImg(params string[] args)
    {
        var (exit, stdout, stderr) = await CliRunner.RunAsync("/usr/bin/qemu-img", args, new Dictionary<string, string> { ["PATH"] = "/usr/bin:/bin" }, Aio.Root);
        Assert.True(exit == 0, $"qemu-img {string.Join(' ', args)} exited {exit}: {stdout} {stderr}");
    }

    private string File(string name) => Path.Combine(Aio.Root, name);

    [Fact]
    public async Task An_image_is_uploaded_changed_shared_saved_and_deleted_with_the_openstack_cli()
    {
        var alice = await ProjectWithMemberAsync("img-alice");
        var bob = await ProjectWithMemberAsync("img-bob");
        var disk = File("cirros-like.qcow2");
        await QemuImg("create", "-f", "qcow2", disk, "64M");
        await CliRunner.RunAsync("/usr/bin/qemu-io", ["-f", "qcow2", "-c", "write -P 0x5a 0 2M", "-c", "write -P 0xa5 32M 1M", disk]);

        var created = await OsJson(alice, "image", "create", "--file", disk, "--disk-format", "qcow2", "--container-format", "bare",
            "--property", "os_distro=cirros", "--tag", "seed", "cirros");
        var id = Id(created);
        var shown = await OsJson(alice, "image", "show", "cirros");
        Assert.Equal("active", shown["status"]!.GetValue<string>());
        Assert.Equal(64L << 20, shown["virtual_size"]!.GetValue<long>());
        var bytes = await System.IO.File.ReadAllBytesAsync(disk);
        Assert.Equal(Convert.ToHexStringLower(SHA512.HashData(bytes)), shown["properties"]!["os_hash_value"]!.GetValue<string>());
        Assert.Equal("cirros", shown["properties"]!["os_distro"]!.GetValue<string>());
        Assert.Contains("seed", shown["tags"]!.AsArray().Select(t => t!.GetValue<string>()));
        Assert.Contains("cirros", await Os(alice, "image", "list", "-f", "value", "-c", "Name"));

        await Os(alice, "image", "set", "--property", "hw_disk_bus=virtio", "--min-disk", "1", "--tag", "tested", "cirros");
        await Os(alice, "image", "unset", "--property", "os_distro", "--tag", "seed", "cirros");
        shown = await OsJson(alice, "image", "show", "cirros");
        Assert.Equal("virtio", shown["properties"]!["hw_disk_bus"]!.GetValue<string>());
        Assert.Null(shown["properties"]!["os_distro"]);
        Assert.Equal(["tested"], shown["tags"]!.AsArray().Select(t => t!.GetValue<string>()));
        Assert.Equal(1, shown["min_disk"]!.GetValue<int>());

        var saved = File("saved.qcow2");
        await Os(alice, "image", "save", "--file", saved, "cirros");
        Assert.Equal(bytes, await System.IO.File.ReadAllBytesAsync(saved));

        // Bob sees nothing until alice shares the image and he accepts it.
        await OsFails(bob, "image", "show", id);
        await Os(alice, "image", "set", "--shared", "cirros");
        var bobProject = Id(await OsJson(Env(), "project", "show", "img-bob"));
        await Os(alice, "image", "add", "project", "cirros", bobProject);
        Assert.DoesNotContain(id, await Os(bob, "image", "list", "-f", "value", "-c", "ID"));
        await Os(bob, "image", "set", "--accept", id);
        Assert.Contains(id, await Os(bob, "image", "list", "-f", "value", "-c", "ID"));
        Assert.Contains("accepted", await Os(alice, "image", "member", "list", "cirros", "-f", "value"));
        await OsFails(bob, "image", "delete", id);
        await Os(bob, "image", "save", "--file", File("bob.qcow2"), id);
        Assert.Equal(bytes, await System.IO.File.ReadAllBytesAsync(File("bob.qcow2")));

        // Volumes from the image are clones of its one converted copy: each reads what qemu-img reads in the file, and
        // a write to one reaches neither the image nor the other volume.
        var first = Id(await OsJson(alice, "volume", "create", "--image", "cirros", "--size", "1", "from-image-1"));
        var second = Id(await OsJson(alice, "volume", "create", "--image", id, "--size", "1", "from-image-2"));
        Assert.Equal("true", (await OsJson(alice, "volume", "show", first))["bootable"]!.GetValue<string>());
        await QemuImg("compare", "-f", "qcow2", "-F", "raw", disk, $"nbd://127.0.0.1:{Aio.NbdPort}/{first}");
        var (exit, output, _) = await CliRunner.RunAsync("/usr/bin/qemu-io", ["-f", "raw", "-c", "write -P 0x77 0 1M", $"nbd://127.0.0.1:{Aio.NbdPort}/{first}"]);
        Assert.True(exit == 0, output);
        await QemuImg("compare", "-f", "qcow2", "-F", "raw", disk, $"nbd://127.0.0.1:{Aio.NbdPort}/{second}");
        await OsFails(alice, "volume", "create", "--image", Guid.NewGuid().ToString(), "--size", "1", "nowhere");
        await OsFails(alice, "volume", "create", "--image", "cirros", "--size", "1", "--snapshot", "nothing", "both");
        Assert.DoesNotContain("nowhere", await Os(alice, "volume", "list", "-f", "value", "-c", "Name"));

        // The volume's image metadata, and the volume back to an image: the new image holds the volume's bytes.
        await Os(alice, "volume", "set", "--image-property", "hw_rng_model=virtio", first);
        var imageMetadata = (await OsJson(alice, "volume", "show", first))["volume_image_metadata"]!;
        Assert.Equal("virtio", imageMetadata["hw_rng_model"]!.GetValue<string>());
        Assert.Equal(id, imageMetadata["image_id"]!.GetValue<string>());
        await Os(alice, "volume", "unset", "--image-property", "hw_rng_model", first);
        Assert.Null((await OsJson(alice, "volume", "show", first))["volume_image_metadata"]!["hw_rng_model"]);
        await Os(alice, "image", "create", "--volume", first, "from-volume");
        var uploaded = await OsJson(alice, "image", "show", "from-volume");
        Assert.Equal("active", uploaded["status"]!.GetValue<string>());
        Assert.Equal(1L << 30, uploaded["size"]!.GetValue<long>());
        await Os(alice, "image", "save", "--file", File("from-volume.raw"), "from-volume");
        await QemuImg("compare", "-f", "raw", "-F", "raw", File("from-volume.raw"), $"nbd://127.0.0.1:{Aio.NbdPort}/{first}");
        System.IO.File.Delete(File("from-volume.raw"));
        await Os(alice, "image", "delete", "from-volume");
        await Os(alice, "volume", "delete", first, second);

        await Os(alice, "image", "set", "--protected", "cirros");
        await OsFails(alice, "image", "delete", "cirros");
        await Os(alice, "image", "set", "--unprotected", "cirros");
        await Os(alice, "image", "delete", "cirros");
        Assert.DoesNotContain("cirros", await Os(alice, "image", "list", "-f", "value", "-c", "Name"));
    }

    [Fact]
    public async Task Hostile_images_are_refused_and_leave_no_active_image()
    {
        var carol = await ProjectWithMemberAsync("img-carol");
        // Each names only files in this test's own directory.
        await QemuImg("create", "-f", "raw", File("host-file.raw"), "8M");
        await QemuImg("create", "-f", "qcow2", "-b", File("host-file.raw"), "-F", "raw", File("backing.qcow2"));
        await QemuImg("create", "-f", "qcow2", "-o", "data_file=" + File("data-file.raw"), File("data-file.qcow2"), "8M");
        await QemuImg("create", "-f", "vmdk", "-o", "subformat=monolithicFlat", File("flat.vmdk"), "8M");
        await QemuImg("create", "-f", "qcow2", File("polyglot.qcow2"), "8M");
        await using (var polyglot = System.IO.File.OpenWrite(File("polyglot.qcow2")))
        {
            polyglot.Seek(0x8000, SeekOrigin.Begin);
            await polyglot.WriteAsync(new byte[] { 1, (byte)'C', (byte)'D', (byte)'0', (byte)'0', (byte)'1' });
        }
        foreach (var (file, format) in new[] { ("backing.qcow2", "qcow2"), ("data-file.qcow2", "qcow2"), ("flat.vmdk", "vmdk"), ("polyglot.qcow2", "qcow2"), ("host-file.raw", "qcow2") })
        {
            var output = await OsFails(carol, "image", "create", "--file", File(file), "--disk-format", format, "--container-format", "bare", "hostile-" + file);
            Assert.Contains("400", output);
        }
        var images = JsonNode.Parse(await Os(carol, "image", "list", "--long", "-f", "json"))!.AsArray();
        Assert.DoesNotContain(images, i => i!["Status"]!.GetValue<string>() == "active");

        // The same checks pass an honest image.
        await QemuImg("create", "-f", "vmdk", "-o", "subformat=streamOptimized", File("honest.vmdk"), "8M");
        await Os(carol, "image", "create", "--file", File("honest.vmdk"), "--disk-format", "vmdk", "--container-format", "bare", "honest");
        Assert.Equal("active", (await OsJson(carol, "image", "show", "honest"))["status"]!.GetValue<string>());
    }
}
