using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json.Nodes;

namespace StorageCloud.Host.Tests.Compute;

/// <summary>
/// The Nova v2.1 API over real HTTP on the all-in-one appliance, with the fake driver: servers built with ports from
/// the network service and gone with them, Nova's 400s for bad requests and 403 for quotas, the action state machine
/// with its 409s and locks, key pairs imported and generated, private flavors, microversioned shapes, and volumes
/// attached through the volume service; another project sees none of it.
/// </summary>
public sealed class NovaApiTests(CloudFixture cloud) : IClassFixture<CloudFixture>
{
    private const string Latest = "compute 2.79";

    private async Task<JsonNode> CallAsync(string token, HttpMethod method, string path, JsonObject? body = null, HttpStatusCode expected = HttpStatusCode.OK,
        string version = Latest)
    {
        var (status, reply) = await cloud.SendToAsync(cloud.ComputeUrl, method, "/v2.1" + path, token, body, version);
        Assert.True(status == expected, $"{method} {path}: {(int)status} {reply?.ToJsonString()}");
        return reply ?? new JsonObject();
    }

    private async Task<string> NetworkAsync(string token, string cidr)
    {
        var (_, network) = await cloud.SendToAsync(cloud.NetworkUrl, HttpMethod.Post, "/v2.0/networks", token, new JsonObject { ["network"] = new JsonObject { ["name"] = "net-" + cidr } });
        var id = network!["network"]!["id"]!.GetValue<string>();
        var (status, _) = await cloud.SendToAsync(cloud.NetworkUrl, HttpMethod.Post, "/v2.0/subnets", token,
            new JsonObject { ["subnet"] = new JsonObject { ["network_id"] = id, ["cidr"] = cidr, ["ip_version"] = 4 } });
        Assert.Equal(HttpStatusCode.Created, status);
        return id;
    }

