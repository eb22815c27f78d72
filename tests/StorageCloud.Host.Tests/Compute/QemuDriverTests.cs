using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using StorageCloud.Tests;

namespace StorageCloud.Host.Tests.Compute;

/// <summary>An appliance whose compute service runs servers under QEMU, with a short ACPI power-off wait (the test guest ignores ACPI).</summary>
public sealed class QemuCloudFixture : CloudFixture
{
    protected override IReadOnlyDictionary<string, string> ExtraEnvironment => new Dictionary<string, string>
    {
        ["STORAGECLOUD__Compute__Driver"] = "qemu",
        ["STORAGECLOUD__Compute__ShutdownTimeout"] = "1",
        ["STORAGECLOUD__Compute__QemuAccelerator"] = "tcg",
    };
}

/// <summary>
/// The qemu driver with a real qemu-system-x86_64 (KVM when the machine has it, else TCG) booting a guest made here:
/// a boot sector that copies itself to the disk's second sector through the BIOS, then writes a line to the serial
/// port and halts. So the guest's disk really is the root disk's NBD export, its serial port the console log, and
/// the API's states follow the QEMU process: pause and reboot through QMP, stop ends the process, a killed process
/// makes the server SHUTOFF, a volume or an interface attached to a running guest is plugged in, delete leaves no
/// process or disk.
/// </summary>
public sealed class QemuDriverTests(QemuCloudFixture cloud) : IClassFixture<QemuCloudFixture>
{
    private const string Latest = "compute 2.79";
    private const string Greeting = "StorageCloud test guest up";

    /// <summary>The boot sector: int 13h writes 0x7C00 (itself) to sector 2, then the greeting goes out on COM1, then cli; hlt.</summary>
    private static byte[] GuestImage()
    {
        var code = Convert.FromHexString("31C08ED88EC0BB007CB80103B90200B600CD13FCBE267CAC08C07406BAF803EEEBF5FAF4EBFD");
        var image = new byte[1 << 20];
        code.CopyTo(image, 0);
        Encoding.ASCII.GetBytes(Greeting + "\r\n\0").CopyTo(image, 0x26);
        (image[510], image[511]) = (0x55, 0xAA);
        return image;
    }

    private async Task<JsonNode> CallAsync(string baseUrl, string token, HttpMethod method, string path, JsonObject? body = null,
        HttpStatusCode expected = HttpStatusCode.OK, string? version = Latest)
    {
        var (status, reply) = await cloud.SendToAsync(baseUrl, method, path, token, body, version);
        Assert.True(status == expected, $"{method} {path}: {(int)status} {reply?.ToJsonString()}");
        return reply ?? new JsonObject();
    }

    private Task<JsonNode> ActionAsync(string token, string id, JsonObject action, HttpStatusCode expected = HttpStatusCode.Accepted) =>
        CallAsync(cloud.ComputeUrl, token, HttpMethod.Post, $"/v2.1/servers/{id}/action", action, expected);

    private async Task<JsonNode> WaitAsync(string token, string id, string status, int power)
    {
        JsonNode server = new JsonObject();
        for (var i = 0; i < 600; i++)
        {
            server = (await CallAsync(cloud.ComputeUrl, token, HttpMethod.Get, $"/v2.1/servers/{id}"))["server"]!;
            Assert.True(server["status"]!.GetValue<string>() != "ERROR", server.ToJsonString());
            if (server["status"]!.GetValue<string>() == status && server["OS-EXT-STS:power_state"]!.GetValue<int>() == power
                && server["OS-EXT-STS:task_state"] is null) return server;
            await Task.Delay(100);
        }
        throw new TimeoutException($"server {id} did not become {status}: {server.ToJsonString()}");
    }

    /// <summary>Waits until the console output has the greeting <paramref name="times"/> times (each boot prints it once).</summary>
    private async Task WaitForBootsAsync(string token, string id, int times)
    {
        var output = "";
        for (var i = 0; i < 600; i++)
        {
            output = (await ActionAsync(token, id, new JsonObject { ["os-getConsoleOutput"] = new JsonObject() }, HttpStatusCode.OK))["output"]!.GetValue<string>();
            var count = output.Split(Greeting).Length - 1;
            Assert.True(count <= times, output);
            if (count == times) return;
            await Task.Delay(100);
        }
        throw new TimeoutException($"the guest did not boot {times} times: {output}");
    }

