using System.Net;
using System.Text.Json;
using StorageCloud.Storage.Tests.ObjectServer;

namespace StorageCloud.Storage.Tests.Container;

/// <summary>The container server over real HTTP: containers, object rows, counts, metadata and the three listing formats.</summary>
public sealed class ContainerServerTests : IAsyncLifetime
{
    private ObjectServerHost _host = null!;

    public async Task InitializeAsync() => _host = await ObjectServerHost.StartAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private HttpClient Http => _host.ContainerClient;

    private async Task<HttpResponseMessage> Send(string method, string path, params (string, string)[] headers)
    {
        var request = new HttpRequestMessage(new HttpMethod(method), path);
        request.Headers.TryAddWithoutValidation("X-Timestamp", ObjectServerHost.NextTimestamp());
        foreach (var (k, v) in headers) request.Headers.TryAddWithoutValidation(k, v);
        return await Http.SendAsync(request);
    }

    private async Task Row(string container, string name, long size, string type = "text/plain")
    {
        using var r = await Send("PUT", $"/sda/1/AUTH_a/{container}/{name}", ("X-Size", size.ToString()), ("X-Content-Type", type), ("X-Etag", "d41d8cd98f00b204e9800998ecf8427e"));
        Assert.Equal(HttpStatusCode.Created, r.StatusCode);
    }

    private static string H(HttpResponseMessage r, string name)
        => r.Headers.TryGetValues(name, out var v) ? string.Join(",", v) : r.Content.Headers.TryGetValues(name, out var c) ? string.Join(",", c) : "";

    [Fact]
    public async Task Container_lifecycle_counts_and_metadata()
    {
        using (var create = await Send("PUT", "/sda/1/AUTH_a/c1", ("X-Container-Meta-Color", "red"), ("X-Container-Read", ".r:*")))
            Assert.Equal(HttpStatusCode.Created, create.StatusCode);
        using (var again = await Send("PUT", "/sda/1/AUTH_a/c1")) Assert.Equal(HttpStatusCode.Accepted, again.StatusCode);
        await Row("c1", "a.txt", 10);
        await Row("c1", "b.txt", 32);
        await Row("c1", "a.txt", 15); // an overwrite replaces the row
        using (var head = await Send("HEAD", "/sda/1/AUTH_a/c1"))
        {
            Assert.Equal(HttpStatusCode.NoContent, head.StatusCode);
            Assert.Equal("2", H(head, "X-Container-Object-Count"));
            Assert.Equal("47", H(head, "X-Container-Bytes-Used"));
            Assert.Equal("red", H(head, "X-Container-Meta-Color"));
            Assert.Equal(".r:*", H(head, "X-Container-Read"));
            Assert.Equal("Policy-0", H(head, "X-Storage-Policy"));
        }
        using (var post = await Send("POST", "/sda/1/AUTH_a/c1", ("X-Container-Meta-Color", "blue"))) Assert.Equal(HttpStatusCode.NoContent, post.StatusCode);
        using (var notEmpty = await Send("DELETE", "/sda/1/AUTH_a/c1")) Assert.Equal(HttpStatusCode.Conflict, notEmpty.StatusCode);
        using (var d1 = await Send("DELETE", "/sda/1/AUTH_a/c1/a.txt")) Assert.Equal(HttpStatusCode.NoContent, d1.StatusCode);
        using (var d2 = await Send("DELETE", "/sda/1/AUTH_a/c1/b.txt")) Assert.Equal(HttpStatusCode.NoContent, d2.StatusCode);
        using (var head = await Send("HEAD", "/sda/1/AUTH_a/c1"))
        {
            Assert.Equal("0", H(head, "X-Container-Object-Count"));
            Assert.Equal("blue", H(head, "X-Container-Meta-Color"));
        }
        using (var delete = await Send("DELETE", "/sda/1/AUTH_a/c1")) Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        using (var gone = await Send("GET", "/sda/1/AUTH_a/c1")) Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        using (var twice = await Send("DELETE", "/sda/1/AUTH_a/c1")) Assert.Equal(HttpStatusCode.NotFound, twice.StatusCode);
        using (var orphan = await Send("PUT", "/sda/1/AUTH_a/nope/x", ("X-Size", "1"))) Assert.Equal(HttpStatusCode.NotFound, orphan.StatusCode);
    }

