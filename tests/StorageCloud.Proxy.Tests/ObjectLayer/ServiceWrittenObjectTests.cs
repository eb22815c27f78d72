using System.Net;
using System.Security.Cryptography;
using StorageCloud.ObjectLayer;

namespace StorageCloud.Proxy.Tests.ObjectLayer;

/// <summary>What a service writes through the typed object layer is an ordinary Swift object: the Swift API serves it.</summary>
public sealed class ServiceWrittenObjectTests
{
    [Fact]
    public async Task A_large_object_written_in_process_is_served_whole_and_in_ranges_by_the_swift_api()
    {
        await using var host = await ClusterHost.StartAsync();
        var (token, _) = await host.AuthAsync();
        var store = new ObjectStore(host.Cluster);
        await store.EnsureContainerAsync("AUTH_test", "images");
        var data = new byte[1_300_000];
        new Random(7).NextBytes(data);
        var stored = await store.PutLargeAsync("AUTH_test", "images", "cirros.img", new MemoryStream(data),
            new LargeObjectOptions { SegmentSize = 500_000, Object = new PutOptions { ContentType = "application/octet-stream" } });

        using (var get = await host.SendAsync(HttpMethod.Get, "/v1/AUTH_test/images/cirros.img", token))
        {
            Assert.Equal(HttpStatusCode.OK, get.StatusCode);
            Assert.Equal(data, await get.Content.ReadAsByteArrayAsync());
            Assert.Equal($"\"{stored.ETag}\"", get.Headers.ETag!.Tag);
        }
        using (var range = await host.SendAsync(HttpMethod.Get, "/v1/AUTH_test/images/cirros.img", token, null, ("Range", "bytes=499990-500009")))
        {
            Assert.Equal(HttpStatusCode.PartialContent, range.StatusCode);
            Assert.Equal(data[499_990..500_010], await range.Content.ReadAsByteArrayAsync());
        }
        using (var manifest = await host.SendAsync(HttpMethod.Get, "/v1/AUTH_test/images/cirros.img?multipart-manifest=get&format=raw", token))
        {
            var json = System.Text.Json.Nodes.JsonNode.Parse(await manifest.Content.ReadAsStringAsync())!.AsArray();
            Assert.Equal(3, json.Count);
            Assert.StartsWith("/images_segments/cirros.img/slo/", json[0]!["path"]!.GetValue<string>());
        }
        // The whole object's MD5 is what a client that downloads it computes.
        using var whole = await host.SendAsync(HttpMethod.Get, "/v1/AUTH_test/images/cirros.img", token);
        Assert.Equal(Convert.ToHexStringLower(MD5.HashData(data)), Convert.ToHexStringLower(MD5.HashData(await whole.Content.ReadAsByteArrayAsync())));
    }
}