    private string InstanceDir(string id) => Path.Combine(cloud.DataDir, "compute", "instances", id);

    private int? QemuPid(string id)
    {
        var file = Path.Combine(InstanceDir(id), "qemu.pid");
        if (!File.Exists(file) || !int.TryParse(File.ReadAllText(file).Trim(), out var pid)) return null;
        return File.Exists($"/proc/{pid}/cmdline") && File.ReadAllText($"/proc/{pid}/cmdline").Contains("qemu-system-x86_64") ? pid : null;
    }

    /// <summary>Asks the guest's QEMU one QMP question, as an operator would with the socket.</summary>
    private async Task<JsonNode?> QmpAsync(string id, string command)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(Path.Combine(InstanceDir(id), "qmp.sock")));
        await using var stream = new NetworkStream(socket);
        using var reader = new StreamReader(stream);
        await reader.ReadLineAsync();
        foreach (var execute in new[] { "qmp_capabilities", command })
        {
            await stream.WriteAsync(Encoding.UTF8.GetBytes($"{{\"execute\":\"{execute}\"}}\n"));
            while (true)
            {
                var reply = JsonNode.Parse((await reader.ReadLineAsync())!)!;
                if (reply["event"] is not null) continue;
                if (execute == command) return reply["return"];
                break;
            }
        }
        return null;
    }

    [Fact]
    public async Task A_server_is_a_QEMU_guest_on_its_NBD_disks_whose_power_the_API_reports()
    {
        Assert.True(File.Exists("/usr/bin/qemu-system-x86_64"), "qemu-system-x86_64 is missing: deploy/test.sh installs Debian's qemu-system-x86");
        var (token, project) = cloud.A;
        var (admin, _) = cloud.Admin;
        var flavor = (await CallAsync(cloud.ComputeUrl, admin, HttpMethod.Post, "/v2.1/flavors", new JsonObject
        {
            ["flavor"] = new JsonObject { ["name"] = "qemu-tiny", ["ram"] = 64, ["vcpus"] = 1, ["disk"] = 0 },
        }))["flavor"]!["id"]!.GetValue<string>();
        var data = GuestImage();
        var image = await cloud.ImageAsync(token, data, "boot-sector");
        var id = (await CallAsync(cloud.ComputeUrl, token, HttpMethod.Post, "/v2.1/servers", new JsonObject
        {
            ["server"] = new JsonObject { ["name"] = "guest", ["flavorRef"] = flavor, ["imageRef"] = image, ["networks"] = "none" },
        }, HttpStatusCode.Accepted))["server"]!["id"]!.GetValue<string>();
        await WaitAsync(token, id, "ACTIVE", 1);
        await WaitForBootsAsync(token, id, 1);
        Assert.NotNull(QemuPid(id));
        Assert.Equal("running", (await QmpAsync(id, "query-status"))!["status"]!.GetValue<string>());

        // The guest wrote its boot sector to the second sector of its root disk: the block store has it.
        var disks = (await CallAsync(cloud.VolumeUrl, token, HttpMethod.Get, $"/v3/{project}/os-instance-disks?instance_uuid={id}", version: null))["disks"]!.AsArray();
        var root = disks.Single(d => d!["kind"]!.GetValue<string>() == "root")!["id"]!.GetValue<string>();
        await using (var nbd = await NbdTestClient.OpenAsync(new IPEndPoint(IPAddress.Loopback, cloud.NbdPort), root))
            Assert.Equal(data.AsSpan(0, 512).ToArray(), await nbd.ReadBlockAsync(1, 512, 512));

        await ActionAsync(token, id, new JsonObject { ["pause"] = null });
        await WaitAsync(token, id, "PAUSED", 3);
        Assert.Equal("paused", (await QmpAsync(id, "query-status"))!["status"]!.GetValue<string>());
        await ActionAsync(token, id, new JsonObject { ["unpause"] = null });
        await WaitAsync(token, id, "ACTIVE", 1);
        Assert.Equal("running", (await QmpAsync(id, "query-status"))!["status"]!.GetValue<string>());

        await ActionAsync(token, id, new JsonObject { ["reboot"] = new JsonObject { ["type"] = "HARD" } });
        await WaitForBootsAsync(token, id, 2);

        // Stop ends the process (after the ACPI wait the guest ignores); start boots it again with the console kept.
        var pid = QemuPid(id)!.Value;
        await ActionAsync(token, id, new JsonObject { ["os-stop"] = null });
        await WaitAsync(token, id, "SHUTOFF", 4);
        Assert.Null(QemuPid(id));
        Assert.False(File.Exists($"/proc/{pid}/cmdline") && File.ReadAllText($"/proc/{pid}/cmdline").Contains("qemu-system"));
        await ActionAsync(token, id, new JsonObject { ["os-start"] = null });
        await WaitAsync(token, id, "ACTIVE", 1);
        await WaitForBootsAsync(token, id, 3);

        // A volume attached to the running guest is plugged into it, reading its NBD export.
        var volume = (await CallAsync(cloud.VolumeUrl, token, HttpMethod.Post, $"/v3/{project}/volumes",
            new JsonObject { ["volume"] = new JsonObject { ["size"] = 1, ["name"] = "hotplug" } }, HttpStatusCode.Accepted, null))["volume"]!["id"]!.GetValue<string>();
        for (var i = 0; i < 100 && (await CallAsync(cloud.VolumeUrl, token, HttpMethod.Get, $"/v3/{project}/volumes/{volume}", version: null))["volume"]!["status"]!.GetValue<string>() != "available"; i++)
            await Task.Delay(100);
        await CallAsync(cloud.ComputeUrl, token, HttpMethod.Post, $"/v2.1/servers/{id}/os-volume_attachments",
            new JsonObject { ["volumeAttachment"] = new JsonObject { ["volumeId"] = volume } });
        var blocks = (await QmpAsync(id, "query-block"))!.AsArray();
        Assert.Contains(blocks, b => b!["inserted"]?["file"]?.GetValue<string>().EndsWith("/" + volume) == true);
        Assert.Contains(blocks, b => b!["inserted"]?["file"]?.GetValue<string>().EndsWith("/" + root) == true);

        // So is a network interface, with its port's MAC.
        var (_, network) = await cloud.SendToAsync(cloud.NetworkUrl, HttpMethod.Post, "/v2.0/networks", token, new JsonObject { ["network"] = new JsonObject { ["name"] = "guest-net" } });
        var networkId = network!["network"]!["id"]!.GetValue<string>();
        await cloud.SendToAsync(cloud.NetworkUrl, HttpMethod.Post, "/v2.0/subnets", token,
            new JsonObject { ["subnet"] = new JsonObject { ["network_id"] = networkId, ["cidr"] = "10.77.0.0/24", ["ip_version"] = 4 } });
        var nic = (await CallAsync(cloud.ComputeUrl, token, HttpMethod.Post, $"/v2.1/servers/{id}/os-interface",
            new JsonObject { ["interfaceAttachment"] = new JsonObject { ["net_id"] = networkId } }))["interfaceAttachment"]!;
        var pci = (await QmpAsync(id, "query-pci"))![0]!["devices"]!.AsArray();
        Assert.Contains(pci, d => d!["qdev_id"]?.GetValue<string>() == "port-" + nic["port_id"]!.GetValue<string>());

        // A guest that dies is SHUTOFF without anyone asking.
        using (var process = Process.GetProcessById(QemuPid(id)!.Value)) process.Kill();
        await WaitAsync(token, id, "SHUTOFF", 4);

        await CallAsync(cloud.ComputeUrl, token, HttpMethod.Delete, $"/v2.1/servers/{id}", expected: HttpStatusCode.NoContent);
        Assert.Null(QemuPid(id));
        Assert.False(Directory.Exists(InstanceDir(id)));
        Assert.Empty((await CallAsync(cloud.VolumeUrl, token, HttpMethod.Get, $"/v3/{project}/os-instance-disks?instance_uuid={id}", version: null))["disks"]!.AsArray());
        Assert.Equal("available", (await CallAsync(cloud.VolumeUrl, token, HttpMethod.Get, $"/v3/{project}/volumes/{volume}", version: null))["volume"]!["status"]!.GetValue<string>());
    }
}