    [Fact]
    public async Task Listings_in_swifts_three_formats()
    {
        using (await Send("PUT", "/sda/1/AUTH_a/pics")) { }
        await Row("pics", "2024/beach.jpg", 100, "image/jpeg");
        await Row("pics", "2024/sun%20set.jpg", 200, "image/jpeg");
        await Row("pics", "caf%C3%A9.txt", 3);
        await Row("pics", "slo", 5, "application/octet-stream;swift_bytes=1048576");

        using (var plain = await Send("GET", "/sda/1/AUTH_a/pics"))
        {
            Assert.Equal(HttpStatusCode.OK, plain.StatusCode);
            Assert.Equal("text/plain; charset=utf-8", H(plain, "Content-Type"));
            Assert.Equal("2024/beach.jpg\n2024/sun set.jpg\ncafé.txt\nslo\n", await plain.Content.ReadAsStringAsync());
        }
        using (var json = await Send("GET", "/sda/1/AUTH_a/pics?format=json&delimiter=/"))
        {
            var body = await json.Content.ReadAsStringAsync();
            Assert.StartsWith("[{\"subdir\": \"2024/\"}, {\"bytes\": 3, \"hash\": \"d41d8cd98f00b204e9800998ecf8427e\", \"name\": \"caf\\u00e9.txt\", \"content_type\": \"text/plain\", \"last_modified\": \"", body);
            using var doc = JsonDocument.Parse(body);
            var slo = doc.RootElement[2];
            Assert.Equal(1048576, slo.GetProperty("bytes").GetInt64());
            Assert.Equal("application/octet-stream", slo.GetProperty("content_type").GetString());
            Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$", slo.GetProperty("last_modified").GetString()!);
        }
        using (var xml = await Send("GET", "/sda/1/AUTH_a/pics?format=xml&prefix=2024/&limit=1"))
        {
            var body = await xml.Content.ReadAsStringAsync();
            Assert.StartsWith("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<container name=\"pics\"><object><name>2024/beach.jpg</name><hash>d41d8cd98f00b204e9800998ecf8427e</hash><bytes>100</bytes><content_type>image/jpeg</content_type><last_modified>", body);
            Assert.EndsWith("</last_modified></object></container>", body);
        }
        using (var reverse = await Send("GET", "/sda/1/AUTH_a/pics?reverse=true&marker=slo"))
            Assert.Equal("café.txt\n2024/sun set.jpg\n2024/beach.jpg\n", await reverse.Content.ReadAsStringAsync());
        using (var accept = await Send("GET", "/sda/1/AUTH_a/pics?limit=1", ("Accept", "application/json")))
            Assert.Equal("application/json; charset=utf-8", H(accept, "Content-Type"));
        using (var empty = await Send("GET", "/sda/1/AUTH_a/pics?prefix=zzz")) Assert.Equal(HttpStatusCode.NoContent, empty.StatusCode);
        using (var emptyJson = await Send("GET", "/sda/1/AUTH_a/pics?prefix=zzz&format=json")) Assert.Equal("[]", await emptyJson.Content.ReadAsStringAsync());
        using (var emptyXml = await Send("GET", "/sda/1/AUTH_a/pics?prefix=zzz&format=xml"))
            Assert.Equal("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<container name=\"pics\" />", await emptyXml.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("?limit=-1")]
    [InlineData("?limit=lots")]
    [InlineData("?limit=5000.0")]
    public async Task A_limit_that_is_not_all_digits_is_ignored_as_swift_ignores_it(string query)
    {
        using (await Send("PUT", "/sda/1/AUTH_a/ignored")) { }
        await Row("ignored", "a", 1);
        await Row("ignored", "b", 1);
        using var listing = await Send("GET", "/sda/1/AUTH_a/ignored" + query);
        Assert.Equal(HttpStatusCode.OK, listing.StatusCode);
        Assert.Equal("a\nb\n", await listing.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_delimiter_of_several_characters_folds_names_as_one_character_does()
    {
        using (await Send("PUT", "/sda/1/AUTH_a/multi")) { }
        foreach (var name in new[] { "test", "test-%26bar", "test-%26foo", "test-'baz" }) await Row("multi", name, 1);
        using (var listing = await Send("GET", "/sda/1/AUTH_a/multi?delimiter=-%26"))
            Assert.Equal("test\ntest-&\ntest-'baz\n", await listing.Content.ReadAsStringAsync());
        using (var reverse = await Send("GET", "/sda/1/AUTH_a/multi?delimiter=-%26&reverse=on"))
            Assert.Equal("test-'baz\ntest-&\ntest\n", await reverse.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("?limit=10001", 412, "Maximum limit is 10000")]
    [InlineData("?delimiter=a%EF%BF%BF", 412, "Bad delimiter")]
    public async Task Bad_listing_parameters(string query, int status, string body)
    {
        using (await Send("PUT", "/sda/1/AUTH_a/params")) { }
        using var response = await Send("GET", "/sda/1/AUTH_a/params" + query);
        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal(body, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Bad_names_and_timestamps()
    {
        using (var longName = await Send("PUT", "/sda/1/AUTH_a/" + new string('c', 257))) Assert.Equal(HttpStatusCode.BadRequest, longName.StatusCode);
        var noTs = new HttpRequestMessage(HttpMethod.Put, "/sda/1/AUTH_a/nots");
        using (var missing = await Http.SendAsync(noTs))
        {
            Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);
            Assert.Equal("Missing X-Timestamp header", await missing.Content.ReadAsStringAsync());
        }
        using (var device = await Send("PUT", "/sdq/1/AUTH_a/c")) Assert.Equal((HttpStatusCode)507, device.StatusCode);
        using (await Send("PUT", "/sda/1/AUTH_a/names")) { }
        using (var longObject = await Send("PUT", "/sda/1/AUTH_a/names/" + new string('o', 1025), ("X-Size", "1")))
        {
            Assert.Equal(HttpStatusCode.BadRequest, longObject.StatusCode);
            Assert.Equal("Object name length of 1025 longer than 1024", await longObject.Content.ReadAsStringAsync());
        }
        using (var badSize = await Send("PUT", "/sda/1/AUTH_a/names/o", ("X-Size", "many"))) Assert.Equal(HttpStatusCode.BadRequest, badSize.StatusCode);
        using (var badUtf8 = await Send("GET", "/sda/1/AUTH_a/%FF")) Assert.Equal(HttpStatusCode.PreconditionFailed, badUtf8.StatusCode);
    }

    [Fact]
    public async Task Deleted_rows_are_reclaimed_after_the_reclaim_age()
    {
        using (await Send("PUT", "/sda/1/AUTH_a/rc")) { }
        await Row("rc", "keep", 1);
        await Row("rc", "gone", 2);
        using (var d = await Send("DELETE", "/sda/1/AUTH_a/rc/gone")) Assert.Equal(HttpStatusCode.NoContent, d.StatusCode);
        var store = _host.Containers.Stores["sda"];
        // Not yet: the delete is younger than the reclaim age.
        Assert.Equal(0, store.ReclaimDeletedRows(StorageCloud.Common.Time.SwiftTimestamp.Parse("1000000000")));
        Assert.Equal(1, store.ReclaimDeletedRows(StorageCloud.Common.Time.SwiftTimestamp.Now().AddTicks(100_000_000)));
        using var listing = await Send("GET", "/sda/1/AUTH_a/rc");
        Assert.Equal("keep\n", await listing.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Object_writes_reach_the_container_listing()
    {
        using (await Send("PUT", "/sda/1/AUTH_a/live")) { }
        var containerHost = $"{Http.BaseAddress!.Host}:{Http.BaseAddress.Port}";
        async Task<HttpResponseMessage> ObjectRequest(HttpMethod method, string name, byte[]? body)
        {
            var request = new HttpRequestMessage(method, $"/sda/9/AUTH_a/live/{name}");
            if (body is not null)
            {
                request.Content = new ByteArrayContent(body);
                request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("text/csv");
            }
            request.Headers.TryAddWithoutValidation("X-Timestamp", ObjectServerHost.NextTimestamp());
            request.Headers.TryAddWithoutValidation("X-Container-Host", containerHost);
            request.Headers.TryAddWithoutValidation("X-Container-Device", "sda");
            request.Headers.TryAddWithoutValidation("X-Container-Partition", "1");
            return await _host.Client.SendAsync(request);
        }
        using (var put = await ObjectRequest(HttpMethod.Put, "report.csv", "a,b\n1,2\n"u8.ToArray())) Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        using (var listing = await Send("GET", "/sda/1/AUTH_a/live?format=json"))
        {
            using var doc = JsonDocument.Parse(await listing.Content.ReadAsStringAsync());
            var row = Assert.Single(doc.RootElement.EnumerateArray());
            Assert.Equal("report.csv", row.GetProperty("name").GetString());
            Assert.Equal(8, row.GetProperty("bytes").GetInt64());
            Assert.Equal("text/csv", row.GetProperty("content_type").GetString());
            Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.MD5.HashData("a,b\n1,2\n"u8)), row.GetProperty("hash").GetString());
        }
        using (var delete = await ObjectRequest(HttpMethod.Delete, "report.csv", null)) Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        using (var head = await Send("HEAD", "/sda/1/AUTH_a/live")) Assert.Equal("0", H(head, "X-Container-Object-Count"));
    }
}
