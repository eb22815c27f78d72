using System.Net;
using System.Security.Cryptography;
using System.Text.Json.Nodes;

namespace StorageCloud.Host.Tests.Images;

/// <summary>An appliance whose image service caches images (8 MiB) and fails background imports silent for 3 s.</summary>
public sealed class ImageImportCloudFixture : CloudFixture
{
    protected override IReadOnlyDictionary<string, string> ExtraEnvironment => new Dictionary<string, string>
    {
        ["STORAGECLOUD__Image__CacheMaxBytes"] = (8 << 20).ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["STORAGECLOUD__Image__ImportStallSeconds"] = "3",
    };
}

/// <summary>
/// The glance-download import and its tasks: an image copied from this region (formats, the properties Glance copies,
/// data and digests), a private image of another project not copied (the caller's token reads the source), a
/// non-UUID id refused at once, a region the catalog does not know failing with the image queued and its own
/// properties untouched; an image copied from another region's service registered in the catalog, alive past the
/// stall time while its data trickles, and an import whose appliance is killed midway failed by the sweeper after
/// the restart.
/// </summary>
public sealed class GlanceDownloadTests(ImageImportCloudFixture cloud) : IClassFixture<ImageImportCloudFixture>
{
    private const string Region = "RegionOne";

    private async Task<string> QueuedImageAsync(string token, JsonObject? extra = null)
    {
        var body = new JsonObject { ["name"] = "target", ["disk_format"] = "iso", ["container_format"] = "ovf" };
        foreach (var (key, value) in extra ?? []) body[key] = value?.DeepClone();
        var (status, image) = await cloud.SendToAsync(cloud.ImageUrl, HttpMethod.Post, "/v2/images", token, body);
        Assert.Equal(HttpStatusCode.Created, status);
        return image!["id"]!.GetValue<string>();
    }

    private Task<(HttpStatusCode Status, JsonNode? Body)> GlanceDownloadAsync(string token, string image, string source, string region = Region, string face = "public") =>
        cloud.SendToAsync(cloud.ImageUrl, HttpMethod.Post, $"/v2/images/{image}/import", token, new JsonObject
        {
            ["method"] = new JsonObject { ["name"] = "glance-download", ["glance_image_id"] = source, ["glance_region"] = region, ["glance_service_interface"] = face },
        });

    private async Task<JsonObject> TaskSettledAsync(string token, string image)
    {
        for (var i = 0; i < 300; i++)
        {
            var (status, tasks) = await cloud.SendToAsync(cloud.ImageUrl, HttpMethod.Get, $"/v2/images/{image}/tasks", token);
            Assert.Equal(HttpStatusCode.OK, status);
            var task = (JsonObject)tasks!["tasks"]!.AsArray().Single()!;
            if (task["status"]!.GetValue<string>() is "success" or "failure") return task;
            await Task.Delay(100);
        }
        throw new TimeoutException($"image {image}'s import never ended");
    }

    private async Task<JsonObject> ShowAsync(string token, string image) =>
        (JsonObject)(await cloud.SendToAsync(cloud.ImageUrl, HttpMethod.Get, $"/v2/images/{image}", token)).Body!;

