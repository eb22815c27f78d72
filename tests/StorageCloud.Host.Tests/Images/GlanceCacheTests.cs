using System.Net;
using System.Security.Cryptography;
using System.Text.Json.Nodes;

namespace StorageCloud.Host.Tests.Images;

/// <summary>
/// Glance's image cache on the image node (8 MiB here): admins only; queue an active image (a missing one 404, a
/// queued one 400), the prefetcher copies it, downloads and ranges across a block boundary come from the copy (hits
/// counted); a copy damaged on disk is dropped and the download still answers the right bytes from the object store;
/// a whole download queues an uncached image; deleting the image, DELETE of one entry and the clear targets empty it.
/// </summary>
public sealed class GlanceCacheTests(ImageImportCloudFixture cloud) : IClassFixture<ImageImportCloudFixture>
{
    private string CacheDir => Path.Combine(cloud.DataDir, "image", "cache");

    private async Task<JsonObject> ListAsync()
    {
        var (status, body) = await cloud.SendToAsync(cloud.ImageUrl, HttpMethod.Get, "/v2/cache", cloud.Admin.Token);
        Assert.Equal(HttpStatusCode.OK, status);
        return (JsonObject)body!;
    }

    private static IEnumerable<string> Cached(JsonObject list) => list["cached_images"]!.AsArray().Select(i => i!["image_id"]!.GetValue<string>());

    private async Task<JsonObject> CachedAsync(string image)
    {
        for (var i = 0; i < 200; i++)
        {
            var list = await ListAsync();
            if (list["cached_images"]!.AsArray().FirstOrDefault(c => c!["image_id"]!.GetValue<string>() == image) is JsonObject entry) return entry;
            await Task.Delay(100);
        }
        throw new TimeoutException($"image {image} was never cached");
    }

    private async Task<(HttpStatusCode Status, byte[] Data, string? Md5)> DownloadAsync(string image, string? range = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{cloud.ImageUrl}/v2/images/{image}/file");
        request.Headers.Add("X-Auth-Token", cloud.A.Token);
        if (range is not null) request.Headers.Add("Range", range);
        using var response = await cloud.Http.SendAsync(request);
        var md5 = response.Content.Headers.NonValidated.TryGetValues("Content-MD5", out var values) ? values.ToString() : null;
        return (response.StatusCode, await response.Content.ReadAsByteArrayAsync(), md5);
    }

    [Fact]
    public async Task Queued_images_are_served_from_the_node_cache_and_a_damaged_copy_is_never_served()
    {
        Assert.Equal(HttpStatusCode.Forbidden, (await cloud.SendToAsync(cloud.ImageUrl, HttpMethod.Get, "/v2/cache", cloud.A.Token)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await cloud.SendToAsync(cloud.ImageUrl, HttpMethod.Put, "/v2/cache/non-existing-image-id", cloud.Admin.Token)).Status);
        var (_, queued) = await cloud.SendToAsync(cloud.ImageUrl, HttpMethod.Post, "/v2/images", cloud.A.Token, new JsonObject { ["name"] = "empty" });
        Assert.Equal(HttpStatusCode.BadRequest, (await cloud.SendToAsync(cloud.ImageUrl, HttpMethod.Put, $"/v2/cache/{queued!["id"]}", cloud.Admin.Token)).Status);

        var data = RandomNumberGenerator.GetBytes((3 << 20) + 12345);
        var image = await cloud.ImageAsync(cloud.A.Token, data, "cached");
        Assert.Equal(HttpStatusCode.Accepted, (await cloud.SendToAsync(cloud.ImageUrl, HttpMethod.Put, $"/v2/cache/{image}", cloud.Admin.Token)).Status);
        Assert.Equal(data.Length, (await CachedAsync(image))["size"]!.GetValue<long>());
        Assert.DoesNotContain(image, (await ListAsync())["queued_images"]!.AsArray().Select(i => i!.GetValue<string>()));

        var whole = await DownloadAsync(image);
        Assert.Equal((HttpStatusCode.OK, Convert.ToHexStringLower(MD5.HashData(data))), (whole.Status, whole.Md5));
        Assert.Equal(data, whole.Data);
        var part = await DownloadAsync(image, "bytes=1048570-2097160");
        Assert.Equal(HttpStatusCode.PartialContent, part.Status);
        Assert.Equal(data.AsSpan(1048570, 2097160 - 1048570 + 1).ToArray(), part.Data);
        var hits = (await CachedAsync(image))["hits"]!.GetValue<long>();
        Assert.True(hits == 2, $"hits {hits}");

        // One flipped byte in the copy's first block: the CRC catches it, the store answers, the copy is gone.
        var file = Path.Combine(CacheDir, image);
        var bytes = await File.ReadAllBytesAsync(file);
        bytes[64 + 1000] ^= 0x40;
        await File.WriteAllBytesAsync(file, bytes);
        var repaired = await DownloadAsync(image);
        Assert.Equal(data, repaired.Data);

        // That whole download queued it again, and the prefetcher made a new copy (its hits start again from none).
        Assert.Equal(0, (await CachedAsync(image))["hits"]!.GetValue<long>());
        Assert.Equal(data, (await DownloadAsync(image)).Data);

        Assert.Equal(HttpStatusCode.NoContent, (await cloud.SendToAsync(cloud.ImageUrl, HttpMethod.Delete, $"/v2/cache/{image}", cloud.Admin.Token)).Status);
        Assert.DoesNotContain(image, Cached(await ListAsync()));
        Assert.False(File.Exists(file));
    }

    [Fact]
    public async Task Clearing_takes_a_target_and_deleting_an_image_drops_its_copy()
    {
        var first = await cloud.ImageAsync(cloud.A.Token, RandomNumberGenerator.GetBytes(1 << 20), "one");
        var second = await cloud.ImageAsync(cloud.A.Token, RandomNumberGenerator.GetBytes(1 << 20), "two");
        foreach (var image in new[] { first, second })
            Assert.Equal(HttpStatusCode.Accepted, (await cloud.SendToAsync(cloud.ImageUrl, HttpMethod.Put, $"/v2/cache/{image}", cloud.Admin.Token)).Status);
        await CachedAsync(first);
        await CachedAsync(second);

        Assert.Equal(HttpStatusCode.NoContent, (await cloud.SendToAsync(cloud.ImageUrl, HttpMethod.Delete, $"/v2/images/{first}", cloud.A.Token)).Status);
        Assert.DoesNotContain(first, Cached(await ListAsync()));
        Assert.False(File.Exists(Path.Combine(CacheDir, first)));

        using (var invalid = new HttpRequestMessage(HttpMethod.Delete, $"{cloud.ImageUrl}/v2/cache"))
        {
            invalid.Headers.Add("X-Auth-Token", cloud.Admin.Token);
            invalid.Headers.Add("x-image-cache-clear-target", "invalid");
            using var response = await cloud.Http.SendAsync(invalid);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        }
        Assert.Contains(second, Cached(await ListAsync()));
        Assert.Equal(HttpStatusCode.Forbidden, (await cloud.SendToAsync(cloud.ImageUrl, HttpMethod.Delete, "/v2/cache", cloud.B.Token)).Status);
        Assert.Equal(HttpStatusCode.NoContent, (await cloud.SendToAsync(cloud.ImageUrl, HttpMethod.Delete, "/v2/cache", cloud.Admin.Token)).Status);
        var list = await ListAsync();
        Assert.Empty(list["cached_images"]!.AsArray());
        Assert.Empty(list["queued_images"]!.AsArray());
    }
}