    private async Task<string> ImageAsync(string token)
    {
        var (_, image) = await cloud.SendToAsync(cloud.ImageUrl, HttpMethod.Post, "/v2/images", token,
            new JsonObject { ["name"] = "boot", ["disk_format"] = "raw", ["container_format"] = "bare" });
        var id = image!["id"]!.GetValue<string>();
        using var request = new HttpRequestMessage(HttpMethod.Put, $"{cloud.ImageUrl}/v2/images/{id}/file") { Content = new ByteArrayContent(new byte[1 << 20]) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        request.Headers.Add("X-Auth-Token", token);
        using var response = await cloud.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        return id;
    }

    private async Task<JsonNode> WaitAsync(string token, string id, string status)
    {
        for (var i = 0; i < 200; i++)
        {
            var server = (await CallAsync(token, HttpMethod.Get, $"/servers/{id}"))["server"]!;
            if (server["status"]!.GetValue<string>() == status) return server;
            Assert.NotEqual("ERROR", server["status"]!.GetValue<string>());
            await Task.Delay(100);
        }
        throw new TimeoutException($"server {id} never became {status}");
    }

    private async Task<string> BootAsync(string token, string image, string? network, string name = "vm")
    {
        var server = new JsonObject { ["name"] = name, ["flavorRef"] = "1", ["imageRef"] = image, ["networks"] = network is null ? "none" : new JsonArray(new JsonObject { ["uuid"] = network }) };
        var created = await CallAsync(token, HttpMethod.Post, "/servers", new JsonObject { ["server"] = server }, HttpStatusCode.Accepted);
        Assert.False(string.IsNullOrEmpty(created["server"]!["adminPass"]!.GetValue<string>()));
        var id = created["server"]!["id"]!.GetValue<string>();
        await WaitAsync(token, id, "ACTIVE");
        return id;
    }

    private Task<JsonNode> ActionAsync(string token, string id, JsonObject action, HttpStatusCode expected = HttpStatusCode.Accepted) =>
        CallAsync(token, HttpMethod.Post, $"/servers/{id}/action", action, expected);

    [Fact]
    public async Task A_server_gets_a_port_that_goes_with_it_and_other_projects_never_see_it()
    {
        var (token, project) = cloud.A;
        var network = await NetworkAsync(token, "10.20.0.0/24");
        var image = await ImageAsync(token);
        var id = await BootAsync(token, image, network, "web");
        var server = (await CallAsync(token, HttpMethod.Get, $"/servers/{id}"))["server"]!;
        var address = server["addresses"]!["net-10.20.0.0/24"]![0]!;
        Assert.StartsWith("10.20.0.", address["addr"]!.GetValue<string>());
        Assert.Equal("fixed", address["OS-EXT-IPS:type"]!.GetValue<string>());
        Assert.Equal(project, server["tenant_id"]!.GetValue<string>());
        Assert.Equal(1, server["flavor"]!["vcpus"]!.GetValue<int>());
        var (_, ports) = await cloud.SendToAsync(cloud.NetworkUrl, HttpMethod.Get, $"/v2.0/ports?device_id={id}", token);
        Assert.Equal("compute:nova", ports!["ports"]![0]!["device_owner"]!.GetValue<string>());

        // Another project: 404 and an empty list; an admin sees it with all_tenants.
        await CallAsync(cloud.B.Token, HttpMethod.Get, $"/servers/{id}", expected: HttpStatusCode.NotFound);
        await CallAsync(cloud.B.Token, HttpMethod.Delete, $"/servers/{id}", expected: HttpStatusCode.NotFound);
        Assert.Empty((await CallAsync(cloud.B.Token, HttpMethod.Get, "/servers"))["servers"]!.AsArray());
        Assert.Contains((await CallAsync(cloud.Admin.Token, HttpMethod.Get, "/servers/detail?all_tenants=1"))["servers"]!.AsArray(), s => s!["id"]!.GetValue<string>() == id);
        Assert.Single((await CallAsync(token, HttpMethod.Get, "/servers?name=^we"))["servers"]!.AsArray());
        Assert.Empty((await CallAsync(token, HttpMethod.Get, "/servers?status=SHUTOFF"))["servers"]!.AsArray());

        // Usage: the project's report holds the server, another project's is refused to a member.
        var usage = (await CallAsync(token, HttpMethod.Get, $"/os-simple-tenant-usage/{project}"))["tenant_usage"]!;
        Assert.Contains(usage["server_usages"]!.AsArray(), u => u!["instance_id"]!.GetValue<string>() == id && u["flavor"]!.GetValue<string>() == "m1.tiny");
        Assert.True(usage["total_hours"]!.GetValue<double>() > 0);
        await CallAsync(cloud.B.Token, HttpMethod.Get, $"/os-simple-tenant-usage/{project}", expected: HttpStatusCode.Forbidden);
        await CallAsync(token, HttpMethod.Get, "/os-simple-tenant-usage", expected: HttpStatusCode.Forbidden);

        var before = DateTimeOffset.UtcNow.AddSeconds(-5).ToString("yyyy-MM-ddTHH:mm:ssZ");
        await CallAsync(token, HttpMethod.Delete, $"/servers/{id}", expected: HttpStatusCode.NoContent);
        await CallAsync(token, HttpMethod.Get, $"/servers/{id}", expected: HttpStatusCode.NotFound);
        (_, ports) = await cloud.SendToAsync(cloud.NetworkUrl, HttpMethod.Get, $"/v2.0/ports?device_id={id}", token);
        Assert.Empty(ports!["ports"]!.AsArray());
        var changed = (await CallAsync(token, HttpMethod.Get, $"/servers/detail?changes-since={before}"))["servers"]!.AsArray();
        Assert.Equal("DELETED", changed.Single(s => s!["id"]!.GetValue<string>() == id)!["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task Interfaces_attach_from_a_network_or_a_port_and_detach_as_novas_do()
    {
        var (token, _) = cloud.A;
        var first = await NetworkAsync(token, "10.30.0.0/24");
        var second = await NetworkAsync(token, "10.31.0.0/24");
        var id = await BootAsync(token, await ImageAsync(token), first, "nics");
        Assert.Single((await CallAsync(token, HttpMethod.Get, $"/servers/{id}/os-interface"))["interfaceAttachments"]!.AsArray());

        // From a network with a fixed IP: a port made for the server, shown in its addresses.
        var made = (await CallAsync(token, HttpMethod.Post, $"/servers/{id}/os-interface", new JsonObject
        {
            ["interfaceAttachment"] = new JsonObject { ["net_id"] = second, ["fixed_ips"] = new JsonArray(new JsonObject { ["ip_address"] = "10.31.0.9" }), ["tag"] = "data" },
        }))["interfaceAttachment"]!;
        Assert.Equal(second, made["net_id"]!.GetValue<string>());
        Assert.Equal("10.31.0.9", made["fixed_ips"]![0]!["ip_address"]!.GetValue<string>());
        Assert.Equal("data", made["tag"]!.GetValue<string>());
        var madePort = made["port_id"]!.GetValue<string>();
        var server = (await CallAsync(token, HttpMethod.Get, $"/servers/{id}"))["server"]!;
        Assert.Equal("10.31.0.9", server["addresses"]!["net-10.31.0.0/24"]![0]!["addr"]!.GetValue<string>());
        Assert.Equal(made["mac_addr"]!.GetValue<string>(), server["addresses"]!["net-10.31.0.0/24"]![0]!["OS-EXT-IPS-MAC:mac_addr"]!.GetValue<string>());

        // A port of the project's own: given to the server, in use after, released (not deleted) on detach.
        var (_, portBody) = await cloud.SendToAsync(cloud.NetworkUrl, HttpMethod.Post, "/v2.0/ports", token, new JsonObject { ["port"] = new JsonObject { ["network_id"] = second } });
        var given = portBody!["port"]!["id"]!.GetValue<string>();
        await CallAsync(token, HttpMethod.Post, $"/servers/{id}/os-interface", new JsonObject { ["interfaceAttachment"] = new JsonObject { ["port_id"] = given } });
        Assert.Equal(3, (await CallAsync(token, HttpMethod.Get, $"/servers/{id}/os-interface"))["interfaceAttachments"]!.AsArray().Count);
        Assert.Equal(given, (await CallAsync(token, HttpMethod.Get, $"/servers/{id}/os-interface/{given}"))["interfaceAttachment"]!["port_id"]!.GetValue<string>());

        // Nova's refusals.
        await CallAsync(token, HttpMethod.Post, $"/servers/{id}/os-interface", new JsonObject { ["interfaceAttachment"] = new JsonObject { ["port_id"] = given } }, HttpStatusCode.Conflict);
        await CallAsync(token, HttpMethod.Post, $"/servers/{id}/os-interface", new JsonObject { ["interfaceAttachment"] = new JsonObject { ["port_id"] = Guid.NewGuid().ToString() } }, HttpStatusCode.NotFound);
        await CallAsync(token, HttpMethod.Post, $"/servers/{id}/os-interface", new JsonObject { ["interfaceAttachment"] = new JsonObject { ["net_id"] = Guid.NewGuid().ToString() } }, HttpStatusCode.NotFound);
        await CallAsync(token, HttpMethod.Post, $"/servers/{id}/os-interface", new JsonObject { ["interfaceAttachment"] = new JsonObject { ["net_id"] = second, ["port_id"] = given } }, HttpStatusCode.BadRequest);
        await CallAsync(token, HttpMethod.Post, $"/servers/{id}/os-interface",
            new JsonObject { ["interfaceAttachment"] = new JsonObject { ["fixed_ips"] = new JsonArray(new JsonObject { ["ip_address"] = "10.31.0.10" }) } }, HttpStatusCode.BadRequest);
        await CallAsync(token, HttpMethod.Post, $"/servers/{id}/os-interface", new JsonObject { ["interfaceAttachment"] = new JsonObject { ["bogus"] = 1 } }, HttpStatusCode.BadRequest);
        await CallAsync(token, HttpMethod.Delete, $"/servers/{id}/os-interface/{Guid.NewGuid()}", expected: HttpStatusCode.NotFound);
        await CallAsync(cloud.B.Token, HttpMethod.Get, $"/servers/{id}/os-interface", expected: HttpStatusCode.NotFound);
        await CallAsync(cloud.B.Token, HttpMethod.Post, $"/servers/{id}/os-interface", new JsonObject { ["interfaceAttachment"] = new JsonObject { ["net_id"] = second } }, HttpStatusCode.NotFound);
        await CallAsync(cloud.B.Token, HttpMethod.Delete, $"/servers/{id}/os-interface/{given}", expected: HttpStatusCode.NotFound);
        await ActionAsync(token, id, new JsonObject { ["suspend"] = null });
        await CallAsync(token, HttpMethod.Delete, $"/servers/{id}/os-interface/{given}", expected: HttpStatusCode.Conflict);
        await ActionAsync(token, id, new JsonObject { ["resume"] = null });

        await CallAsync(token, HttpMethod.Delete, $"/servers/{id}/os-interface/{given}", expected: HttpStatusCode.Accepted);
        var (_, released) = await cloud.SendToAsync(cloud.NetworkUrl, HttpMethod.Get, $"/v2.0/ports/{given}", token);
        Assert.Equal("", released!["port"]!["device_id"]!.GetValue<string>());
        await CallAsync(token, HttpMethod.Delete, $"/servers/{id}/os-interface/{madePort}", expected: HttpStatusCode.Accepted);
        var (gone, _) = await cloud.SendToAsync(cloud.NetworkUrl, HttpMethod.Get, $"/v2.0/ports/{madePort}", token);
        Assert.Equal(HttpStatusCode.NotFound, gone);
        Assert.Single((await CallAsync(token, HttpMethod.Get, $"/servers/{id}/os-interface"))["interfaceAttachments"]!.AsArray());
        var actions = (await CallAsync(token, HttpMethod.Get, $"/servers/{id}/os-instance-actions"))["instanceActions"]!.AsArray().Select(a => a!["action"]!.GetValue<string>()).ToList();
        Assert.Equal(2, actions.Count(a => a == "attach_interface"));
        Assert.Equal(2, actions.Count(a => a == "detach_interface"));
        await CallAsync(token, HttpMethod.Delete, $"/servers/{id}", expected: HttpStatusCode.NoContent);
    }

    [Fact]
    public async Task Bad_requests_get_novas_errors_and_quotas_are_kept()
    {
        var (token, project) = cloud.A;
        var image = await ImageAsync(token);
        async Task<string> Refused(JsonObject server, HttpStatusCode expected = HttpStatusCode.BadRequest)
        {
            var reply = await CallAsync(token, HttpMethod.Post, "/servers", new JsonObject { ["server"] = server }, expected);
            return reply.AsObject().First().Value!["message"]!.GetValue<string>();
        }
        JsonObject Good() => new() { ["name"] = "x", ["flavorRef"] = "1", ["imageRef"] = image, ["networks"] = "none" };
        var noFlavor = Good();
        noFlavor.Remove("flavorRef");
        Assert.Contains("flavorRef", await Refused(noFlavor));
        var server = Good();
        server["flavorRef"] = "nope";
        Assert.Contains("Flavor nope could not be found", await Refused(server));
        server = Good();
        server["imageRef"] = Guid.NewGuid().ToString();
        Assert.Contains("could not be found", await Refused(server));
        server = Good();
        server["networks"] = new JsonArray(new JsonObject { ["uuid"] = Guid.NewGuid().ToString() });
        Assert.Contains("could not be found", await Refused(server));
        server = Good();
        server["key_name"] = "missing";
        Assert.Equal("Invalid key_name provided.", await Refused(server));
        server = Good();
        server["user_data"] = "not base64!";
        Assert.Contains("base 64", await Refused(server));
        server = Good();
        server["availability_zone"] = "elsewhere";
        Assert.Contains("availability zone", await Refused(server));
        server = Good();
        server["name"] = " padded";
        await Refused(server);
        var bad = await CallAsync(token, HttpMethod.Post, "/servers", new JsonObject { ["server"] = Good() }, HttpStatusCode.NotAcceptable, "compute 2.200");
        Assert.Equal(406, bad["computeFault"]?["code"]?.GetValue<int>() ?? bad.AsObject().First().Value!["code"]!.GetValue<int>());

        // Instances quota of 1: the second server is refused with 403, and a member may not raise it.
        await CallAsync(token, HttpMethod.Put, $"/os-quota-sets/{project}", new JsonObject { ["quota_set"] = new JsonObject { ["instances"] = 1 } }, HttpStatusCode.Forbidden);
        await CallAsync(cloud.Admin.Token, HttpMethod.Put, $"/os-quota-sets/{project}", new JsonObject { ["quota_set"] = new JsonObject { ["instances"] = 1 } });
        try
        {
            var id = await BootAsync(token, image, null, "only");
            Assert.Contains("Quota exceeded for instances", await Refused(Good(), HttpStatusCode.Forbidden));
            var limits = (await CallAsync(token, HttpMethod.Get, "/limits"))["limits"]!["absolute"]!;
            Assert.Equal(1, limits["maxTotalInstances"]!.GetValue<int>());
            Assert.Equal(1, limits["totalInstancesUsed"]!.GetValue<int>());
            await CallAsync(token, HttpMethod.Delete, $"/servers/{id}", expected: HttpStatusCode.NoContent);
        }
        finally
        {
            await CallAsync(cloud.Admin.Token, HttpMethod.Delete, $"/os-quota-sets/{project}", expected: HttpStatusCode.Accepted);
        }
    }

    [Fact]
    public async Task Actions_follow_novas_state_machine_and_locks_hold()
    {
        var token = cloud.A.Token;
        var id = await BootAsync(token, await ImageAsync(token), null, "states");
        async Task<string> Status() => (await CallAsync(token, HttpMethod.Get, $"/servers/{id}"))["server"]!["status"]!.GetValue<string>();
        await ActionAsync(token, id, new JsonObject { ["os-stop"] = null });
        Assert.Equal("SHUTOFF", await Status());
        await ActionAsync(token, id, new JsonObject { ["os-stop"] = null }, HttpStatusCode.Conflict);
        await ActionAsync(token, id, new JsonObject { ["pause"] = null }, HttpStatusCode.Conflict);
        await ActionAsync(token, id, new JsonObject { ["os-start"] = null });
        await ActionAsync(token, id, new JsonObject { ["pause"] = null });
        Assert.Equal("PAUSED", await Status());
        await ActionAsync(token, id, new JsonObject { ["unpause"] = null });
        await ActionAsync(token, id, new JsonObject { ["suspend"] = null });
        Assert.Equal("SUSPENDED", await Status());
        await ActionAsync(token, id, new JsonObject { ["reboot"] = new JsonObject { ["type"] = "SOFT" } }, HttpStatusCode.Conflict);
        await ActionAsync(token, id, new JsonObject { ["reboot"] = new JsonObject { ["type"] = "HARD" } });
        Assert.Equal("ACTIVE", await Status());
        await ActionAsync(token, id, new JsonObject { ["reboot"] = new JsonObject { ["type"] = "sideways" } }, HttpStatusCode.BadRequest);
        await ActionAsync(token, id, new JsonObject { ["fly"] = null }, HttpStatusCode.BadRequest);

        // Resize to m1.small, confirm; again to m1.medium and revert.
        await ActionAsync(token, id, new JsonObject { ["resize"] = new JsonObject { ["flavorRef"] = "1" } }, HttpStatusCode.BadRequest);
        await ActionAsync(token, id, new JsonObject { ["resize"] = new JsonObject { ["flavorRef"] = "2" } });
        Assert.Equal("VERIFY_RESIZE", await Status());
        await ActionAsync(token, id, new JsonObject { ["confirmResize"] = null }, HttpStatusCode.NoContent);
        await ActionAsync(token, id, new JsonObject { ["resize"] = new JsonObject { ["flavorRef"] = "3" } });
        await ActionAsync(token, id, new JsonObject { ["revertResize"] = null });
        var server = (await CallAsync(token, HttpMethod.Get, $"/servers/{id}"))["server"]!;
        Assert.Equal("ACTIVE", server["status"]!.GetValue<string>());
        Assert.Equal("m1.small", server["flavor"]!["original_name"]!.GetValue<string>());
        Assert.Equal("2", (await CallAsync(token, HttpMethod.Get, $"/servers/{id}", version: "compute 2.46"))["server"]!["flavor"]!["id"]!.GetValue<string>());

        // Locked: the member's own actions and delete are refused until unlock; an admin may act.
        await ActionAsync(token, id, new JsonObject { ["lock"] = new JsonObject { ["locked_reason"] = "maintenance" } });
        server = (await CallAsync(token, HttpMethod.Get, $"/servers/{id}"))["server"]!;
        Assert.True(server["locked"]!.GetValue<bool>());
        Assert.Equal("maintenance", server["locked_reason"]!.GetValue<string>());
        await ActionAsync(token, id, new JsonObject { ["os-stop"] = null }, HttpStatusCode.Conflict);
        await CallAsync(token, HttpMethod.Delete, $"/servers/{id}", expected: HttpStatusCode.Conflict);
        await ActionAsync(cloud.Admin.Token, id, new JsonObject { ["os-stop"] = null });
        await ActionAsync(token, id, new JsonObject { ["unlock"] = null });

        var console = await ActionAsync(token, id, new JsonObject { ["os-getConsoleOutput"] = new JsonObject { ["length"] = 1 } }, HttpStatusCode.OK);
        Assert.Single(console["output"]!.GetValue<string>().TrimEnd('\n').Split('\n'));
        var actions = (await CallAsync(token, HttpMethod.Get, $"/servers/{id}/os-instance-actions"))["instanceActions"]!.AsArray().Select(a => a!["action"]!.GetValue<string>()).ToList();
        Assert.Equal(["unlock", "stop", "lock", "revertResize", "resize", "confirmResize", "resize", "reboot", "suspend", "unpause", "pause", "start", "stop", "create"], actions);

        // Metadata and tags.
        await CallAsync(token, HttpMethod.Put, $"/servers/{id}/metadata", new JsonObject { ["metadata"] = new JsonObject { ["role"] = "db" } });
        Assert.Equal("db", (await CallAsync(token, HttpMethod.Get, $"/servers/{id}/metadata/role"))["meta"]!["role"]!.GetValue<string>());
        await CallAsync(token, HttpMethod.Put, $"/servers/{id}/tags/blue", expected: HttpStatusCode.Created);
        Assert.Single((await CallAsync(token, HttpMethod.Get, "/servers?tags=blue"))["servers"]!.AsArray());
        await CallAsync(token, HttpMethod.Delete, $"/servers/{id}", expected: HttpStatusCode.NoContent);
    }

    [Fact]
    public async Task Key_pairs_are_imported_with_their_fingerprint_or_generated_and_stay_their_users()
    {
        var token = cloud.A.Token;
        using var rsa = RSA.Create(2048);
        var p = rsa.ExportParameters(false);
        var blob = new List<byte>();
        void Put(byte[] data)
        {
            blob.AddRange(BitConverter.GetBytes(System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(data.Length)));
            blob.AddRange(data);
        }
        Put("ssh-rsa"u8.ToArray());
        Put(p.Exponent!);
        Put(p.Modulus![0] >= 0x80 ? [0, .. p.Modulus] : p.Modulus);
        var line = "ssh-rsa " + Convert.ToBase64String(blob.ToArray()) + " me@host";
        var expected = string.Join(':', Convert.ToHexStringLower(MD5.HashData(blob.ToArray())).Chunk(2).Select(c => new string(c)));

        var imported = (await CallAsync(token, HttpMethod.Post, "/os-keypairs", new JsonObject { ["keypair"] = new JsonObject { ["name"] = "mine", ["public_key"] = line } }, HttpStatusCode.Created))["keypair"]!;
        Assert.Equal(expected, imported["fingerprint"]!.GetValue<string>());
        Assert.Null(imported["private_key"]);
        await CallAsync(token, HttpMethod.Post, "/os-keypairs", new JsonObject { ["keypair"] = new JsonObject { ["name"] = "mine", ["public_key"] = line } }, HttpStatusCode.Conflict);
        await CallAsync(token, HttpMethod.Post, "/os-keypairs", new JsonObject { ["keypair"] = new JsonObject { ["name"] = "bad", ["public_key"] = "ssh-rsa AAAAnot-a-key" } }, HttpStatusCode.BadRequest);
        await CallAsync(token, HttpMethod.Post, "/os-keypairs", new JsonObject { ["keypair"] = new JsonObject { ["name"] = "bad/name", ["public_key"] = line } }, HttpStatusCode.BadRequest);

        var generated = (await CallAsync(token, HttpMethod.Post, "/os-keypairs", new JsonObject { ["keypair"] = new JsonObject { ["name"] = "made" } }, HttpStatusCode.Created))["keypair"]!;
        using var made = RSA.Create();
        made.ImportFromPem(generated["private_key"]!.GetValue<string>());
        Assert.Equal(Convert.ToBase64String(made.ExportParameters(false).Modulus!), Convert.ToBase64String(PublicModulus(generated["public_key"]!.GetValue<string>())));
        Assert.Null((await CallAsync(token, HttpMethod.Get, "/os-keypairs/made"))["keypair"]!["private_key"]);

        Assert.Empty((await CallAsync(cloud.B.Token, HttpMethod.Get, "/os-keypairs"))["keypairs"]!.AsArray());
        await CallAsync(cloud.B.Token, HttpMethod.Get, "/os-keypairs/mine", expected: HttpStatusCode.NotFound);
        Assert.Equal(2, (await CallAsync(token, HttpMethod.Get, "/os-keypairs"))["keypairs"]!.AsArray().Count);
        await CallAsync(token, HttpMethod.Delete, "/os-keypairs/mine", expected: HttpStatusCode.NoContent);
        await CallAsync(token, HttpMethod.Delete, "/os-keypairs/made", expected: HttpStatusCode.NoContent);
    }

    private static byte[] PublicModulus(string line)
    {
        var blob = Convert.FromBase64String(line.Split(' ')[1]);
        var offset = 0;
        byte[] Next()
        {
            var length = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(blob.AsSpan(offset));
            var value = blob.AsSpan(offset + 4, length).ToArray();
            offset += 4 + length;
            return value;
        }
        Next();
        Next();
        var modulus = Next();
        return modulus[0] == 0 ? modulus[1..] : modulus;
    }

    [Fact]
    public async Task Private_flavors_are_seen_only_by_projects_given_access()
    {
        var flavor = new JsonObject { ["flavor"] = new JsonObject { ["name"] = "gold", ["vcpus"] = 2, ["ram"] = 1024, ["disk"] = 5, ["os-flavor-access:is_public"] = false } };
        await CallAsync(cloud.A.Token, HttpMethod.Post, "/flavors", flavor, HttpStatusCode.Forbidden);
        var id = (await CallAsync(cloud.Admin.Token, HttpMethod.Post, "/flavors", flavor))["flavor"]!["id"]!.GetValue<string>();
        await CallAsync(cloud.Admin.Token, HttpMethod.Post, "/flavors", flavor, HttpStatusCode.Conflict);
        Assert.DoesNotContain((await CallAsync(cloud.A.Token, HttpMethod.Get, "/flavors"))["flavors"]!.AsArray(), f => f!["name"]!.GetValue<string>() == "gold");
        await CallAsync(cloud.A.Token, HttpMethod.Get, $"/flavors/{id}", expected: HttpStatusCode.NotFound);
        await CallAsync(cloud.Admin.Token, HttpMethod.Post, $"/flavors/{id}/action", new JsonObject { ["addTenantAccess"] = new JsonObject { ["tenant"] = cloud.A.Project } });
        Assert.Contains((await CallAsync(cloud.A.Token, HttpMethod.Get, "/flavors/detail"))["flavors"]!.AsArray(), f => f!["name"]!.GetValue<string>() == "gold");
        await CallAsync(cloud.B.Token, HttpMethod.Get, $"/flavors/{id}", expected: HttpStatusCode.NotFound);
        await CallAsync(cloud.Admin.Token, HttpMethod.Post, $"/flavors/{id}/os-extra_specs", new JsonObject { ["extra_specs"] = new JsonObject { ["hw:cpu_policy"] = "dedicated" } });
        Assert.Equal("dedicated", (await CallAsync(cloud.A.Token, HttpMethod.Get, $"/flavors/{id}"))["flavor"]!["extra_specs"]!["hw:cpu_policy"]!.GetValue<string>());
        await CallAsync(cloud.Admin.Token, HttpMethod.Delete, $"/flavors/{id}", expected: HttpStatusCode.Accepted);
        await CallAsync(cloud.A.Token, HttpMethod.Get, $"/flavors/{id}", expected: HttpStatusCode.NotFound);
        // A whole-number id is kept as its string; is_public may be a string, as Nova's schema allows.
        var numbered = (await CallAsync(cloud.Admin.Token, HttpMethod.Post, "/flavors", new JsonObject
        {
            ["flavor"] = new JsonObject { ["name"] = "numbered", ["id"] = 4242, ["vcpus"] = 1, ["ram"] = "256", ["disk"] = 1, ["os-flavor-access:is_public"] = "False" },
        }))["flavor"]!;
        Assert.Equal("4242", numbered["id"]!.GetValue<string>());
        Assert.False(numbered["os-flavor-access:is_public"]!.GetValue<bool>());
        Assert.Equal(256, numbered["ram"]!.GetValue<int>());
        await CallAsync(cloud.Admin.Token, HttpMethod.Delete, "/flavors/4242", expected: HttpStatusCode.Accepted);
        var tiny = (await CallAsync(cloud.A.Token, HttpMethod.Get, "/flavors/1", version: "compute 2.1"))["flavor"]!;
        Assert.Equal("", tiny["swap"]!.GetValue<string>());
        Assert.Equal(512, tiny["ram"]!.GetValue<int>());
    }

    [Fact]
    public async Task Volumes_attach_through_the_volume_service_and_follow_the_server()
    {
        var (token, project) = cloud.A;
        var id = await BootAsync(token, await ImageAsync(token), null, "disks");
        async Task<string> NewVolumeAsync()
        {
            var (status, body) = await cloud.SendToAsync(cloud.VolumeUrl, HttpMethod.Post, $"/v3/{project}/volumes", token, new JsonObject { ["volume"] = new JsonObject { ["size"] = 1 } });
            Assert.Equal(HttpStatusCode.Accepted, status);
            return body!["volume"]!["id"]!.GetValue<string>();
        }
        async Task<string> VolumeStatus(string volume)
        {
            var (status, body) = await cloud.SendToAsync(cloud.VolumeUrl, HttpMethod.Get, $"/v3/{project}/volumes/{volume}", token);
            return status == HttpStatusCode.NotFound ? "gone" : body!["volume"]!["status"]!.GetValue<string>();
        }
        var kept = await NewVolumeAsync();
        var dropped = await NewVolumeAsync();
        var attached = (await CallAsync(token, HttpMethod.Post, $"/servers/{id}/os-volume_attachments", new JsonObject { ["volumeAttachment"] = new JsonObject { ["volumeId"] = kept } }))["volumeAttachment"]!;
        Assert.Equal("/dev/vdb", attached["device"]!.GetValue<string>());
        Assert.Equal("in-use", await VolumeStatus(kept));
        await CallAsync(token, HttpMethod.Post, $"/servers/{id}/os-volume_attachments", new JsonObject { ["volumeAttachment"] = new JsonObject { ["volumeId"] = kept } }, HttpStatusCode.BadRequest);
        await CallAsync(cloud.B.Token, HttpMethod.Post, $"/servers/{id}/os-volume_attachments", new JsonObject { ["volumeAttachment"] = new JsonObject { ["volumeId"] = dropped } }, HttpStatusCode.NotFound);
        await CallAsync(token, HttpMethod.Post, $"/servers/{id}/os-volume_attachments",
            new JsonObject { ["volumeAttachment"] = new JsonObject { ["volumeId"] = dropped, ["delete_on_termination"] = true } });
        Assert.Equal(2, (await CallAsync(token, HttpMethod.Get, $"/servers/{id}/os-volume_attachments"))["volumeAttachments"]!.AsArray().Count);
        await CallAsync(token, HttpMethod.Delete, $"/servers/{id}/os-volume_attachments/{kept}", expected: HttpStatusCode.Accepted);
        Assert.Equal("available", await VolumeStatus(kept));
        await CallAsync(token, HttpMethod.Post, $"/servers/{id}/os-volume_attachments", new JsonObject { ["volumeAttachment"] = new JsonObject { ["volumeId"] = kept } });

        // Deleting the server detaches both and deletes the one marked delete_on_termination.
        await CallAsync(token, HttpMethod.Delete, $"/servers/{id}", expected: HttpStatusCode.NoContent);
        Assert.Equal("available", await VolumeStatus(kept));
        for (var i = 0; i < 50 && await VolumeStatus(dropped) != "gone"; i++) await Task.Delay(100);
        Assert.Equal("gone", await VolumeStatus(dropped));
    }
}
