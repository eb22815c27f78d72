using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json.Nodes;

namespace StorageCloud.Host.Tests.Images;

/// <summary>
/// The Glance v2 API over real HTTP on the all-in-one appliance: data in and out (digests, ranges, Content-MD5), the
/// glance-direct import, hostile data that never becomes an active image, visibility and members across projects,
/// JSON-patch rules, protection, deactivation and the size limit.
/// </summary>
public sealed class GlanceApiTests(CloudFixture cloud) : IClassFixture<CloudFixture>
{
    private const string Patch = "application/openstack-images-v2.1-json-patch";

    private Task<(HttpStatusCode Status, JsonNode? Body)> SendAsync(HttpMethod method, string path, string token, JsonNode? body = null) =>
        cloud.SendToAsync(cloud.ImageUrl, method, path, token, body);

    private async Task<string> CreateAsync((string Token, string Project) who, string disk = "raw", string? visibility = null)
    {
        var image = new JsonObject { ["name"] = "img-" + Guid.NewGuid().ToString("N")[..6], ["disk_format"] = disk, ["container_format"] = "bare" };
        if (visibility is not null) image["visibility"] = visibility;
        var (status, body) = await SendAsync(HttpMethod.Post, "/v2/images", who.Token, image);
        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Equal("queued", body!["status"]!.GetValue<string>());
        return body["id"]!.GetValue<string>();
    }

