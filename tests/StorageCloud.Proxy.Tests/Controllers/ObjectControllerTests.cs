using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;

namespace StorageCloud.Proxy.Tests.Controllers;

public sealed class ObjectControllerTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    private ClusterHost Host => fixture.Host;
    private string Token => fixture.Token;

    [Fact]
    public async Task Put_then_get_head_and_range_return_the_bytes_and_swift_headers()
    {
        var c = await fixture.NewContainerAsync();
        using (var put = await Host.SendAsync(HttpMethod.Put, c + "/hello.txt", Token, new StringContent("hello world"), ("X-Object-Meta-Color", "blue")))
        {
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
            Assert.Equal("5eb63bbbe01eeed093cb22bb8f5acdc3", put.Headers.GetValues("ETag").Single());
            Assert.NotNull(put.Content.Headers.LastModified);
        }
        using var get = await Host.SendAsync(HttpMethod.Get, c + "/hello.txt", Token);
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.Equal("hello world", await get.Content.ReadAsStringAsync());
        Assert.Equal("blue", get.Headers.GetValues("X-Object-Meta-Color").Single());
        Assert.Equal("5eb63bbbe01eeed093cb22bb8f5acdc3", get.Headers.GetValues("ETag").Single());
        Assert.Equal("bytes", get.Headers.GetValues("Accept-Ranges").Single());
        Assert.False(get.Headers.Contains("X-Backend-Timestamp"));

        using var head = await Host.SendAsync(HttpMethod.Head, c + "/hello.txt", Token);
        Assert.Equal(11, head.Content.Headers.ContentLength);
        using var range = await Host.SendAsync(HttpMethod.Get, c + "/hello.txt", Token, null, ("Range", "bytes=6-"));
        Assert.Equal(HttpStatusCode.PartialContent, range.StatusCode);
        Assert.Equal("world", await range.Content.ReadAsStringAsync());
        Assert.Equal("bytes 6-10/11", range.Content.Headers.ContentRange!.ToString());
    }

    [Fact]
    public async Task Content_type_is_guessed_from_the_name_when_absent_or_asked_for()
    {
        var c = await fixture.NewContainerAsync();
        var bare = new ByteArrayContent("{}"u8.ToArray());
        using (var put = await Host.SendAsync(HttpMethod.Put, c + "/a.json", Token, bare)) Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        var typed = new ByteArrayContent("x"u8.ToArray());
        typed.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("text/plain");
        using (var put = await Host.SendAsync(HttpMethod.Put, c + "/b.png", Token, typed, ("X-Detect-Content-Type", "true"))) Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        using (var put = await Host.SendAsync(HttpMethod.Put, c + "/noext", Token, new ByteArrayContent([1]))) Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        Assert.Equal("application/json", (await Host.SendAsync(HttpMethod.Head, c + "/a.json", Token)).Content.Headers.ContentType!.MediaType);
        Assert.Equal("image/png", (await Host.SendAsync(HttpMethod.Head, c + "/b.png", Token)).Content.Headers.ContentType!.MediaType);
        Assert.Equal("application/octet-stream", (await Host.SendAsync(HttpMethod.Head, c + "/noext", Token)).Content.Headers.ContentType!.MediaType);
    }

    [Fact]
    public async Task Chunked_upload_of_several_megabytes_round_trips_with_its_md5()
    {
        var c = await fixture.NewContainerAsync();
        var data = RandomNumberGenerator.GetBytes(5 * 1024 * 1024 + 17);
        var content = new StreamContent(new MemoryStream(data));
        content.Headers.ContentLength = null;
        using var request = new HttpRequestMessage(HttpMethod.Put, c + "/big") { Content = content };
        request.Headers.Add("X-Auth-Token", Token);
        request.Headers.TransferEncodingChunked = true;
        using (var put = await Host.Client.SendAsync(request))
        {
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
            Assert.Equal(Convert.ToHexStringLower(MD5.HashData(data)), put.Headers.GetValues("ETag").Single());
        }
        using var get = await Host.SendAsync(HttpMethod.Get, c + "/big", Token);
        Assert.Equal(data, await get.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Etag_mismatch_is_422_and_stores_nothing()
    {
        var c = await fixture.NewContainerAsync();
        using var put = await Host.SendAsync(HttpMethod.Put, c + "/o", Token, new StringContent("hello"), ("ETag", "00000000000000000000000000000000"));
        Assert.Equal((HttpStatusCode)422, put.StatusCode);
        using var get = await Host.SendAsync(HttpMethod.Get, c + "/o", Token);
        Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);
    }

    [Fact]
    public async Task Bad_requests_get_swifts_status_and_text()
    {
        var c = await fixture.NewContainerAsync();
        async Task Expect(HttpStatusCode status, string? text, HttpResponseMessage r)
        {
            Assert.Equal(status, r.StatusCode);
            if (text is not null) Assert.Equal(text, await r.Content.ReadAsStringAsync());
            r.Dispose();
        }
        await Expect(HttpStatusCode.NotFound, null, await Host.SendAsync(HttpMethod.Put, "/v1/AUTH_test/nosuchcontainer/o", Token, new StringContent("x")));
        await Expect(HttpStatusCode.BadRequest, "Object name length of 1025 longer than 1024",
            await Host.SendAsync(HttpMethod.Put, c + "/" + new string('x', 1025), Token, new StringContent("x")));
        await Expect(HttpStatusCode.BadRequest, "Metadata name too long: x-object-meta-" + "K" + new string('k', 128),
            await Host.SendAsync(HttpMethod.Put, c + "/m", Token, new StringContent("x"), ("X-Object-Meta-" + new string('k', 129), "v")));
        await Expect(HttpStatusCode.BadRequest, "Metadata value longer than 256: x-object-meta-V",
            await Host.SendAsync(HttpMethod.Put, c + "/m", Token, new StringContent("x"), ("X-Object-Meta-V", new string('v', 257))));
        var huge = await RawHttp.SendAsync(Host.BaseUrl, $"PUT {c}/huge HTTP/1.1\nHost: x\nX-Auth-Token: {Token}\nContent-Length: 5368709123");
        Assert.Equal(413, huge.Status);
        Assert.Equal("Your request is too large.", huge.Body);
        Assert.StartsWith("HTTP/1.1 413 Request Entity Too Large", huge.Head);
        // Expect: 100-continue: a request refused on its headers is answered without "100 Continue" and no body is read.
        var refused = await RawHttp.SendAsync(Host.BaseUrl, $"PUT /v1/AUTH_test/nosuchcontainer/o HTTP/1.1\nHost: x\nX-Auth-Token: {Token}\nContent-Length: 10\nExpect: 100-continue");
        Assert.Equal(404, refused.Status);
        Assert.DoesNotContain("100 Continue", refused.Head);
        var noLength = await RawHttp.SendAsync(Host.BaseUrl, $"PUT {c}/nolength HTTP/1.1\nHost: x\nX-Auth-Token: {Token}");
        Assert.Equal(411, noLength.Status);
        await Expect(HttpStatusCode.BadRequest, "X-Delete-At in past",
            await Host.SendAsync(HttpMethod.Put, c + "/d", Token, new StringContent("x"), ("X-Delete-At", "1000")));
        await Expect(HttpStatusCode.BadRequest, "Non-integer X-Delete-After",
            await Host.SendAsync(HttpMethod.Put, c + "/d", Token, new StringContent("x"), ("X-Delete-After", "soon")));
        await Expect(HttpStatusCode.PreconditionFailed, "Invalid UTF8 or contains NULL", await Host.SendAsync(HttpMethod.Get, c + "/%FF%FE", Token));
        await Expect(HttpStatusCode.PreconditionFailed, "Bad URL", await Host.SendAsync(HttpMethod.Get, "/v1", Token));
        await Expect(HttpStatusCode.BadRequest, null, await Host.SendAsync(HttpMethod.Get, "/v2/AUTH_test", Token));
        await Expect(HttpStatusCode.NotFound, null, await Host.SendAsync(HttpMethod.Get, c + "/missing", Token));
        await Expect(HttpStatusCode.NotFound, null, await Host.SendAsync(HttpMethod.Delete, c + "/missing", Token));
        await Expect(HttpStatusCode.MethodNotAllowed, null, await Host.SendAsync(new HttpMethod("PATCH"), c + "/x", Token));
    }

    [Fact]
    public async Task Post_replaces_metadata_and_delete_after_sets_an_expiry()
    {
        var c = await fixture.NewContainerAsync();
        using (await Host.SendAsync(HttpMethod.Put, c + "/o", Token, new StringContent("x"), ("X-Object-Meta-A", "1"))) { }
        using (var post = await Host.SendAsync(HttpMethod.Post, c + "/o", Token, null, ("X-Object-Meta-B", "2"), ("X-Delete-After", "3600")))
            Assert.Equal(HttpStatusCode.Accepted, post.StatusCode);
        using var head = await Host.SendAsync(HttpMethod.Head, c + "/o", Token);
        Assert.False(head.Headers.Contains("X-Object-Meta-A"));
        Assert.Equal("2", head.Headers.GetValues("X-Object-Meta-B").Single());
        var deleteAt = long.Parse(head.Headers.GetValues("X-Delete-At").Single());
        Assert.InRange(deleteAt - DateTimeOffset.UtcNow.ToUnixTimeSeconds(), 3590, 3610);
        using var missing = await Host.SendAsync(HttpMethod.Post, c + "/nothere", Token, null, ("X-Object-Meta-B", "2"));
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task Post_changes_content_type_and_content_headers_and_the_listing_shows_the_new_type()
    {
        var c = await fixture.NewContainerAsync();
        using (await Host.SendAsync(HttpMethod.Put, c + "/o", Token, new StringContent("x"), ("Content-Type", "text/a"))) { }
        using (var post = await Host.SendAsync(HttpMethod.Post, c + "/o", Token, null, ("Content-Type", "text/b"), ("Content-Disposition", "attachment; filename=o.txt")))
            Assert.Equal(HttpStatusCode.Accepted, post.StatusCode);
        using (var head = await Host.SendAsync(HttpMethod.Head, c + "/o", Token))
        {
            Assert.Equal("text/b", head.Content.Headers.ContentType!.MediaType);
            Assert.Equal("attachment; filename=o.txt", head.Content.Headers.ContentDisposition!.ToString());
        }
        using var listing = await Host.SendAsync(HttpMethod.Get, c + "?format=json", Token);
        Assert.Contains("\"content_type\": \"text/b\"", await listing.Content.ReadAsStringAsync());
        // A POST without a type keeps the one the object has.
        using (await Host.SendAsync(HttpMethod.Post, c + "/o", Token, null, ("X-Object-Meta-C", "3"))) { }
        using (var again = await Host.SendAsync(HttpMethod.Head, c + "/o", Token)) Assert.Equal("text/b", again.Content.Headers.ContentType!.MediaType);
    }

    [Fact]
    public async Task Copy_and_put_with_copy_from_carry_data_and_metadata()
    {
        var c = await fixture.NewContainerAsync();
        var c2 = await fixture.NewContainerAsync();
        var payload = new StringContent("payload");
        payload.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("text/x-src");
        using (await Host.SendAsync(HttpMethod.Put, c + "/src", Token, payload, ("X-Object-Meta-Kept", "yes"))) { }
        using (var copy = await Host.SendAsync(new HttpMethod("COPY"), c + "/src", Token, null, ("Destination", c2[("/v1/AUTH_test/".Length)..] + "/dst"), ("X-Object-Meta-Extra", "1")))
        {
            Assert.Equal(HttpStatusCode.Created, copy.StatusCode);
            Assert.Equal(c[("/v1/AUTH_test/".Length)..] + "/src", copy.Headers.GetValues("X-Copied-From").Single());
            Assert.Equal("AUTH_test", copy.Headers.GetValues("X-Copied-From-Account").Single());
        }
        using (var dst = await Host.SendAsync(HttpMethod.Get, c2 + "/dst", Token))
        {
            Assert.Equal("payload", await dst.Content.ReadAsStringAsync());
            Assert.Equal("yes", dst.Headers.GetValues("X-Object-Meta-Kept").Single());
            Assert.Equal("1", dst.Headers.GetValues("X-Object-Meta-Extra").Single());
            Assert.Equal("text/x-src", dst.Content.Headers.ContentType!.MediaType);
        }
        using (var fresh = await Host.SendAsync(HttpMethod.Put, c + "/fresh", Token, null, ("X-Copy-From", c[("/v1/AUTH_test/".Length)..] + "/src"),
                   ("X-Fresh-Metadata", "true"), ("X-Object-Meta-New", "n"), ("Content-Length", "0")))
            Assert.Equal(HttpStatusCode.Created, fresh.StatusCode);
        using (var head = await Host.SendAsync(HttpMethod.Head, c + "/fresh", Token))
        {
            Assert.False(head.Headers.Contains("X-Object-Meta-Kept"));
            Assert.Equal("n", head.Headers.GetValues("X-Object-Meta-New").Single());
            Assert.Equal(7, head.Content.Headers.ContentLength);
        }
        using var missing = await Host.SendAsync(HttpMethod.Put, c + "/x", Token, null, ("X-Copy-From", c[("/v1/AUTH_test/".Length)..] + "/nope"), ("Content-Length", "0"));
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        using var bad = await Host.SendAsync(HttpMethod.Put, c + "/x", Token, null, ("X-Copy-From", "justaname"), ("Content-Length", "0"));
        Assert.Equal(HttpStatusCode.PreconditionFailed, bad.StatusCode);
    }

    [Fact]
    public async Task Names_with_slashes_dots_and_unicode_are_kept_exactly()
    {
        var c = await fixture.NewContainerAsync();
        foreach (var name in new[] { "a/../b", "./x", "..", "sp ace/%41", "ünï/çødé" })
        {
            // Dots are escaped too, so that no HTTP client takes "." or ".." for a dot segment.
            var url = c + "/" + string.Join("/", name.Split('/').Select(s => Uri.EscapeDataString(s).Replace(".", "%2E")));
            using var put = await Host.SendAsync(HttpMethod.Put, url, Token, new StringContent(name));
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
            using var get = await Host.SendAsync(HttpMethod.Get, url, Token);
            Assert.Equal(name, await get.Content.ReadAsStringAsync());
        }
        using var list = await Host.SendAsync(HttpMethod.Get, c + "?format=json", Token);
        var names = System.Text.Json.JsonDocument.Parse(await list.Content.ReadAsStringAsync()).RootElement.EnumerateArray().Select(e => e.GetProperty("name").GetString()).ToList();
        Assert.Equal(new[] { "..", "./x", "a/../b", "sp ace/%41", "ünï/çødé" }.OrderBy(n => Encoding.UTF8.GetBytes(n), Comparer<byte[]>.Create((x, y) => x.AsSpan().SequenceCompareTo(y))), names);
    }

    /// <summary>An HTTP date in asctime's form ("Sun Dec  6 04:33:01 2026": the day padded with a space).</summary>
    private static string Asctime(DateTimeOffset at)
    {
        var u = at.UtcDateTime;
        return u.ToString("ddd MMM ", CultureInfo.InvariantCulture) + u.Day.ToString(CultureInfo.InvariantCulture).PadLeft(2)
               + u.ToString(" HH:mm:ss yyyy", CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task Head_answered_412_still_carries_the_objects_etag_and_last_modified()
    {
        var c = await fixture.NewContainerAsync();
        using (var put = await Host.SendAsync(HttpMethod.Put, c + "/o", Token, new StringContent("hello world"))) Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        DateTimeOffset? modified;
        using (var head = await Host.SendAsync(HttpMethod.Head, c + "/o", Token)) modified = head.Content.Headers.LastModified;
        Assert.NotNull(modified);

        using var failed = await Host.SendAsync(HttpMethod.Head, c + "/o", Token, null, ("If-Match", "\"00000000000000000000000000000000\""));
        Assert.Equal(HttpStatusCode.PreconditionFailed, failed.StatusCode);
        Assert.Equal("5eb63bbbe01eeed093cb22bb8f5acdc3", failed.Headers.GetValues("ETag").Single());
        Assert.Equal(modified, failed.Content.Headers.LastModified);
        Assert.Empty(await failed.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task A_matching_if_match_does_not_excuse_an_if_unmodified_since_in_the_past()
    {
        var c = await fixture.NewContainerAsync();
        using (var put = await Host.SendAsync(HttpMethod.Put, c + "/o", Token, new StringContent("hello world"))) Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        const string etag = "\"5eb63bbbe01eeed093cb22bb8f5acdc3\"";
        var past = DateTimeOffset.UtcNow.AddDays(-1).ToString("R", CultureInfo.InvariantCulture);
        var future = DateTimeOffset.UtcNow.AddDays(1).ToString("R", CultureInfo.InvariantCulture);
        using (var get = await Host.SendAsync(HttpMethod.Get, c + "/o", Token, null, ("If-Match", etag), ("If-Unmodified-Since", past)))
            Assert.Equal(HttpStatusCode.PreconditionFailed, get.StatusCode);
        using (var head = await Host.SendAsync(HttpMethod.Head, c + "/o", Token, null, ("If-Match", etag), ("If-Unmodified-Since", past)))
            Assert.Equal(HttpStatusCode.PreconditionFailed, head.StatusCode);
        using (var get = await Host.SendAsync(HttpMethod.Get, c + "/o", Token, null, ("If-Match", etag), ("If-Unmodified-Since", future)))
        {
            Assert.Equal(HttpStatusCode.OK, get.StatusCode);
            Assert.Equal("hello world", await get.Content.ReadAsStringAsync());
        }
    }

    [Fact]
    public async Task Asctime_dates_in_conditional_headers_are_understood()
    {
        var c = await fixture.NewContainerAsync();
        using (var put = await Host.SendAsync(HttpMethod.Put, c + "/o", Token, new StringContent("hello world"))) Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        var past = Asctime(DateTimeOffset.UtcNow.AddDays(-1));
        var future = Asctime(DateTimeOffset.UtcNow.AddDays(1));
        Assert.Matches(@"^[A-Z][a-z]{2} [A-Z][a-z]{2} [ 1-3][0-9] \d{2}:\d{2}:\d{2} \d{4}$", future);
        // Ignored dates would let every one of these through as 200.
        using (var r = await Host.SendAsync(HttpMethod.Get, c + "/o", Token, null, ("If-Modified-Since", future))) Assert.Equal(HttpStatusCode.NotModified, r.StatusCode);
        using (var r = await Host.SendAsync(HttpMethod.Get, c + "/o", Token, null, ("If-Unmodified-Since", past))) Assert.Equal(HttpStatusCode.PreconditionFailed, r.StatusCode);
        using (var r = await Host.SendAsync(HttpMethod.Get, c + "/o", Token, null, ("If-Modified-Since", past)))
        {
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            Assert.Equal("hello world", await r.Content.ReadAsStringAsync());
        }
        using (var r = await Host.SendAsync(HttpMethod.Get, c + "/o", Token, null, ("If-Unmodified-Since", future))) Assert.Equal(HttpStatusCode.OK, r.StatusCode);
    }

    [Fact]
    public async Task Put_last_modified_is_the_one_a_later_head_and_get_show()
    {
        var c = await fixture.NewContainerAsync();
        for (var i = 0; i < 3; i++)
        {
            DateTimeOffset? written;
            using (var put = await Host.SendAsync(HttpMethod.Put, c + $"/o{i}", Token, new StringContent("x")))
            {
                Assert.Equal(HttpStatusCode.Created, put.StatusCode);
                written = put.Content.Headers.LastModified;
            }
            Assert.NotNull(written);
            using (var head = await Host.SendAsync(HttpMethod.Head, c + $"/o{i}", Token)) Assert.Equal(written, head.Content.Headers.LastModified);
            using (var get = await Host.SendAsync(HttpMethod.Get, c + $"/o{i}", Token)) Assert.Equal(written, get.Content.Headers.LastModified);
        }
    }

    [Theory]
    [InlineData(5)]
    [InlineData(64 * 1024)]
    public async Task A_copy_already_on_one_node_decides_the_put_before_its_body_as_in_swift(int size)
    {
        var c = await fixture.NewContainerAsync();
        var container = c["/v1/AUTH_test/".Length..];
        var ring = Host.Cluster.Rings.Object;
        async Task PlantAsync(string obj, double seconds)
        {
            // One primary alone holds a copy, as after a PUT retried by a client or replicated ahead of the proxy's.
            var partition = ring.GetPartition("AUTH_test", container, obj);
            using var content = new ByteArrayContent("planted"u8.ToArray());
            content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("text/plain");
            using var planted = await Host.Cluster.Nodes.SendAsync(ring.GetPrimaryNodes(partition)[0], partition, HttpMethod.Put,
                StorageCloud.Common.Http.BackendPath.For("AUTH_test", container, obj),
                [new("X-Timestamp", StorageCloud.Common.Time.SwiftTimestamp.FromSeconds(seconds).Internal)], content);
            Assert.Equal(201, planted.Status);
        }

        // Any copy found under If-None-Match: * refuses the whole PUT (412), even when the other primaries have none.
        await PlantAsync("exists-once", DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 60);
        using (var put = await Host.SendAsync(HttpMethod.Put, c + "/exists-once", Token, new ByteArrayContent(new byte[size]), ("If-None-Match", "*")))
            Assert.Equal(HttpStatusCode.PreconditionFailed, put.StatusCode);
        using (var get = await Host.SendAsync(HttpMethod.Get, c + "/exists-once", Token))
            Assert.Equal("planted", await get.Content.ReadAsStringAsync());

        // A node already holding a newer write (409 to the proxy) makes the PUT a 202: accepted, and the newer copy stands.
        await PlantAsync("newer-elsewhere", DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 3600);
        using (var put = await Host.SendAsync(HttpMethod.Put, c + "/newer-elsewhere", Token, new ByteArrayContent(new byte[size])))
        {
            Assert.Equal(HttpStatusCode.Accepted, put.StatusCode);
            Assert.False(put.Headers.Contains("ETag"));
        }
        using (var get = await Host.SendAsync(HttpMethod.Get, c + "/newer-elsewhere", Token, null, ("X-Newest", "true")))
            Assert.Equal("planted", await get.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Swift_details_of_writes_far_expiry_if_none_match_ranged_copies_and_guessed_types()
    {
        var c = await fixture.NewContainerAsync();
        // An expiry past ten digits is the latest one, as Swift clamps it.
        using (var far = await Host.SendAsync(HttpMethod.Put, c + "/far", Token, new ByteArrayContent([]), ("X-Delete-At", new string('1', 100))))
            Assert.Equal(HttpStatusCode.Created, far.StatusCode);
        using (var head = await Host.SendAsync(HttpMethod.Head, c + "/far", Token)) Assert.Equal("9999999999", head.Headers.GetValues("X-Delete-At").Single());
        // A write may be conditional on no object at all, nothing else.
        using (var etag = await Host.SendAsync(HttpMethod.Put, c + "/cond", Token, new ByteArrayContent([]), ("If-None-Match", "\"abc\"")))
        {
            Assert.Equal(HttpStatusCode.BadRequest, etag.StatusCode);
            Assert.Equal("If-None-Match only supports *", await etag.Content.ReadAsStringAsync());
        }
        // A copy with a Range copies that range.
        using (await Host.SendAsync(HttpMethod.Put, c + "/src", Token, new StringContent("0123456789"))) { }
        using (var ranged = await Host.SendAsync(HttpMethod.Put, c + "/part", Token, new ByteArrayContent([]), ("X-Copy-From", c[("/v1/AUTH_test/".Length)..] + "/src"), ("Range", "bytes=2-5")))
            Assert.Equal(HttpStatusCode.Created, ranged.StatusCode);
        using (var part = await Host.SendAsync(HttpMethod.Get, c + "/part", Token)) Assert.Equal("2345", await part.Content.ReadAsStringAsync());
        // Ranges may have white space around their parts, as swob reads them.
        using (var lws = await Host.SendAsync(HttpMethod.Get, c + "/src", Token, null, ("Range", "BYTES = 0 - 2")))
            Assert.Equal("012", await lws.Content.ReadAsStringAsync());
        // Types guessed as Python's mimetypes guesses them (Swift's guesser).
        foreach (var (name, type) in new[] { ("a.wav", "audio/x-wav"), ("a.zip", "application/zip"), ("a.txt", "text/plain") })
        {
            using (await Host.SendAsync(HttpMethod.Put, $"{c}/{name}", Token, new ByteArrayContent([1]))) { }
            using var guessed = await Host.SendAsync(HttpMethod.Head, $"{c}/{name}", Token);
            Assert.Equal(type, guessed.Content.Headers.ContentType!.MediaType);
        }
    }

    [Fact]
    public async Task A_copy_judges_its_source_before_its_destination()
    {
        var c = await fixture.NewContainerAsync();
        var name = c[("/v1/AUTH_test/".Length)..];
        // No such source: 404, though the destination container does not exist either (Swift GETs the source first).
        using (var missing = await Host.SendAsync(HttpMethod.Put, $"/v1/AUTH_test/{ClusterFixture.NewName()}/x", Token, new ByteArrayContent([]), ("X-Copy-From", $"{name}/nothing")))
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        // Another account's container the caller cannot read: 403, whether or not the destination exists.
        using (var foreign = await Host.SendAsync(HttpMethod.Put, $"/v1/AUTH_test/{ClusterFixture.NewName()}/x", Token, new ByteArrayContent([]),
                   ("X-Copy-From", "nosuchcontainer/obj"), ("X-Copy-From-Account", "AUTH_test2")))
            Assert.Equal(HttpStatusCode.Forbidden, foreign.StatusCode);
    }
}
