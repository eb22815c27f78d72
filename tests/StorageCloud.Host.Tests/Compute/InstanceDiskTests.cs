using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using StorageCloud.Tests;

namespace StorageCloud.Host.Tests.Compute;

/// <summary>
/// A server's local disks on the block store, over real HTTP and NBD on the all-in-one appliance: the root disk a
/// clone of the image (read back over NBD byte for byte), ephemeral and swap disks of the flavor's sizes, none of them
/// a volume the project sees or counts; no disk beyond the flavor or for another project's server; createImage
/// uploads what the guest wrote; the disks go with the server.
/// </summary>
public sealed class InstanceDiskTests(CloudFixture cloud) : IClassFixture<CloudFixture>
{
    private const string Latest = "compute 2.79";

    private async Task<JsonNode> CallAsync(string baseUrl, string token, HttpMethod method, string path, JsonObject? body = null,
        HttpStatusCode expected = HttpStatusCode.OK, string? version = null)
    {
        var (status, reply) = await cloud.SendToAsync(baseUrl, method, path, token, body, version);
        Assert.True(status == expected, $"{method} {path}: {(int)status} {reply?.ToJsonString()}");
        return reply ?? new JsonObject();
    }

    private async Task<(string Id, byte[] Data)> ImageAsync(string token)
    {
        var data = new byte[3 << 20];
        Random.Shared.NextBytes(data.AsSpan(0, 2 << 20));
        var image = await CallAsync(cloud.ImageUrl, token, HttpMethod.Post, "/v2/images",
            new JsonObject { ["name"] = "disk-source", ["disk_format"] = "raw", ["container_format"] = "bare" }, HttpStatusCode.Created);
        var id = image["id"]!.GetValue<string>();
        using var request = new HttpRequestMessage(HttpMethod.Put, $"{cloud.ImageUrl}/v2/images/{id}/file") { Content = new ByteArrayContent(data) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        request.Headers.Add("X-Auth-Token", token);
        using var response = await cloud.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        return (id, data);
    }

    private async Task<JsonNode> WaitAsync(string token, string id, Func<JsonNode, bool> done)
    {
        for (var i = 0; i < 300; i++)
        {
            var server = (await CallAsync(cloud.ComputeUrl, token, HttpMethod.Get, $"/v2.1/servers/{id}", version: Latest))["server"]!;
            Assert.NotEqual("ERROR", server["status"]!.GetValue<string>());
            if (done(server)) return server;
            await Task.Delay(100);
        }
        throw new TimeoutException($"server {id} did not get there");
    }

    private async Task<JsonArray> DisksAsync(string token, string project, string server) =>
        (await CallAsync(cloud.VolumeUrl, token, HttpMethod.Get, $"/v3/{project}/os-instance-disks?instance_uuid={server}"))["disks"]!.AsArray();

    private async Task<byte[]> ReadAsync(string export, long offset, int length)
    {
        await using var client = await NbdTestClient.OpenAsync(new IPEndPoint(IPAddress.Loopback, cloud.NbdPort), export);
        return await client.ReadBlockAsync(1, (ulong)offset, length);
    }

    [Fact]
    public async Task Local_disks_are_clones_and_blanks_on_the_block_store_that_go_with_the_server()
    {
        var (token, project) = cloud.A;
        var (admin, _) = cloud.Admin;
        var flavor = (await CallAsync(cloud.ComputeUrl, admin, HttpMethod.Post, "/v2.1/flavors", new JsonObject
        {
            ["flavor"] = new JsonObject { ["name"] = "disks", ["ram"] = 128, ["vcpus"] = 1, ["disk"] = 0, ["OS-FLV-EXT-DATA:ephemeral"] = 1, ["swap"] = 64 },
        }))["flavor"]!["id"]!.GetValue<string>();
        var (image, data) = await ImageAsync(token);
        var created = await CallAsync(cloud.ComputeUrl, token, HttpMethod.Post, "/v2.1/servers", new JsonObject
        {
            ["server"] = new JsonObject { ["name"] = "disky", ["flavorRef"] = flavor, ["imageRef"] = image, ["networks"] = "none" },
        }, HttpStatusCode.Accepted, Latest);
        var id = created["server"]!["id"]!.GetValue<string>();
        await WaitAsync(token, id, s => s["status"]!.GetValue<string>() == "ACTIVE");

        var disks = await DisksAsync(token, project, id);
        var byKind = disks.ToDictionary(d => d!["kind"]!.GetValue<string>(), d => d!.AsObject());
        Assert.Equal(3, byKind.Count);
        // A flavor without a root size boots with the image's own size; ephemeral and swap are the flavor's.
        Assert.Equal(data.Length, byKind["root"]["size"]!.GetValue<long>());
        Assert.Equal(1L << 30, byKind["ephemeral"]["size"]!.GetValue<long>());
        Assert.Equal(64L << 20, byKind["swap"]["size"]!.GetValue<long>());
        Assert.Equal(image, byKind["root"]["image_id"]!.GetValue<string>());
        var root = byKind["root"]["id"]!.GetValue<string>();
        Assert.Equal(data.AsSpan(0, 1 << 20).ToArray(), await ReadAsync(root, 0, 1 << 20));
        Assert.Equal(data.AsSpan(2 << 20, 1 << 20).ToArray(), await ReadAsync(root, 2 << 20, 1 << 20));
        Assert.Equal(new byte[4096], await ReadAsync(byKind["ephemeral"]["id"]!.GetValue<string>(), 0, 4096));
        var console = await CallAsync(cloud.ComputeUrl, token, HttpMethod.Post, $"/v2.1/servers/{id}/action", new JsonObject { ["os-getConsoleOutput"] = new JsonObject() });
        Assert.Contains($"/dev/vda: root disk, {data.Length} bytes", console["output"]!.GetValue<string>());

        // Not volumes: the volume API neither lists, shows nor counts them.
        var volumes = await CallAsync(cloud.VolumeUrl, token, HttpMethod.Get, $"/v3/{project}/volumes");
        Assert.DoesNotContain(volumes["volumes"]!.AsArray(), v => disks.Any(d => d!["id"]!.GetValue<string>() == v!["id"]!.GetValue<string>()));
        await CallAsync(cloud.VolumeUrl, token, HttpMethod.Get, $"/v3/{project}/volumes/{root}", expected: HttpStatusCode.NotFound);
        await CallAsync(cloud.VolumeUrl, token, HttpMethod.Delete, $"/v3/{project}/volumes/{root}", expected: HttpStatusCode.NotFound);

        // No disk beyond the flavor, none for a server that is not the caller's, none of another project's shown.
        var more = new JsonObject { ["disk"] = new JsonObject { ["instance_uuid"] = id, ["kind"] = "ephemeral", ["size"] = 1 << 20 } };
        await CallAsync(cloud.VolumeUrl, token, HttpMethod.Post, $"/v3/{project}/os-instance-disks", more, HttpStatusCode.BadRequest);
        more["disk"]!["size"] = long.MaxValue / 512 * 512;
        await CallAsync(cloud.VolumeUrl, token, HttpMethod.Post, $"/v3/{project}/os-instance-disks", more, HttpStatusCode.BadRequest);
        more["disk"]!["size"] = "big";
        await CallAsync(cloud.VolumeUrl, token, HttpMethod.Post, $"/v3/{project}/os-instance-disks", more, HttpStatusCode.BadRequest);
        more["disk"]!["size"] = 1 << 20;
        more["disk"]!["kind"] = "swap";
        await CallAsync(cloud.VolumeUrl, token, HttpMethod.Post, $"/v3/{project}/os-instance-disks", more, HttpStatusCode.Conflict);
        var (other, otherProject) = cloud.B;
        more["disk"]!["kind"] = "ephemeral";
        await CallAsync(cloud.VolumeUrl, other, HttpMethod.Post, $"/v3/{otherProject}/os-instance-disks", more, HttpStatusCode.NotFound);
        Assert.Empty(await DisksAsync(other, otherProject, id));
        await CallAsync(cloud.VolumeUrl, other, HttpMethod.Delete, $"/v3/{otherProject}/os-instance-disks/{root}", expected: HttpStatusCode.NotFound);
        await CallAsync(cloud.VolumeUrl, token, HttpMethod.Post, $"/v3/{project}/os-instance-disks",
            new JsonObject { ["disk"] = new JsonObject { ["instance_uuid"] = Guid.NewGuid().ToString(), ["kind"] = "root", ["size"] = 1 << 20 } }, HttpStatusCode.NotFound);

        // What the guest writes is what createImage uploads.
        var written = new byte[1 << 20];
        Random.Shared.NextBytes(written);
        await using (var client = await NbdTestClient.OpenAsync(new IPEndPoint(IPAddress.Loopback, cloud.NbdPort), root))
        {
            Assert.Equal(0u, await client.WriteBlockAsync(1, 1 << 20, written));
            Assert.Equal(0u, await client.FlushAsync(2));
        }
        var snapshot = (await CallAsync(cloud.ComputeUrl, token, HttpMethod.Post, $"/v2.1/servers/{id}/action",
            new JsonObject { ["createImage"] = new JsonObject { ["name"] = "disky-snap" } }, HttpStatusCode.Accepted, Latest))["image_id"]!.GetValue<string>();
        await WaitAsync(token, id, s => s["OS-EXT-STS:task_state"] is null);
        var shown = await CallAsync(cloud.ImageUrl, token, HttpMethod.Get, $"/v2/images/{snapshot}");
        Assert.Equal("active", shown["status"]!.GetValue<string>());
        Assert.Equal("raw", shown["disk_format"]!.GetValue<string>());
        using (var download = new HttpRequestMessage(HttpMethod.Get, $"{cloud.ImageUrl}/v2/images/{snapshot}/file"))
        {
            download.Headers.Add("X-Auth-Token", token);
            using var response = await cloud.Http.SendAsync(download);
            var bytes = await response.Content.ReadAsByteArrayAsync();
            var expected = (byte[])data.Clone();
            written.CopyTo(expected, 1 << 20);
            Assert.Equal(expected, bytes);
        }

        await CallAsync(cloud.ComputeUrl, token, HttpMethod.Delete, $"/v2.1/servers/{id}", expected: HttpStatusCode.NoContent);
        Assert.Empty(await DisksAsync(token, project, id));
        await using var gone = await NbdTestClient.ConnectAsync(new IPEndPoint(IPAddress.Loopback, cloud.NbdPort));
        var reply = await gone.OptionAsync(7, NbdTestClient.GoData(root));
        Assert.True(reply[^1].Type >= 0x80000000, $"the deleted disk is still exported (reply 0x{reply[^1].Type:x})");
    }
}
