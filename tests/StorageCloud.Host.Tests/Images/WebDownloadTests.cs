using System.Net;
using System.Security.Cryptography;
using System.Text.Json.Nodes;

namespace StorageCloud.Host.Tests.Images;

/// <summary>An appliance with the web-download import on, allowed to fetch from 127.0.0.1 only (a local mirror).</summary>
public sealed class WebDownloadCloudFixture : CloudFixture
{
    protected override IReadOnlyDictionary<string, string> ExtraEnvironment => new Dictionary<string, string>
    {
        ["STORAGECLOUD__Image__WebDownload"] = "true",
        ["STORAGECLOUD__Image__WebDownloadAllowedHosts"] = "127.0.0.1",
    };
}

/// <summary>
/// The web-download import against a small HTTP server of the test's own on 127.0.0.1: an image fetched, inspected
/// and active with the file's digests; URLs refused before anything is fetched (another scheme, a loopback address
/// not allowed, credentials in the URL, a port other than 80 or 443 on a host not allowed); a redirect to an address
/// not allowed, a 404, a qcow2 with a backing file and a host that does not resolve each leave the image queued again,
/// with nothing stored and os_glance_failed_import naming the store.
/// </summary>
public sealed class WebDownloadTests : IClassFixture<WebDownloadCloudFixture>, IDisposable
{
    private readonly HttpListener _mirror;
    private readonly int _port;
    private readonly Dictionary<string, byte[]> _files = [];

    public WebDownloadTests(WebDownloadCloudFixture cloud)
    {
        this.cloud = cloud;
        _mirror = StartMirror(out _port);
    }

    private readonly WebDownloadCloudFixture cloud;

    private static HttpListener StartMirror(out int port)
    {
        for (var attempt = 0; ; attempt++)
        {
            port = StorageCloudProcess.FreePort();
            var listener = new HttpListener();
            listener.Prefixes.Add($"http://127.0.0.1:{port}/");
            try
            {
                listener.Start();
                return listener;
            }
            catch (HttpListenerException) when (attempt < 5)
            {
                listener.Close();
            }
        }
    }

    private async Task ServeAsync()
    {
        while (_mirror.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _mirror.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
            {
                return;
            }
            var path = context.Request.Url!.AbsolutePath;
            if (path == "/redirect")
            {
                context.Response.StatusCode = 302;
                context.Response.RedirectLocation = $"http://127.0.0.2:{_port}/disk.qcow2";
            }
            else if (_files.TryGetValue(path, out var data))
            {
                context.Response.ContentLength64 = data.Length;
                await context.Response.OutputStream.WriteAsync(data);
            }
            else context.Response.StatusCode = 404;
            context.Response.Close();
        }
    }

    public void Dispose() => _mirror.Close();

    private async Task<string> QueuedImageAsync(string name)
    {
        var (status, image) = await cloud.SendToAsync(cloud.ImageUrl, HttpMethod.Post, "/v2/images", cloud.A.Token,
            new JsonObject { ["name"] = name, ["disk_format"] = "qcow2", ["container_format"] = "bare" });
        Assert.Equal(HttpStatusCode.Created, status);
        return image!["id"]!.GetValue<string>();
    }

    private Task<(HttpStatusCode Status, JsonNode? Body)> ImportAsync(string id, string uri) =>
        cloud.SendToAsync(cloud.ImageUrl, HttpMethod.Post, $"/v2/images/{id}/import", cloud.A.Token,
            new JsonObject { ["method"] = new JsonObject { ["name"] = "web-download", ["uri"] = uri } });

    private async Task<JsonNode> SettledAsync(string id)
    {
        for (var i = 0; i < 300; i++)
        {
            var (_, image) = await cloud.SendToAsync(cloud.ImageUrl, HttpMethod.Get, $"/v2/images/{id}", cloud.A.Token);
            if (image!["status"]!.GetValue<string>() != "importing") return image;
            await Task.Delay(100);
        }
        throw new TimeoutException($"image {id} is still importing");
    }

    [Fact]
    public async Task An_image_is_fetched_from_an_allowed_mirror_and_refused_addresses_and_files_never_become_active()
    {
        var serving = ServeAsync();
        var good = await GlanceApiTests.Qcow2Async();
        _files["/disk.qcow2"] = good;
        _files["/backed.qcow2"] = await GlanceApiTests.Qcow2Async("-b", "{dir}/base.raw", "-F", "raw");
        var (_, methods) = await cloud.SendToAsync(cloud.ImageUrl, HttpMethod.Get, "/v2/info/import", cloud.A.Token);
        Assert.Equal("""["glance-direct","web-download","glance-download"]""", methods!["import-methods"]!["value"]!.ToJsonString());

        var id = await QueuedImageAsync("from-the-web");
        Assert.Equal(HttpStatusCode.Accepted, (await ImportAsync(id, $"http://127.0.0.1:{_port}/disk.qcow2")).Status);
        var image = await SettledAsync(id);
        Assert.Equal("active", image["status"]!.GetValue<string>());
        Assert.Equal(good.Length, image["size"]!.GetValue<long>());
        Assert.Equal(8 << 20, image["virtual_size"]!.GetValue<long>());
        Assert.Equal(Convert.ToHexStringLower(SHA512.HashData(good)), image["os_hash_value"]!.GetValue<string>());
        Assert.Equal("", image["os_glance_failed_import"]!.GetValue<string>());
        Assert.Equal("", image["os_glance_importing_to_stores"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.Conflict, (await ImportAsync(id, $"http://127.0.0.1:{_port}/disk.qcow2")).Status);

        // Refused at once, the image still queued: not http(s), a loopback address not allowed, credentials, a port not allowed.
        var refused = await QueuedImageAsync("refused");
        foreach (var uri in new[]
                 {
                     "file:///etc/passwd", $"http://127.0.0.2:{_port}/disk.qcow2", "http://[::1]/disk.qcow2", "http://169.254.169.254/latest/meta-data/",
                     $"http://user:secret@127.0.0.1:{_port}/disk.qcow2", "http://localhost:8080/disk.qcow2", "gopher://example.com/", "not a url",
                 })
        {
            var (status, body) = await ImportAsync(refused, uri);
            Assert.True(status == HttpStatusCode.BadRequest, $"{uri}: {status} {body}");
        }
        Assert.Equal("queued", (await SettledAsync(refused))["status"]!.GetValue<string>());

        // Accepted, then failing on the way (a redirect to an address not allowed, a 404, a qcow2 with a backing file, a
        // host that does not resolve): each leaves the image queued with no data, the failure named as Glance names it.
        foreach (var url in new[] { $"http://127.0.0.1:{_port}/redirect", $"http://127.0.0.1:{_port}/missing", $"http://127.0.0.1:{_port}/backed.qcow2", "http://does-not.exist.invalid/x" })
        {
            Assert.Equal(HttpStatusCode.Accepted, (await ImportAsync(refused, url)).Status);
            var after = await SettledAsync(refused);
            Assert.True(after["status"]!.GetValue<string>() == "queued", $"{url}: {after}");
            Assert.Null(after["size"]?.GetValue<long?>());
            Assert.Equal("storagecloud", after["os_glance_failed_import"]!.GetValue<string>());
        }
        _mirror.Stop();
        await serving;
    }
}
