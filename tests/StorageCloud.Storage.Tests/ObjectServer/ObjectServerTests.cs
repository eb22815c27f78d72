using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;

namespace StorageCloud.Storage.Tests.ObjectServer;

/// <summary>Swift's object-server API over real HTTP: every verb, the headers it keeps, ranges and conditionals.</summary>
public sealed class ObjectServerTests : IAsyncLifetime
{
    private ObjectServerHost _host = null!;

    public async Task InitializeAsync() => _host = await ObjectServerHost.StartAsync(largeObjectThreshold: 256 * 1024);

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private HttpClient Http => _host.Client;

    private static HttpRequestMessage Req(HttpMethod method, string path, string? timestamp = null, HttpContent? content = null, params (string, string)[] headers)
    {
        var request = new HttpRequestMessage(method, path) { Content = content };
        if (timestamp is not null) request.Headers.TryAddWithoutValidation("X-Timestamp", timestamp);
        foreach (var (k, v) in headers)
        {
            if (!request.Headers.TryAddWithoutValidation(k, v)) request.Content!.Headers.TryAddWithoutValidation(k, v);
        }
        return request;
    }

    private static ByteArrayContent Body(byte[] data, string type = "application/octet-stream")
    {
        var content = new ByteArrayContent(data);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(type);
        return content;
    }

    private async Task<HttpResponseMessage> Put(string path, byte[] data, string? ts = null, params (string, string)[] headers)
        => await Http.SendAsync(Req(HttpMethod.Put, path, ts ?? ObjectServerHost.NextTimestamp(), Body(data), headers));

    private static string Md5(byte[] data) => Convert.ToHexStringLower(MD5.HashData(data));

    private static string H(HttpResponseMessage r, string name)
        => r.Headers.TryGetValues(name, out var v) ? string.Join(",", v) : r.Content.Headers.TryGetValues(name, out var c) ? string.Join(",", c) : "";