    private async Task<byte[]> DownloadAsync(string token, string image)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{cloud.ImageUrl}/v2/images/{image}/file");
        request.Headers.Add("X-Auth-Token", token);
        using var response = await cloud.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsByteArrayAsync();
    }

    [Fact]
    public async Task An_image_is_copied_from_a_region_in_the_catalog_with_the_properties_glance_copies()
    {
        var data = RandomNumberGenerator.GetBytes(3 << 20);
        var source = await cloud.ImageAsync(cloud.A.Token, data, "source");
        using (var patch = new HttpRequestMessage(HttpMethod.Patch, $"{cloud.ImageUrl}/v2/images/{source}"))
        {
            patch.Content = new StringContent("""
                [{"op": "add", "path": "/hw_cpu_cores", "value": "5"}, {"op": "add", "path": "/trait:STORAGE_DISK_SSD", "value": "required"},
                 {"op": "add", "path": "/os_distro", "value": "rhel"}, {"op": "add", "path": "/speed", "value": "88mph"}]
                """);
            patch.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/openstack-images-v2.1-json-patch");
            patch.Headers.Add("X-Auth-Token", cloud.A.Token);
            using var patched = await cloud.Http.SendAsync(patch);
            Assert.Equal(HttpStatusCode.OK, patched.StatusCode);
        }
        var (_, methods) = await cloud.SendToAsync(cloud.ImageUrl, HttpMethod.Get, "/v2/info/import", cloud.A.Token);
        Assert.Contains("glance-download", methods!["import-methods"]!["value"]!.AsArray().Select(m => m!.GetValue<string>()));

        var target = await QueuedImageAsync(cloud.A.Token, new JsonObject { ["hw_cpu_cores"] = "1", ["os_distro"] = "windows" });
        var (status, _) = await GlanceDownloadAsync(cloud.A.Token, target, source);
        Assert.Equal(HttpStatusCode.Accepted, status);
        var task = await TaskSettledAsync(cloud.A.Token, target);
        Assert.Equal("success", task["status"]!.GetValue<string>());
        Assert.Equal("api_image_import", task["type"]!.GetValue<string>());
        Assert.Equal("glance-download", task["input"]!["import_req"]!["method"]!["name"]!.GetValue<string>());
        var copy = await ShowAsync(cloud.A.Token, target);
        var original = await ShowAsync(cloud.A.Token, source);
        Assert.Equal("active", copy["status"]!.GetValue<string>());
        Assert.Equal(("raw", "bare"), (copy["disk_format"]!.GetValue<string>(), copy["container_format"]!.GetValue<string>()));
        Assert.Equal(("5", "required", "rhel"), (copy["hw_cpu_cores"]!.GetValue<string>(), copy["trait:STORAGE_DISK_SSD"]!.GetValue<string>(), copy["os_distro"]!.GetValue<string>()));
        Assert.False(copy.ContainsKey("speed"));
        Assert.Equal(original["os_hash_value"]!.GetValue<string>(), copy["os_hash_value"]!.GetValue<string>());
        Assert.Equal(data, await DownloadAsync(cloud.A.Token, target));

        // B may not read A's private image, and B's token is what reads the source: B's import fails, B's image stays queued.
        var other = await QueuedImageAsync(cloud.B.Token);
        Assert.Equal(HttpStatusCode.Accepted, (await GlanceDownloadAsync(cloud.B.Token, other, source)).Status);
        Assert.Equal("failure", (await TaskSettledAsync(cloud.B.Token, other))["status"]!.GetValue<string>());
        var refused = await ShowAsync(cloud.B.Token, other);
        Assert.Equal(("queued", "storagecloud"), (refused["status"]!.GetValue<string>(), refused["os_glance_failed_import"]!.GetValue<string>()));
        Assert.Equal(HttpStatusCode.NoContent, (await cloud.SendToAsync(cloud.ImageUrl, HttpMethod.Get, $"/v2/images/{other}/file", cloud.B.Token)).Status);
    }

    [Fact]
    public async Task Bad_ids_and_unknown_regions_fail_and_leave_the_image_as_it_was()
    {
        var image = await QueuedImageAsync(cloud.A.Token, new JsonObject { ["hw_cpu_cores"] = "1", ["os_distro"] = "windows" });
        var (status, error) = await GlanceDownloadAsync(cloud.A.Token, image, "foo");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("image id does not look like a UUID", error!.ToJsonString());
        Assert.Equal("queued", (await ShowAsync(cloud.A.Token, image))["status"]!.GetValue<string>());

        Assert.Equal(HttpStatusCode.Accepted, (await GlanceDownloadAsync(cloud.A.Token, image, Guid.NewGuid().ToString(), "not a region", "not an interface")).Status);
        var task = await TaskSettledAsync(cloud.A.Token, image);
        Assert.Equal("failure", task["status"]!.GetValue<string>());
        Assert.Contains("not a region", task["message"]!.GetValue<string>());
        var after = await ShowAsync(cloud.A.Token, image);
        Assert.Equal(("queued", "1", "windows", "iso"), (after["status"]!.GetValue<string>(), after["hw_cpu_cores"]!.GetValue<string>(),
            after["os_distro"]!.GetValue<string>(), after["disk_format"]!.GetValue<string>()));

        // A missing source image in a region that exists: a failure too, and the image can be imported again after.
        var again = await QueuedImageAsync(cloud.A.Token);
        Assert.Equal(HttpStatusCode.Accepted, (await GlanceDownloadAsync(cloud.A.Token, again, Guid.NewGuid().ToString())).Status);
        Assert.Equal("failure", (await TaskSettledAsync(cloud.A.Token, again))["status"]!.GetValue<string>());
        Assert.Equal("queued", (await ShowAsync(cloud.A.Token, again))["status"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.NotFound, (await cloud.SendToAsync(cloud.ImageUrl, HttpMethod.Get, $"/v2/images/{again}/tasks", cloud.B.Token)).Status);
    }

    [Fact]
    public async Task An_import_from_another_region_stays_alive_while_data_trickles_and_one_killed_midway_is_failed_after_the_restart()
    {
        using var remote = new RemoteGlance(RandomNumberGenerator.GetBytes(2 << 20));
        await remote.RegisterAsync(cloud, "RegionTwo");
        var image = await QueuedImageAsync(cloud.A.Token);
        Assert.Equal(HttpStatusCode.Accepted, (await GlanceDownloadAsync(cloud.A.Token, image, remote.ImageId, "RegionTwo")).Status);
        // Twice the stall time with the data held back: the worker's heartbeat keeps its task alive.
        await Task.Delay(TimeSpan.FromSeconds(6));
        var (_, tasks) = await cloud.SendToAsync(cloud.ImageUrl, HttpMethod.Get, $"/v2/images/{image}/tasks", cloud.A.Token);
        Assert.Equal("processing", tasks!["tasks"]![0]!["status"]!.GetValue<string>());
        Assert.Equal("importing", (await ShowAsync(cloud.A.Token, image))["status"]!.GetValue<string>());
        Assert.All(remote.Tokens, token => Assert.Equal(cloud.A.Token, token));
        remote.Release();
        Assert.Equal("success", (await TaskSettledAsync(cloud.A.Token, image))["status"]!.GetValue<string>());
        var copied = await ShowAsync(cloud.A.Token, image);
        Assert.Equal(("active", "scsi", "linux"), (copied["status"]!.GetValue<string>(), copied["hw_disk_bus"]!.GetValue<string>(), copied["os_type"]!.GetValue<string>()));
        Assert.False(copied.ContainsKey("owner_specified.x"));
        Assert.Equal(remote.Data, await DownloadAsync(cloud.A.Token, image));

        // The same, killed while the data is held back: after the restart the sweeper fails the import.
        using var stuck = new RemoteGlance(RandomNumberGenerator.GetBytes(1 << 20));
        await stuck.RegisterAsync(cloud, "RegionThree");
        var interrupted = await QueuedImageAsync(cloud.A.Token);
        Assert.Equal(HttpStatusCode.Accepted, (await GlanceDownloadAsync(cloud.A.Token, interrupted, stuck.ImageId, "RegionThree")).Status);
        for (var i = 0; i < 100 && stuck.Tokens.Count < 2; i++) await Task.Delay(50);
        await cloud.KillAndRestartAsync();
        var task = await TaskSettledAsync(cloud.A.Token, interrupted);
        Assert.Equal("failure", task["status"]!.GetValue<string>());
        Assert.Contains("no sign of life", task["message"]!.GetValue<string>());
        var after = await ShowAsync(cloud.A.Token, interrupted);
        Assert.Equal(("queued", "storagecloud"), (after["status"]!.GetValue<string>(), after["os_glance_failed_import"]!.GetValue<string>()));
    }
}