    private async Task<(HttpStatusCode Status, string Text)> PutDataAsync(string token, string id, byte[] data, string what = "file")
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, $"{cloud.ImageUrl}/v2/images/{id}/{what}") { Content = new ByteArrayContent(data) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        request.Headers.Add("X-Auth-Token", token);
        using var response = await cloud.Http.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private async Task<HttpResponseMessage> GetDataAsync(string token, string id, string? range = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{cloud.ImageUrl}/v2/images/{id}/file");
        request.Headers.Add("X-Auth-Token", token);
        if (range is not null) request.Headers.TryAddWithoutValidation("Range", range);
        return await cloud.Http.SendAsync(request);
    }

    private async Task<HttpStatusCode> PatchAsync(string token, string id, JsonArray operations, string contentType = Patch)
    {
        using var request = new HttpRequestMessage(HttpMethod.Patch, $"{cloud.ImageUrl}/v2/images/{id}") { Content = new StringContent(operations.ToJsonString()) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        request.Headers.Add("X-Auth-Token", token);
        using var response = await cloud.Http.SendAsync(request);
        return response.StatusCode;
    }

    private async Task<JsonNode> ShowAsync(string token, string id) => (await SendAsync(HttpMethod.Get, $"/v2/images/{id}", token)).Body!;

    /// <summary>A qcow2 made by qemu-img (told the format), with extra options; its bytes.</summary>
    internal static async Task<byte[]> Qcow2Async(params string[] options)
    {
        var dir = Directory.CreateTempSubdirectory("sc-glance-").FullName;
        try
        {
            var path = Path.Combine(dir, "disk.qcow2");
            // A file for a backing-file option to name: qemu-img opens it (and only files in this directory are named).
            await File.WriteAllBytesAsync(Path.Combine(dir, "base.raw"), new byte[8 << 20]);
            var info = new ProcessStartInfo("/usr/bin/qemu-img") { RedirectStandardError = true, UseShellExecute = false };
            foreach (var arg in (string[])["create", "-f", "qcow2", .. options.Select(o => o.Replace("{dir}", dir)), path, "8M"]) info.ArgumentList.Add(arg);
            using var process = Process.Start(info) ?? throw new InvalidOperationException("qemu-img is not installed (deploy/test.sh installs qemu-utils)");
            var error = await process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            Assert.True(process.ExitCode == 0, error);
            return await File.ReadAllBytesAsync(path);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task Data_goes_in_and_out_whole_or_by_range_with_its_digests()
    {
        var a = cloud.A;
        var id = await CreateAsync(a);
        var data = new byte[3 << 20];
        new Random(7).NextBytes(data);
        Assert.Equal(HttpStatusCode.NoContent, (await PutDataAsync(a.Token, id, data)).Status);
        var image = await ShowAsync(a.Token, id);
        Assert.Equal("active", image["status"]!.GetValue<string>());
        Assert.Equal(data.Length, image["size"]!.GetValue<long>());
        Assert.Equal(data.Length, image["virtual_size"]!.GetValue<long>());
        Assert.Equal(Convert.ToHexStringLower(MD5.HashData(data)), image["checksum"]!.GetValue<string>());
        Assert.Equal("sha512", image["os_hash_algo"]!.GetValue<string>());
        Assert.Equal(Convert.ToHexStringLower(SHA512.HashData(data)), image["os_hash_value"]!.GetValue<string>());

        using (var whole = await GetDataAsync(a.Token, id))
        {
            Assert.Equal(HttpStatusCode.OK, whole.StatusCode);
            Assert.Equal(image["checksum"]!.GetValue<string>(), whole.Content.Headers.GetValues("Content-MD5").Single());
            Assert.Equal(data, await whole.Content.ReadAsByteArrayAsync());
        }
        using (var part = await GetDataAsync(a.Token, id, "bytes=1048570-1048589"))
        {
            Assert.Equal(HttpStatusCode.PartialContent, part.StatusCode);
            Assert.Equal($"bytes 1048570-1048589/{data.Length}", part.Content.Headers.ContentRange!.ToString());
            Assert.Equal(data.AsSpan(1048570, 20).ToArray(), await part.Content.ReadAsByteArrayAsync());
        }
        using (var beyond = await GetDataAsync(a.Token, id, $"bytes={data.Length}-"))
            Assert.Equal(HttpStatusCode.RequestedRangeNotSatisfiable, beyond.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await PutDataAsync(a.Token, id, data)).Status);

        // Another project does not see a private or unshared image at all.
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(HttpMethod.Get, $"/v2/images/{id}", cloud.B.Token)).Status);
        using (var theirs = await GetDataAsync(cloud.B.Token, id)) Assert.Equal(HttpStatusCode.NotFound, theirs.StatusCode);

        // Past Image:MaxImageBytes the upload is refused and the image stays queued.
        var big = await CreateAsync(a);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, (await PutDataAsync(a.Token, big, new byte[CloudFixture.MaxImageBytes + 1])).Status);
        Assert.Equal("queued", (await ShowAsync(a.Token, big))["status"]!.GetValue<string>());
        using (var none = await GetDataAsync(a.Token, big)) Assert.Equal(HttpStatusCode.NoContent, none.StatusCode);
    }

    [Fact]
    public async Task Hostile_or_mislabelled_data_never_becomes_an_active_image()
    {
        var a = cloud.A;
        var backed = await CreateAsync(a, "qcow2");
        var (status, text) = await PutDataAsync(a.Token, backed, await Qcow2Async("-b", "{dir}/base.raw", "-F", "raw"));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("backing file", text);
        Assert.Equal("killed", (await ShowAsync(a.Token, backed))["status"]!.GetValue<string>());
        using (var none = await GetDataAsync(a.Token, backed)) Assert.Equal(HttpStatusCode.NoContent, none.StatusCode);

        var dataFile = await CreateAsync(a, "qcow2");
        (status, text) = await PutDataAsync(a.Token, dataFile, await Qcow2Async("-o", "data_file={dir}/data.raw"));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("external data file", text);

        var mislabelled = await CreateAsync(a, "qcow2");
        (status, text) = await PutDataAsync(a.Token, mislabelled, new byte[70_000]);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("disk_format is qcow2", text);

        var (noFormat, _) = await SendAsync(HttpMethod.Post, "/v2/images", a.Token, new JsonObject { ["name"] = "bare-record" });
        Assert.Equal(HttpStatusCode.Created, noFormat);

        // The interoperable import: staged data is judged at import; a refusal leaves the image queued without it.
        var staged = await CreateAsync(a, "qcow2");
        var polyglot = await Qcow2Async();
        polyglot[0x8000] = 1;
        "CD001"u8.CopyTo(polyglot.AsSpan(0x8001));
        Assert.Equal(HttpStatusCode.NoContent, (await PutDataAsync(a.Token, staged, polyglot, "stage")).Status);
        Assert.Equal("uploading", (await ShowAsync(a.Token, staged))["status"]!.GetValue<string>());
        var direct = new JsonObject { ["method"] = new JsonObject { ["name"] = "glance-direct" } };
        var (refused, _) = await SendAsync(HttpMethod.Post, $"/v2/images/{staged}/import", a.Token, direct);
        Assert.Equal(HttpStatusCode.BadRequest, refused);
        Assert.Equal("queued", (await ShowAsync(a.Token, staged))["status"]!.GetValue<string>());

        var good = await Qcow2Async();
        Assert.Equal(HttpStatusCode.NoContent, (await PutDataAsync(a.Token, staged, good, "stage")).Status);
        Assert.Equal(HttpStatusCode.Accepted, (await SendAsync(HttpMethod.Post, $"/v2/images/{staged}/import", a.Token, direct.DeepClone())).Status);
        var imported = await ShowAsync(a.Token, staged);
        Assert.Equal("active", imported["status"]!.GetValue<string>());
        Assert.Equal(8 << 20, imported["virtual_size"]!.GetValue<long>());
        using (var back = await GetDataAsync(a.Token, staged)) Assert.Equal(good, await back.Content.ReadAsByteArrayAsync());
        var (web, _) = await SendAsync(HttpMethod.Post, $"/v2/images/{staged}/import", a.Token,
            new JsonObject { ["method"] = new JsonObject { ["name"] = "web-download", ["uri"] = "http://127.0.0.1/x" } });
        Assert.Equal(HttpStatusCode.BadRequest, web);
        var (_, methods) = await SendAsync(HttpMethod.Get, "/v2/info/import", a.Token);
        Assert.Equal("""["glance-direct","glance-download"]""", methods!["import-methods"]!["value"]!.ToJsonString());
    }

    [Fact]
    public async Task Members_see_shared_images_and_only_owners_change_them()
    {
        var (a, b) = (cloud.A, cloud.B);
        var id = await CreateAsync(a, visibility: "shared");
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(HttpMethod.Get, $"/v2/images/{id}", b.Token)).Status);
        var (added, member) = await SendAsync(HttpMethod.Post, $"/v2/images/{id}/members", a.Token, new JsonObject { ["member"] = b.Project });
        Assert.Equal(HttpStatusCode.OK, added);
        Assert.Equal("pending", member!["status"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.Conflict, (await SendAsync(HttpMethod.Post, $"/v2/images/{id}/members", a.Token, new JsonObject { ["member"] = b.Project })).Status);

        // Pending: B reaches the image but does not list it until it accepts.
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Get, $"/v2/images/{id}", b.Token)).Status);
        async Task<bool> ListedForBAsync() =>
            (await SendAsync(HttpMethod.Get, "/v2/images", b.Token)).Body!["images"]!.AsArray().Any(i => i!["id"]!.GetValue<string>() == id);
        Assert.False(await ListedForBAsync());
        Assert.Equal(HttpStatusCode.Forbidden, (await SendAsync(HttpMethod.Put, $"/v2/images/{id}/members/{b.Project}", a.Token, new JsonObject { ["status"] = "accepted" })).Status);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Put, $"/v2/images/{id}/members/{b.Project}", b.Token, new JsonObject { ["status"] = "accepted" })).Status);
        Assert.True(await ListedForBAsync());

        // A member reads but never changes: not the record, not the tags, not the data.
        Assert.Equal(HttpStatusCode.Forbidden, await PatchAsync(b.Token, id, [new JsonObject { ["op"] = "replace", ["path"] = "/name", ["value"] = "mine" }]));
        Assert.Equal(HttpStatusCode.Forbidden, (await SendAsync(HttpMethod.Put, $"/v2/images/{id}/tags/x", b.Token)).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await PutDataAsync(b.Token, id, [1, 2, 3])).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await SendAsync(HttpMethod.Delete, $"/v2/images/{id}", b.Token)).Status);

        // Only shared images have members; removing B hides the image from it again.
        Assert.Equal(HttpStatusCode.NoContent, (await SendAsync(HttpMethod.Delete, $"/v2/images/{id}/members/{b.Project}", a.Token)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(HttpMethod.Get, $"/v2/images/{id}", b.Token)).Status);
        var privateImage = await CreateAsync(a, visibility: "private");
        Assert.Equal(HttpStatusCode.Forbidden, (await SendAsync(HttpMethod.Post, $"/v2/images/{privateImage}/members", a.Token, new JsonObject { ["member"] = b.Project })).Status);
    }

    [Fact]
    public async Task Json_patch_rules_protection_and_deactivation_hold()
    {
        var a = cloud.A;
        var id = await CreateAsync(a);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, await PatchAsync(a.Token, id, [], "application/json"));
        Assert.Equal(HttpStatusCode.Forbidden, await PatchAsync(a.Token, id, [new JsonObject { ["op"] = "replace", ["path"] = "/status", ["value"] = "active" }]));
        Assert.Equal(HttpStatusCode.Conflict, await PatchAsync(a.Token, id, [new JsonObject { ["op"] = "replace", ["path"] = "/os_distro", ["value"] = "x" }]));
        Assert.Equal(HttpStatusCode.Forbidden, await PatchAsync(a.Token, id, [new JsonObject { ["op"] = "replace", ["path"] = "/visibility", ["value"] = "public" }]));
        Assert.Equal(HttpStatusCode.OK, await PatchAsync(a.Token, id,
        [
            new JsonObject { ["op"] = "add", ["path"] = "/os_distro", ["value"] = "cirros" },
            new JsonObject { ["op"] = "replace", ["path"] = "/tags", ["value"] = new JsonArray("b", "a") },
            new JsonObject { ["op"] = "replace", ["path"] = "/min_disk", ["value"] = 2 },
            new JsonObject { ["op"] = "replace", ["path"] = "/protected", ["value"] = true },
        ]));
        var image = await ShowAsync(a.Token, id);
        Assert.Equal("cirros", image["os_distro"]!.GetValue<string>());
        Assert.Equal("""["a","b"]""", image["tags"]!.ToJsonString());
        Assert.Equal(2, image["min_disk"]!.GetValue<int>());
        Assert.Equal(HttpStatusCode.Forbidden, (await SendAsync(HttpMethod.Delete, $"/v2/images/{id}", a.Token)).Status);
        Assert.Equal(HttpStatusCode.OK, await PatchAsync(a.Token, id,
        [
            new JsonObject { ["op"] = "remove", ["path"] = "/os_distro" },
            new JsonObject { ["op"] = "replace", ["path"] = "/protected", ["value"] = false },
        ]));
        Assert.Null((await ShowAsync(a.Token, id))["os_distro"]);
        // The v2.0 form of an operation ({"replace": "/name"}) that Tempest and older clients send; an empty id names nothing.
        Assert.Equal(HttpStatusCode.OK, await PatchAsync(a.Token, id, [new JsonObject { ["replace"] = "/name", ["value"] = "renamed" }], "application/openstack-images-v2.0-json-patch"));
        Assert.Equal("renamed", (await ShowAsync(a.Token, id))["name"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(HttpMethod.Get, "/v2/images/", a.Token)).Status);

        // The owner (or an admin) deactivates; a deactivated image's data is the admins' alone to read.
        Assert.Equal(HttpStatusCode.NoContent, (await PutDataAsync(a.Token, id, new byte[4096])).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(HttpMethod.Post, $"/v2/images/{id}/actions/deactivate", cloud.B.Token)).Status);
        Assert.Equal(HttpStatusCode.NoContent, (await SendAsync(HttpMethod.Post, $"/v2/images/{id}/actions/deactivate", a.Token)).Status);
        using (var refused = await GetDataAsync(a.Token, id)) Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        using (var admin = await GetDataAsync(cloud.Admin.Token, id)) Assert.Equal(HttpStatusCode.OK, admin.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await SendAsync(HttpMethod.Post, $"/v2/images/{id}/actions/reactivate", a.Token)).Status);
        using (var again = await GetDataAsync(a.Token, id)) Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await SendAsync(HttpMethod.Delete, $"/v2/images/{id}", a.Token)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(HttpMethod.Get, $"/v2/images/{id}", a.Token)).Status);
    }

    [Fact]
    public async Task Metadata_definitions_are_written_by_admins_read_by_all_and_deleted_with_what_they_hold()
    {
        var admin = cloud.Admin.Token;
        var (_, types) = await SendAsync(HttpMethod.Get, "/v2/metadefs/resource_types", cloud.A.Token);
        var type = types!["resource_types"]![0]!["name"]!.GetValue<string>();
        var namespaceBody = new JsonObject
        {
            ["namespace"] = "sc-hw", ["display_name"] = "Hardware", ["visibility"] = "public", ["protected"] = true,
            ["resource_type_associations"] = new JsonArray(new JsonObject { ["name"] = type, ["prefix"] = "hw_" }),
        };
        Assert.Equal(HttpStatusCode.Forbidden, (await SendAsync(HttpMethod.Post, "/v2/metadefs/namespaces", cloud.A.Token, namespaceBody)).Status);
        Assert.Equal(HttpStatusCode.Created, (await SendAsync(HttpMethod.Post, "/v2/metadefs/namespaces", admin, namespaceBody.DeepClone())).Status);
        Assert.Equal(HttpStatusCode.Conflict, (await SendAsync(HttpMethod.Post, "/v2/metadefs/namespaces", admin, namespaceBody.DeepClone())).Status);
        var (_, listed) = await SendAsync(HttpMethod.Get, "/v2/metadefs/namespaces", cloud.A.Token);
        Assert.Contains(listed!["namespaces"]!.AsArray(), n => n!["namespace"]!.GetValue<string>() == "sc-hw");

        const string ns = "/v2/metadefs/namespaces/sc-hw";
        Assert.Equal(HttpStatusCode.Created, (await SendAsync(HttpMethod.Post, ns + "/objects", admin, new JsonObject { ["name"] = "cpu" })).Status);
        var (renamed, cpu) = await SendAsync(HttpMethod.Put, ns + "/objects/cpu", admin, new JsonObject { ["name"] = "processor" });
        Assert.Equal(HttpStatusCode.OK, renamed);
        Assert.Equal("processor", cpu!["name"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(HttpMethod.Get, ns + "/objects/cpu", cloud.A.Token)).Status);
        Assert.Equal(HttpStatusCode.Created, (await SendAsync(HttpMethod.Post, ns + "/properties", admin,
            new JsonObject { ["name"] = "hw_rng", ["title"] = "RNG", ["type"] = "string", ["enum"] = new JsonArray("on", "off") })).Status);
        var (_, properties) = await SendAsync(HttpMethod.Get, ns + "/properties", cloud.A.Token);
        Assert.Equal("RNG", properties!["properties"]!["hw_rng"]!["title"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.Created, (await SendAsync(HttpMethod.Post, ns + "/tags", admin,
            new JsonObject { ["tags"] = new JsonArray(new JsonObject { ["name"] = "a" }, new JsonObject { ["name"] = "b" }) })).Status);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Put, ns + "/tags/a", admin, new JsonObject { ["name"] = "c" })).Status);
        var (_, tags) = await SendAsync(HttpMethod.Get, ns + "/tags", cloud.A.Token);
        Assert.Equal(["b", "c"], tags!["tags"]!.AsArray().Select(t => t!["name"]!.GetValue<string>()).Order());

        // Protected until unprotected; a private namespace is hidden from other projects; a delete takes everything.
        Assert.Equal(HttpStatusCode.Forbidden, (await SendAsync(HttpMethod.Delete, ns, admin)).Status);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Put, ns, admin, new JsonObject { ["namespace"] = "sc-hw", ["protected"] = false, ["visibility"] = "private" })).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(HttpMethod.Get, ns, cloud.A.Token)).Status);
        Assert.Equal(HttpStatusCode.NoContent, (await SendAsync(HttpMethod.Delete, ns, admin)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(HttpMethod.Get, ns + "/objects/processor", admin)).Status);
        var (_, schema) = await SendAsync(HttpMethod.Get, "/v2/schemas/metadefs/resource_types", cloud.A.Token);
        Assert.Equal("resource_type_associations", schema!["name"]!.GetValue<string>());
    }
}