    [Fact]
    public async Task Put_then_get_and_head_return_the_object_and_its_headers()
    {
        var data = Encoding.UTF8.GetBytes("hello object server");
        var ts = ObjectServerHost.NextTimestamp();
        using var put = await Put("/sda/3/AUTH_a/c/dir/o%20x.txt", data, ts,
            ("X-Object-Meta-Color", "blue"), ("Content-Disposition", "inline"), ("X-Object-Sysmeta-Slo", "yes"), ("X-Unkept", "no"));
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        Assert.Equal($"\"{Md5(data)}\"", H(put, "ETag"));

        using var get = await Http.GetAsync("/sda/3/AUTH_a/c/dir/o%20x.txt");
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.Equal(data, await get.Content.ReadAsByteArrayAsync());
        Assert.Equal($"\"{Md5(data)}\"", H(get, "ETag"));
        Assert.Equal("application/octet-stream", H(get, "Content-Type"));
        Assert.Equal(ts, H(get, "X-Timestamp"));
        Assert.Equal(ts, H(get, "X-Backend-Timestamp"));
        Assert.Equal("blue", H(get, "X-Object-Meta-Color"));
        Assert.Equal("inline", H(get, "Content-Disposition"));
        Assert.Equal("yes", H(get, "X-Object-Sysmeta-Slo"));
        Assert.Equal("", H(get, "X-Unkept"));
        Assert.Equal("bytes", H(get, "Accept-Ranges"));
        var lastModified = DateTimeOffset.Parse(H(get, "Last-Modified"));
        Assert.Equal((long)Math.Ceiling(double.Parse(ts, System.Globalization.CultureInfo.InvariantCulture)), lastModified.ToUnixTimeSeconds());

        using var head = await Http.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/sda/3/AUTH_a/c/dir/o%20x.txt"));
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal(data.Length, head.Content.Headers.ContentLength);
        Assert.Empty(await head.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Chunked_and_large_bodies_are_stored_whole()
    {
        var data = RandomNumberGenerator.GetBytes(700_000);
        var chunked = new StreamContent(new MemoryStream(data));
        chunked.Headers.ContentType = MediaTypeHeaderValue.Parse("video/mp4");
        var request = Req(HttpMethod.Put, "/sda/1/a/c/chunked", ObjectServerHost.NextTimestamp(), chunked);
        request.Headers.TransferEncodingChunked = true;
        using (var put = await Http.SendAsync(request)) Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        using (var put = await Put("/sda/1/a/c/large", data)) Assert.Equal($"\"{Md5(data)}\"", H(put, "ETag"));
        foreach (var name in new[] { "chunked", "large" })
        {
            using var get = await Http.GetAsync($"/sda/1/a/c/{name}");
            Assert.Equal(Md5(data), Md5(await get.Content.ReadAsByteArrayAsync()));
            Assert.Equal($"\"{Md5(data)}\"", H(get, "ETag"));
        }
    }

    [Fact]
    public async Task Timestamps_order_puts_posts_and_deletes()
    {
        var t1 = ObjectServerHost.NextTimestamp();
        var t2 = ObjectServerHost.NextTimestamp();
        var t3 = ObjectServerHost.NextTimestamp();
        var t4 = ObjectServerHost.NextTimestamp();
        using (var put = await Put("/sda/2/a/c/o", "v2"u8.ToArray(), t2)) Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        using (var older = await Put("/sda/2/a/c/o", "v1"u8.ToArray(), t1))
        {
            Assert.Equal(HttpStatusCode.Conflict, older.StatusCode);
            Assert.Equal(t2, H(older, "X-Backend-Timestamp"));
        }
        using (var post = await Http.SendAsync(Req(HttpMethod.Post, "/sda/2/a/c/o", t3, null, ("X-Object-Meta-New", "1"))))
            Assert.Equal(HttpStatusCode.Accepted, post.StatusCode);
        using (var stale = await Http.SendAsync(Req(HttpMethod.Post, "/sda/2/a/c/o", t1)))
            Assert.Equal(HttpStatusCode.Conflict, stale.StatusCode);
        using (var get = await Http.GetAsync("/sda/2/a/c/o"))
        {
            Assert.Equal("1", H(get, "X-Object-Meta-New"));
            Assert.Equal(t3, H(get, "X-Timestamp"));
            Assert.Equal("v2", await get.Content.ReadAsStringAsync());
        }
        using (var oldDelete = await Http.SendAsync(Req(HttpMethod.Delete, "/sda/2/a/c/o", t2)))
            Assert.Equal(HttpStatusCode.Conflict, oldDelete.StatusCode);
        using (var delete = await Http.SendAsync(Req(HttpMethod.Delete, "/sda/2/a/c/o", t4)))
            Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        using (var gone = await Http.GetAsync("/sda/2/a/c/o"))
        {
            Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
            Assert.Equal(t4, H(gone, "X-Backend-Timestamp"));
            Assert.Equal("<html><h1>Not Found</h1><p>The resource could not be found.</p></html>", await gone.Content.ReadAsStringAsync());
        }
        using (var again = await Http.SendAsync(Req(HttpMethod.Delete, "/sda/2/a/c/never", ObjectServerHost.NextTimestamp())))
            Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
        using (var postMissing = await Http.SendAsync(Req(HttpMethod.Post, "/sda/2/a/c/never", ObjectServerHost.NextTimestamp())))
            Assert.Equal(HttpStatusCode.NotFound, postMissing.StatusCode);
    }

    [Fact]
    public async Task Ranges_single_suffix_multiple_and_unsatisfiable()
    {
        var data = Encoding.ASCII.GetBytes("0123456789abcdefghij");
        using (await Put("/sda/4/a/c/r", data)) { }
        async Task<HttpResponseMessage> Get(string range)
        {
            var request = new HttpRequestMessage(HttpMethod.Get, "/sda/4/a/c/r");
            request.Headers.TryAddWithoutValidation("Range", range);
            return await Http.SendAsync(request);
        }
        using (var r = await Get("bytes=2-5"))
        {
            Assert.Equal(HttpStatusCode.PartialContent, r.StatusCode);
            Assert.Equal("2345", await r.Content.ReadAsStringAsync());
            Assert.Equal("bytes 2-5/20", H(r, "Content-Range"));
        }
        using (var r = await Get("bytes=-3")) Assert.Equal("hij", await r.Content.ReadAsStringAsync());
        using (var r = await Get("bytes=15-")) Assert.Equal("fghij", await r.Content.ReadAsStringAsync());
        using (var r = await Get("bytes=0-1,10-11"))
        {
            Assert.Equal(HttpStatusCode.PartialContent, r.StatusCode);
            var type = r.Content.Headers.ContentType!;
            Assert.Equal("multipart/byteranges", type.MediaType);
            var boundary = type.Parameters.Single(p => p.Name == "boundary").Value!;
            var body = await r.Content.ReadAsStringAsync();
            Assert.Equal(
                $"--{boundary}\r\nContent-Type: application/octet-stream\r\nContent-Range: bytes 0-1/20\r\n\r\n01\r\n" +
                $"--{boundary}\r\nContent-Type: application/octet-stream\r\nContent-Range: bytes 10-11/20\r\n\r\nab\r\n--{boundary}--", body);
        }
        using (var r = await Get("bytes=50-60"))
        {
            Assert.Equal(HttpStatusCode.RequestedRangeNotSatisfiable, r.StatusCode);
            Assert.Equal("bytes */20", H(r, "Content-Range"));
        }
        using (var r = await Get("bytes=5-2")) Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        using (var r = await Get("pages=1")) Assert.Equal(data, await r.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Conditional_requests()
    {
        var data = "conditional"u8.ToArray();
        using (await Put("/sda/5/a/c/cond", data)) { }
        var etag = $"\"{Md5(data)}\"";
        async Task<HttpStatusCode> Get(string header, string value)
        {
            var request = new HttpRequestMessage(HttpMethod.Get, "/sda/5/a/c/cond");
            request.Headers.TryAddWithoutValidation(header, value);
            using var response = await Http.SendAsync(request);
            return response.StatusCode;
        }
        Assert.Equal(HttpStatusCode.OK, await Get("If-Match", etag));
        Assert.Equal(HttpStatusCode.PreconditionFailed, await Get("If-Match", "\"nope\""));
        Assert.Equal(HttpStatusCode.NotModified, await Get("If-None-Match", etag));
        Assert.Equal(HttpStatusCode.OK, await Get("If-None-Match", "\"other\""));
        Assert.Equal(HttpStatusCode.NotModified, await Get("If-Modified-Since", DateTimeOffset.UtcNow.AddDays(1).ToString("R")));
        Assert.Equal(HttpStatusCode.OK, await Get("If-Modified-Since", DateTimeOffset.UtcNow.AddDays(-1).ToString("R")));
        Assert.Equal(HttpStatusCode.PreconditionFailed, await Get("If-Unmodified-Since", DateTimeOffset.UtcNow.AddDays(-1).ToString("R")));
        using var put = await Put("/sda/5/a/c/cond", data, null, ("If-None-Match", "*"));
        Assert.Equal(HttpStatusCode.PreconditionFailed, put.StatusCode);
    }

    [Fact]
    public async Task Delete_at_expires_and_if_delete_at_guards_the_delete()
    {
        var soon = _host.Clock.GetUtcNow().ToUnixTimeSeconds() + 2;
        using (var put = await Put("/sda/6/a/c/exp", "bye"u8.ToArray(), null, ("X-Delete-At", soon.ToString())))
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        using (var get = await Http.GetAsync("/sda/6/a/c/exp")) Assert.Equal(soon.ToString(), H(get, "X-Delete-At"));
        using (var wrong = await Http.SendAsync(Req(HttpMethod.Delete, "/sda/6/a/c/exp", ObjectServerHost.NextTimestamp(), null, ("X-If-Delete-At", "12345"))))
            Assert.Equal(HttpStatusCode.PreconditionFailed, wrong.StatusCode);
        using (var before = await Http.GetAsync("/sda/6/a/c/exp")) Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        _host.Clock.Advance(TimeSpan.FromSeconds(3));
        using (var expired = await Http.GetAsync("/sda/6/a/c/exp")) Assert.Equal(HttpStatusCode.NotFound, expired.StatusCode);
        using (var past = await Put("/sda/6/a/c/past", "x"u8.ToArray(), null, ("X-Delete-At", "1000")))
        {
            Assert.Equal(HttpStatusCode.BadRequest, past.StatusCode);
            Assert.Equal("X-Delete-At in past", await past.Content.ReadAsStringAsync());
        }
    }

    public static TheoryData<string, string?, string, int, string?> BadRequests => new()
    {
        { "PUT", null, "/sda/1/a/c/o", 400, "Missing X-Timestamp header" },
        { "PUT", "yesterday", "/sda/1/a/c/o", 400, "Invalid X-Timestamp header" },
        { "DELETE", "-5", "/sda/1/a/c/o", 400, "Invalid X-Timestamp header" },
        { "PUT", "ts", "/sdz/1/a/c/o", 507, null },
        { "PUT", "ts", "/nomarker/1/a/c/o", 507, null },
        { "PUT", "ts", "/sda/x/a/c/o", 400, "Invalid partition: x" },
        { "PUT", "ts", "/sda/1/a/c", 400, null },
        { "GET", null, "/sda/1/a/c/%FF%FE", 412, "Invalid UTF8 or contains NULL" },
        { "PUT", "ts", "/sda/1/a/c/" + new string('n', 1025), 400, "Object name length of 1025 longer than 1024" },
        { "COPY", "ts", "/sda/1/a/c/o", 405, null },
        { "PUT", "ts", "/../1/a/c/o", 400, null }, // dot segments never reach a device name
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task Bad_requests_get_swifts_answers(string method, string? timestamp, string path, int status, string? body)
    {
        var ts = timestamp == "ts" ? ObjectServerHost.NextTimestamp() : timestamp;
        var content = method == "PUT" ? Body("x"u8.ToArray()) : null;
        using var response = await Http.SendAsync(Req(new HttpMethod(method), path, ts, content));
        Assert.Equal(status, (int)response.StatusCode);
        if (body is not null) Assert.Equal(body, await response.Content.ReadAsStringAsync());
        if (status == 507) Assert.Contains("Insufficient Storage", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Names_that_look_like_paths_are_only_names()
    {
        // Object names are hashed, never used as file paths: "../" in a name stores and reads like any other name.
        using (var put = await Put("/sda/12/a/c/..%2F..%2F..%2Fetc%2Fpasswd", "not a file"u8.ToArray()))
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        using var get = await Http.GetAsync("/sda/12/a/c/..%2F..%2F..%2Fetc%2Fpasswd");
        Assert.Equal("not a file", await get.Content.ReadAsStringAsync());
        Assert.DoesNotContain(Directory.EnumerateFiles(_host.DevicePath("sda"), "*", SearchOption.AllDirectories), f => f.EndsWith("passwd"));
    }

    [Fact]
    public async Task Bad_bodies_and_metadata_store_nothing()
    {
        using (var mismatch = await Put("/sda/7/a/c/etag", "data"u8.ToArray(), null, ("ETag", "0123456789abcdef0123456789abcdef")))
            Assert.Equal(HttpStatusCode.UnprocessableEntity, mismatch.StatusCode);
        using (var bigMismatch = await Put("/sda/7/a/c/etag", new byte[300_000], null, ("ETag", "0123456789abcdef0123456789abcdef")))
            Assert.Equal(HttpStatusCode.UnprocessableEntity, bigMismatch.StatusCode);
        using (var get = await Http.GetAsync("/sda/7/a/c/etag")) Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);

        using (var longMeta = await Put("/sda/7/a/c/meta", "x"u8.ToArray(), null, ("X-Object-Meta-" + new string('k', 129), "v")))
        {
            Assert.Equal(HttpStatusCode.BadRequest, longMeta.StatusCode);
            Assert.StartsWith("Metadata name too long", await longMeta.Content.ReadAsStringAsync());
        }
        using (var longValue = await Put("/sda/7/a/c/meta", "x"u8.ToArray(), null, ("X-Object-Meta-K", new string('v', 257))))
            Assert.Equal(HttpStatusCode.BadRequest, longValue.StatusCode);
        var noType = new ByteArrayContent("x"u8.ToArray());
        using (var untyped = await Http.SendAsync(Req(HttpMethod.Put, "/sda/7/a/c/meta", ObjectServerHost.NextTimestamp(), noType)))
        {
            Assert.Equal(HttpStatusCode.BadRequest, untyped.StatusCode);
            Assert.Equal("No content type", await untyped.Content.ReadAsStringAsync());
        }
        using (var get = await Http.GetAsync("/sda/7/a/c/meta")) Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);
    }

    [Fact]
    public async Task A_client_that_disconnects_mid_body_leaves_no_object()
    {
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(new Uri(_host.BaseUrl).Host, new Uri(_host.BaseUrl).Port);
        var stream = tcp.GetStream();
        var head = $"PUT /sda/8/a/c/cut HTTP/1.1\r\nHost: x\r\nX-Timestamp: {ObjectServerHost.NextTimestamp()}\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head + new string('a', 400)));
        await stream.FlushAsync();
        await Task.Delay(200);
        tcp.Close();
        await Task.Delay(300);
        using var get = await Http.GetAsync("/sda/8/a/c/cut");
        Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);
    }

    [Fact]
    public async Task A_damaged_record_is_a_404_and_is_quarantined()
    {
        var data = Enumerable.Repeat((byte)'z', 4000).ToArray();
        using (await Put("/sdb/9/a/c/rot", data)) { }
        using (await Put("/sdb/9/a/c/after", "after"u8.ToArray())) { }
        var engine = _host.Node.Devices["sdb"];
        var hash = new byte[16];
        _host.Node.Hasher.HashPath("a", "c", "rot", hash);
        var location = engine.Get(9, hash)!.Location;
        var segment = engine.Log.PathOf(location.Segment);
        await using (var file = new FileStream(segment, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite))
        {
            file.Position = location.Offset + location.Length - 50;
            var b = file.ReadByte();
            file.Position--;
            file.WriteByte((byte)(b ^ 0x40));
        }
        using (var get = await Http.GetAsync("/sdb/9/a/c/rot")) Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);
        Assert.Equal(1, engine.QuarantinedCount);
        Assert.Null(engine.Get(9, hash));
        using (var other = await Http.GetAsync("/sdb/9/a/c/after")) Assert.Equal("after", await other.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Concurrent_writes_of_one_name_end_with_the_newest()
    {
        for (var round = 0; round < 5; round++)
        {
            var stamps = Enumerable.Range(0, 12).Select(_ => ObjectServerHost.NextTimestamp()).ToList();
            var ops = stamps.Select((ts, i) => (ts, kind: i % 3)).OrderBy(_ => Random.Shared.Next()).ToList();
            var path = $"/sda/10/a/c/race{round}";
            await Task.WhenAll(ops.Select(async op =>
            {
                using var response = op.kind switch
                {
                    0 => await Put(path, Encoding.UTF8.GetBytes(op.ts), op.ts),
                    1 => await Http.SendAsync(Req(HttpMethod.Post, path, op.ts, null, ("X-Object-Meta-Ts", op.ts))),
                    _ => await Http.SendAsync(Req(HttpMethod.Delete, path, op.ts)),
                };
            }));
            var newest = stamps.Select((ts, i) => (ts, kind: i % 3)).Last();
            using var get = await Http.GetAsync(path);
            var newestPutOrDelete = stamps.Select((ts, i) => (ts, kind: i % 3)).Last(o => o.kind != 1);
            if (newestPutOrDelete.kind == 2)
            {
                Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);
                Assert.Equal(newestPutOrDelete.ts, H(get, "X-Backend-Timestamp"));
            }
            else
            {
                Assert.Equal(newestPutOrDelete.ts, await get.Content.ReadAsStringAsync());
            }
            Assert.NotEqual(default, newest);
        }
    }

    [Fact]
    public async Task Replicate_answers_the_partitions_suffix_hashes()
    {
        using (var empty = await Http.SendAsync(new HttpRequestMessage(new HttpMethod("REPLICATE"), "/sda/11")))
            Assert.Equal("{}", await empty.Content.ReadAsStringAsync());
        using (await Put("/sda/11/a/c/one", "1"u8.ToArray())) { }
        var hash = new byte[16];
        _host.Node.Hasher.HashPath("a", "c", "one", hash);
        var suffix = Convert.ToHexStringLower(hash)[^3..];
        using var response = await Http.SendAsync(new HttpRequestMessage(new HttpMethod("REPLICATE"), "/sda/11"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var hashes = System.Text.Json.JsonSerializer.Deserialize<Dictionary<string, string>>(await response.Content.ReadAsStringAsync())!;
        Assert.Equal([suffix], hashes.Keys);
        Assert.Matches("^[0-9a-f]{32}$", hashes[suffix]);
        using (var bad = await Http.SendAsync(new HttpRequestMessage(new HttpMethod("REPLICATE"), "/sda/notapartition")))
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        using (var unmounted = await Http.SendAsync(new HttpRequestMessage(new HttpMethod("REPLICATE"), "/nomarker/11")))
            Assert.Equal((HttpStatusCode)507, unmounted.StatusCode);
    }
}
