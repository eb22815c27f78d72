using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace StorageCloud.Proxy.Tests.Middleware;

public sealed class SloTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    private ClusterHost Host => fixture.Host;
    private string Token => fixture.Token;

    private static string Md5(byte[] data) => Convert.ToHexStringLower(MD5.HashData(data));

    private async Task<string> PutAsync(string path, byte[] data)
    {
        using var r = await Host.SendAsync(HttpMethod.Put, path, Token, new ByteArrayContent(data));
        Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        return r.Headers.GetValues("ETag").Single();
    }

    private Task<HttpResponseMessage> PutManifestAsync(string path, string json, params (string, string)[] headers)
        => Host.SendAsync(HttpMethod.Put, path + "?multipart-manifest=put", Token, new StringContent(json), headers);

    [Fact]
    public async Task Manifest_put_get_head_ranges_and_manifest_get()
    {
        var c = await fixture.NewContainerAsync();
        var name = c[("/v1/AUTH_test/".Length)..];
        var parts = new[] { RandomNumberGenerator.GetBytes(1000), RandomNumberGenerator.GetBytes(777), RandomNumberGenerator.GetBytes(1500) };
        var etags = new List<string>();
        for (var i = 0; i < parts.Length; i++) etags.Add(await PutAsync($"{c}/seg{i}", parts[i]));
        var json = $"[{{\"path\":\"/{name}/seg0\",\"etag\":\"{etags[0]}\",\"size_bytes\":1000}},{{\"path\":\"{name}/seg1\"}},{{\"path\":\"/{name}/seg2\",\"range\":\"100-1099\"}}]";
        var whole = parts[0].Concat(parts[1]).Concat(parts[2].AsSpan(100, 1000).ToArray()).ToArray();
        var expectedEtag = Md5(Encoding.ASCII.GetBytes(etags[0] + etags[1] + $"{etags[2]}:100-1099;"));
        using (var put = await PutManifestAsync(c + "/big", json))
        {
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
            Assert.Equal($"\"{expectedEtag}\"", put.Headers.GetValues("ETag").Single());
        }
        using (var get = await Host.SendAsync(HttpMethod.Get, c + "/big", Token))
        {
            Assert.Equal(HttpStatusCode.OK, get.StatusCode);
            Assert.Equal(whole, await get.Content.ReadAsByteArrayAsync());
            Assert.Equal($"\"{expectedEtag}\"", get.Headers.GetValues("ETag").Single());
            Assert.Equal("True", get.Headers.GetValues("X-Static-Large-Object").Single());
        }
        using (var head = await Host.SendAsync(HttpMethod.Head, c + "/big", Token))
        {
            Assert.Equal(whole.Length, head.Content.Headers.ContentLength);
            Assert.Equal($"\"{expectedEtag}\"", head.Headers.GetValues("ETag").Single());
        }
        // A metadata update leaves it a large object (it once became a plain object holding the manifest's JSON).
        using (var post = await Host.SendAsync(HttpMethod.Post, c + "/big", Token, null, ("X-Object-Meta-Color", "blue"), ("X-Static-Large-Object", "False")))
            Assert.Equal(HttpStatusCode.Accepted, post.StatusCode);
        using (var after = await Host.SendAsync(HttpMethod.Get, c + "/big", Token))
        {
            Assert.Equal(whole, await after.Content.ReadAsByteArrayAsync());
            Assert.Equal("True", after.Headers.GetValues("X-Static-Large-Object").Single());
            Assert.Equal($"\"{expectedEtag}\"", after.Headers.GetValues("ETag").Single());
            Assert.Equal("blue", after.Headers.GetValues("X-Object-Meta-Color").Single());
        }
        // A range across the first and second segment boundaries, and a suffix range into the ranged third.
        using (var range = await Host.SendAsync(HttpMethod.Get, c + "/big", Token, null, ("Range", "bytes=990-1790")))
        {
            Assert.Equal(HttpStatusCode.PartialContent, range.StatusCode);
            Assert.Equal($"bytes 990-1790/{whole.Length}", range.Content.Headers.ContentRange!.ToString());
            Assert.Equal(whole.AsSpan(990, 801).ToArray(), await range.Content.ReadAsByteArrayAsync());
        }
        using (var suffix = await Host.SendAsync(HttpMethod.Get, c + "/big", Token, null, ("Range", "bytes=-10")))
            Assert.Equal(whole.AsSpan(whole.Length - 10).ToArray(), await suffix.Content.ReadAsByteArrayAsync());
        using (var multi = await Host.SendAsync(HttpMethod.Get, c + "/big", Token, null, ("Range", "bytes=0-4,2000-2004")))
        {
            Assert.Equal(HttpStatusCode.PartialContent, multi.StatusCode);
            Assert.StartsWith("multipart/byteranges", multi.Content.Headers.ContentType!.ToString());
            var text = Encoding.Latin1.GetString(await multi.Content.ReadAsByteArrayAsync());
            Assert.Contains($"Content-Range: bytes 2000-2004/{whole.Length}", text);
            Assert.Contains(Encoding.Latin1.GetString(whole.AsSpan(2000, 5)), text);
        }
        using (var cond = await Host.SendAsync(HttpMethod.Get, c + "/big", Token, null, ("If-None-Match", $"\"{expectedEtag}\"")))
            Assert.Equal(HttpStatusCode.NotModified, cond.StatusCode);
        using (var bad = await Host.SendAsync(HttpMethod.Get, c + "/big", Token, null, ("Range", $"bytes={whole.Length}-")))
            Assert.Equal(HttpStatusCode.RequestedRangeNotSatisfiable, bad.StatusCode);

        using (var manifest = await Host.SendAsync(HttpMethod.Get, c + "/big?multipart-manifest=get", Token))
        {
            var rows = JsonDocument.Parse(await manifest.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal(3, rows.GetArrayLength());
            Assert.Equal($"/{name}/seg1", rows[1].GetProperty("name").GetString());
            Assert.Equal(777, rows[1].GetProperty("bytes").GetInt64());
            Assert.Equal("100-1099", rows[2].GetProperty("range").GetString());
        }
        using (var raw = await Host.SendAsync(HttpMethod.Get, c + "/big?multipart-manifest=get&format=raw", Token))
        {
            var rows = JsonDocument.Parse(await raw.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal(etags[1], rows[1].GetProperty("etag").GetString());
            Assert.Equal(777, rows[1].GetProperty("size_bytes").GetInt64());
        }
        // The container lists the manifest with the large object's size.
        using var listing = await Host.SendAsync(HttpMethod.Get, c + "?format=json&prefix=big", Token);
        Assert.Equal(whole.Length, JsonDocument.Parse(await listing.Content.ReadAsStringAsync()).RootElement[0].GetProperty("bytes").GetInt64());
    }

    [Fact]
    public async Task Nested_manifests_and_inline_data_concatenate()
    {
        var c = await fixture.NewContainerAsync();
        var name = c[("/v1/AUTH_test/".Length)..];
        var a = RandomNumberGenerator.GetBytes(300);
        var b = RandomNumberGenerator.GetBytes(400);
        await PutAsync($"{c}/a", a);
        await PutAsync($"{c}/b", b);
        using (var inner = await PutManifestAsync(c + "/inner", $"[{{\"path\":\"{name}/a\"}},{{\"data\":\"{Convert.ToBase64String("xyz"u8)}\"}}]"))
            Assert.Equal(HttpStatusCode.Created, inner.StatusCode);
        using (var outer = await PutManifestAsync(c + "/outer", $"[{{\"path\":\"{name}/inner\"}},{{\"path\":\"{name}/b\"}}]"))
            Assert.Equal(HttpStatusCode.Created, outer.StatusCode);
        var expected = a.Concat("xyz"u8.ToArray()).Concat(b).ToArray();
        using var get = await Host.SendAsync(HttpMethod.Get, c + "/outer", Token);
        Assert.Equal(expected, await get.Content.ReadAsByteArrayAsync());
        using var range = await Host.SendAsync(HttpMethod.Get, c + "/outer", Token, null, ("Range", "bytes=299-304"));
        Assert.Equal(expected.AsSpan(299, 6).ToArray(), await range.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Bad_manifests_get_swifts_errors_and_store_nothing()
    {
        var c = await fixture.NewContainerAsync();
        var name = c[("/v1/AUTH_test/".Length)..];
        await PutAsync($"{c}/s1", new byte[4]);
        async Task Expect(HttpStatusCode status, string body, string json)
        {
            using var r = await PutManifestAsync(c + "/m", json);
            Assert.Equal(status, r.StatusCode);
            Assert.Equal(body, await r.Content.ReadAsStringAsync());
        }
        await Expect(HttpStatusCode.BadRequest, "Manifest must be valid JSON.\n", "{nope");
        await Expect(HttpStatusCode.BadRequest, "Manifest must be a list.\n", "{}");
        await Expect(HttpStatusCode.BadRequest, "Index 0: path does not refer to an object. Path must be of the form /container/object.\n", "[{\"path\":\"justcontainer\"}]");
        await Expect(HttpStatusCode.BadRequest, "Index 0: manifest must not include itself as a segment\n", $"[{{\"path\":\"/{name}/m\"}}]");
        await Expect(HttpStatusCode.BadRequest, "Index 0: extraneous keys \"bogus\"\n", $"[{{\"path\":\"/{name}/s1\",\"bogus\":1}}]");
        await Expect(HttpStatusCode.BadRequest, "Index 0: invalid range\n", $"[{{\"path\":\"/{name}/s1\",\"range\":\"x-y\"}}]");
        using (var r = await PutManifestAsync(c + "/m", $"[{{\"path\":\"/{name}/nope\"}},{{\"path\":\"/{name}/s1\",\"size_bytes\":9}}]"))
        {
            // Swift lists the problems in the order its parallel HEADs finish, so only the set is fixed.
            Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
            var lines = (await r.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal("Errors:", lines[0]);
            Assert.Equal(new[] { $"/{name}/nope, 404 Not Found", $"/{name}/s1, Size Mismatch" }, lines[1..].Order());
        }
        await Expect(HttpStatusCode.BadRequest, $"Errors:\n/{name}/s1, Etag Mismatch\n", $"[{{\"path\":\"/{name}/s1\",\"etag\":\"00000000000000000000000000000000\"}}]");
        using var get = await Host.SendAsync(HttpMethod.Get, c + "/m", Token);
        Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);
        var many = "[" + string.Join(",", Enumerable.Repeat($"{{\"path\":\"/{name}/s1\"}}", 1001)) + "]";
        using var tooMany = await PutManifestAsync(c + "/m", many);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooMany.StatusCode);
    }

    [Fact]
    public async Task Missing_segment_is_409_before_any_byte_and_manifest_delete_removes_segments()
    {
        var c = await fixture.NewContainerAsync();
        var name = c[("/v1/AUTH_test/".Length)..];
        await PutAsync($"{c}/s1", new byte[10]);
        await PutAsync($"{c}/s2", new byte[10]);
        using (var put = await PutManifestAsync(c + "/m", $"[{{\"path\":\"{name}/s1\"}},{{\"path\":\"{name}/s2\"}}]")) Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        using (var del = await Host.SendAsync(HttpMethod.Delete, c + "/s1", Token)) Assert.Equal(HttpStatusCode.NoContent, del.StatusCode);
        using (var get = await Host.SendAsync(HttpMethod.Get, c + "/m", Token)) Assert.Equal(HttpStatusCode.Conflict, get.StatusCode);

        using (var del = await Host.SendAsync(HttpMethod.Delete, c + "/m?multipart-manifest=delete", Token, null, ("Accept", "application/json")))
        {
            Assert.Equal(HttpStatusCode.OK, del.StatusCode);
            var result = JsonDocument.Parse(await del.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal(2, result.GetProperty("Number Deleted").GetInt32());
            Assert.Equal(1, result.GetProperty("Number Not Found").GetInt32());
            Assert.Equal("200 OK", result.GetProperty("Response Status").GetString());
        }
        foreach (var o in new[] { "/m", "/s2" })
            using (var gone = await Host.SendAsync(HttpMethod.Head, c + o, Token)) Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
    }

    [Fact]
    public async Task Segments_in_a_container_the_reader_cannot_read_are_refused()
    {
        var (other, _) = await Host.AuthAsync("test2:tester2", "testing2");
        var privateContainer = await fixture.NewContainerAsync();
        var name = privateContainer[("/v1/AUTH_test/".Length)..];
        await PutAsync($"{privateContainer}/secret", new byte[10]);
        var shared = await fixture.NewContainerAsync(("X-Container-Read", "test2:tester2"), ("X-Container-Write", "test2:tester2"));
        // test2 may write into the shared container but cannot name a segment it cannot read.
        using var put = await Host.SendAsync(HttpMethod.Put, shared + "/steal?multipart-manifest=put", other, new StringContent($"[{{\"path\":\"{name}/secret\"}}]"));
        Assert.Equal(HttpStatusCode.BadRequest, put.StatusCode);
        Assert.Contains("403 Forbidden", await put.Content.ReadAsStringAsync());
    }

    /// <summary>Two segments in <paramref name="c"/> and a manifest "m" over them; returns the segments' bytes and the large object's quoted ETag.</summary>
    private async Task<(byte[] Whole, string SloEtag)> PutTwoSegmentManifestAsync(string c)
    {
        var name = c[("/v1/AUTH_test/".Length)..];
        var a = RandomNumberGenerator.GetBytes(300);
        var b = RandomNumberGenerator.GetBytes(500);
        await PutAsync($"{c}/a", a);
        await PutAsync($"{c}/b", b);
        using var put = await PutManifestAsync(c + "/m", $"[{{\"path\":\"{name}/a\"}},{{\"path\":\"{name}/b\"}}]");
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        return (a.Concat(b).ToArray(), put.Headers.GetValues("ETag").Single());
    }

    [Fact]
    public async Task Json_listing_shows_slo_etag_with_the_manifests_md5_as_hash()
    {
        var c = await fixture.NewContainerAsync();
        var (whole, sloEtag) = await PutTwoSegmentManifestAsync(c);
        byte[] stored;
        using (var manifest = await Host.SendAsync(HttpMethod.Get, c + "/m?multipart-manifest=get", Token))
        {
            Assert.Equal(HttpStatusCode.OK, manifest.StatusCode);
            stored = await manifest.Content.ReadAsByteArrayAsync();
        }
        using var listing = await Host.SendAsync(HttpMethod.Get, c + "?format=json&prefix=m", Token);
        Assert.Equal(HttpStatusCode.OK, listing.StatusCode);
        using var doc = JsonDocument.Parse(await listing.Content.ReadAsStringAsync());
        var row = doc.RootElement[0];
        Assert.Equal("m", row.GetProperty("name").GetString());
        Assert.Equal(Md5(stored), row.GetProperty("hash").GetString());
        Assert.Equal(sloEtag, row.GetProperty("slo_etag").GetString());
        Assert.Equal(whole.Length, row.GetProperty("bytes").GetInt64());
        // Plain objects have no slo_etag.
        using var plain = await Host.SendAsync(HttpMethod.Get, c + "?format=json&prefix=a", Token);
        using var plainDoc = JsonDocument.Parse(await plain.Content.ReadAsStringAsync());
        Assert.False(plainDoc.RootElement[0].TryGetProperty("slo_etag", out _));
    }

    [Fact]
    public async Task Raw_manifest_get_has_the_md5_of_its_own_body_as_etag()
    {
        var c = await fixture.NewContainerAsync();
        await PutTwoSegmentManifestAsync(c);
        string storedEtag;
        using (var stored = await Host.SendAsync(HttpMethod.Get, c + "/m?multipart-manifest=get", Token))
        {
            var body = await stored.Content.ReadAsByteArrayAsync();
            storedEtag = stored.Headers.GetValues("ETag").Single().Trim('"');
            Assert.Equal(Md5(body), storedEtag);
        }
        using var raw = await Host.SendAsync(HttpMethod.Get, c + "/m?multipart-manifest=get&format=raw", Token);
        Assert.Equal(HttpStatusCode.OK, raw.StatusCode);
        var rawBody = await raw.Content.ReadAsByteArrayAsync();
        Assert.Equal(2, JsonDocument.Parse(rawBody).RootElement.GetArrayLength());
        var rawEtag = raw.Headers.GetValues("ETag").Single().Trim('"');
        Assert.Equal(Md5(rawBody), rawEtag);
        Assert.NotEqual(storedEtag, rawEtag);
    }

    [Fact]
    public async Task Manifest_put_with_if_none_match_other_than_star_is_400()
    {
        var c = await fixture.NewContainerAsync();
        var name = c[("/v1/AUTH_test/".Length)..];
        await PutAsync($"{c}/s1", new byte[10]);
        var json = $"[{{\"path\":\"{name}/s1\"}}]";
        using (var r = await PutManifestAsync(c + "/m", json, ("If-None-Match", "not-star")))
        {
            Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
            Assert.Equal("If-None-Match only supports *", await r.Content.ReadAsStringAsync());
        }
        using (var head = await Host.SendAsync(HttpMethod.Head, c + "/m", Token)) Assert.Equal(HttpStatusCode.NotFound, head.StatusCode);
        // "*" is the one form allowed: a new manifest is stored, an existing one is not replaced.
        using (var r = await PutManifestAsync(c + "/m", json, ("If-None-Match", "*"))) Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        using (var r = await PutManifestAsync(c + "/m", json, ("If-None-Match", "*"))) Assert.Equal(HttpStatusCode.PreconditionFailed, r.StatusCode);
    }

    [Fact]
    public async Task Heartbeat_manifest_put_answers_202_with_the_status_and_etag_in_the_body()
    {
        var c = await fixture.NewContainerAsync();
        var name = c[("/v1/AUTH_test/".Length)..];
        var a = RandomNumberGenerator.GetBytes(300);
        var b = RandomNumberGenerator.GetBytes(500);
        var etagA = await PutAsync($"{c}/a", a);
        var etagB = await PutAsync($"{c}/b", b);
        var expected = $"\"{Md5(Encoding.ASCII.GetBytes(etagA + etagB))}\"";
        using (var put = await Host.SendAsync(HttpMethod.Put, c + "/hb?multipart-manifest=put&heartbeat=on", Token,
                   new StringContent($"[{{\"path\":\"{name}/a\"}},{{\"path\":\"{name}/b\"}}]"), ("Accept", "application/json")))
        {
            Assert.Equal(HttpStatusCode.Accepted, put.StatusCode);
            Assert.Equal("application/json", put.Content.Headers.ContentType!.MediaType);
            var body = await put.Content.ReadAsStringAsync();
            // Spaces kept the connection alive; the outcome follows a blank line.
            Assert.StartsWith(" ", body);
            Assert.Contains("\r\n\r\n", body);
            using var doc = JsonDocument.Parse(body.Trim());
            var result = doc.RootElement;
            Assert.Equal("201 Created", result.GetProperty("Response Status").GetString());
            Assert.Equal(expected, result.GetProperty("Etag").GetString());
            Assert.False(string.IsNullOrEmpty(result.GetProperty("Last Modified").GetString()));
            Assert.Equal(0, result.GetProperty("Errors").GetArrayLength());
        }
        using var get = await Host.SendAsync(HttpMethod.Get, c + "/hb", Token);
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.Equal(a.Concat(b).ToArray(), await get.Content.ReadAsByteArrayAsync());
        Assert.Equal(expected, get.Headers.GetValues("ETag").Single());
    }

    [Fact]
    public async Task Heartbeat_manifest_put_with_a_bad_segment_answers_202_with_400_and_the_errors_in_the_body()
    {
        var c = await fixture.NewContainerAsync();
        var name = c[("/v1/AUTH_test/".Length)..];
        await PutAsync($"{c}/s1", new byte[10]);
        var json = $"[{{\"path\":\"/{name}/s1\"}},{{\"path\":\"/{name}/nope\"}}]";
        using (var put = await Host.SendAsync(HttpMethod.Put, c + "/hb?multipart-manifest=put&heartbeat=on", Token, new StringContent(json), ("Accept", "application/json")))
        {
            Assert.Equal(HttpStatusCode.Accepted, put.StatusCode);
            using var doc = JsonDocument.Parse((await put.Content.ReadAsStringAsync()).Trim());
            var result = doc.RootElement;
            Assert.Equal("400 Bad Request", result.GetProperty("Response Status").GetString());
            Assert.StartsWith("Bad Request", result.GetProperty("Response Body").GetString());
            var errors = result.GetProperty("Errors");
            Assert.Equal(1, errors.GetArrayLength());
            Assert.Equal($"/{name}/nope", errors[0][0].GetString());
            Assert.Equal("404 Not Found", errors[0][1].GetString());
        }
        // The plain-text form tells the same.
        using (var put = await Host.SendAsync(HttpMethod.Put, c + "/hb?multipart-manifest=put&heartbeat=on", Token, new StringContent(json)))
        {
            Assert.Equal(HttpStatusCode.Accepted, put.StatusCode);
            var text = await put.Content.ReadAsStringAsync();
            Assert.Contains("Response Status: 400 Bad Request\n", text);
            Assert.Contains($"Errors:\n/{name}/nope, 404 Not Found\n", text);
        }
        using var get = await Host.SendAsync(HttpMethod.Get, c + "/hb", Token);
        Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);
    }

    [Fact]
    public async Task Manifest_copy_is_refused_when_the_destination_account_cannot_read_its_segments()
    {
        var (other, _) = await Host.AuthAsync("test2:tester2", "testing2");
        var segs = await fixture.NewContainerAsync();
        var segName = segs[("/v1/AUTH_test/".Length)..];
        var c = await fixture.NewContainerAsync();
        var a = RandomNumberGenerator.GetBytes(100);
        var b = RandomNumberGenerator.GetBytes(200);
        await PutAsync($"{segs}/a", a);
        await PutAsync($"{segs}/b", b);
        using (var m = await PutManifestAsync(c + "/m", $"[{{\"path\":\"{segName}/a\"}},{{\"path\":\"{segName}/b\"}}]"))
            Assert.Equal(HttpStatusCode.Created, m.StatusCode);
        // test:tester may write into test2's container, but the manifest's segments are named in test2's account.
        var dest = ClusterFixture.NewName();
        using (var r = await Host.SendAsync(HttpMethod.Put, "/v1/AUTH_test2/" + dest, other, null, ("X-Container-Write", "test:tester")))
            Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        Task<HttpResponseMessage> CopyManifestAsync() => Host.SendAsync(new HttpMethod("COPY"), c + "/m?multipart-manifest=get", Token, null,
            ("Destination", $"{dest}/copied"), ("Destination-Account", "AUTH_test2"));
        static int Count(string text, string what) => text.Split(what).Length - 1;

        using (var r = await CopyManifestAsync())
        {
            Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
            var text = await r.Content.ReadAsStringAsync();
            Assert.Equal(2, Count(text, "403 Forbidden"));
            Assert.Contains($"/{segName}/a, 403 Forbidden", text);
        }
        using (var none = await Host.SendAsync(HttpMethod.Head, $"/v1/AUTH_test2/{dest}/copied", other)) Assert.Equal(HttpStatusCode.NotFound, none.StatusCode);

        // A readable container of the segments' name in test2's account, without the segments: still refused.
        using (var r = await Host.SendAsync(HttpMethod.Put, "/v1/AUTH_test2/" + segName, other, null, ("X-Container-Read", "test:tester")))
            Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        using (var r = await CopyManifestAsync())
        {
            Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
            Assert.Equal(2, Count(await r.Content.ReadAsStringAsync(), "404 Not Found"));
        }
        using (var none = await Host.SendAsync(HttpMethod.Head, $"/v1/AUTH_test2/{dest}/copied", other)) Assert.Equal(HttpStatusCode.NotFound, none.StatusCode);

        // With the same segments there, the manifest copies and reads them.
        foreach (var (obj, data) in new[] { ("a", a), ("b", b) })
            using (var r = await Host.SendAsync(HttpMethod.Put, $"/v1/AUTH_test2/{segName}/{obj}", other, new ByteArrayContent(data))) Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        using (var r = await CopyManifestAsync()) Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        using var get = await Host.SendAsync(HttpMethod.Get, $"/v1/AUTH_test2/{dest}/copied", other);
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.Equal("True", get.Headers.GetValues("X-Static-Large-Object").Single());
        Assert.Equal(a.Concat(b).ToArray(), await get.Content.ReadAsByteArrayAsync());
    }
}

/// <summary>A 1 GiB static large object of 100 segments, generated on the fly, read back through 50 random ranges.</summary>
public sealed class SloGigabyteTests
{
    private const int Segments = 100;
    private const long SegmentSize = (1L << 30) / Segments + 1;

    /// <summary>Segment i's bytes: a fixed pseudo-random stream, so any range can be recomputed without keeping the data.</summary>
    private static byte[] SegmentBytes(int index)
    {
        var data = new byte[SegmentSize];
        new Random(1000 + index).NextBytes(data);
        return data;
    }

    [Fact]
    public async Task One_gigabyte_from_100_segments_matches_over_50_random_ranges()
    {
        await using var host = await ClusterHost.StartAsync();
        var (token, _) = await host.AuthAsync();
        using (await host.SendAsync(HttpMethod.Put, "/v1/AUTH_test/giga", token)) { }
        var manifest = new System.Text.StringBuilder("[");
        for (var i = 0; i < Segments; i++)
        {
            using (var put = await host.SendAsync(HttpMethod.Put, $"/v1/AUTH_test/giga/seg{i:D3}", token, new ByteArrayContent(SegmentBytes(i))))
                Assert.Equal(System.Net.HttpStatusCode.Created, put.StatusCode);
            manifest.Append(i == 0 ? "" : ",").Append($"{{\"path\":\"giga/seg{i:D3}\",\"size_bytes\":{SegmentSize}}}");
        }
        manifest.Append(']');
        using (var put = await host.SendAsync(HttpMethod.Put, "/v1/AUTH_test/giga/big?multipart-manifest=put", token, new StringContent(manifest.ToString())))
            Assert.Equal(System.Net.HttpStatusCode.Created, put.StatusCode);
        var total = Segments * SegmentSize;
        Assert.True(total >= 1L << 30);
        using (var head = await host.SendAsync(HttpMethod.Head, "/v1/AUTH_test/giga/big", token)) Assert.Equal(total, head.Content.Headers.ContentLength);

        var random = new Random(42);
        for (var r = 0; r < 50; r++)
        {
            var first = random.NextInt64(total);
            var length = random.NextInt64(1, Math.Min(3 * SegmentSize, total - first) + 1);
            var last = first + length - 1;
            using var get = await host.SendAsync(HttpMethod.Get, "/v1/AUTH_test/giga/big", token, null, ("Range", $"bytes={first}-{last}"));
            Assert.Equal(System.Net.HttpStatusCode.PartialContent, get.StatusCode);
            var body = await get.Content.ReadAsByteArrayAsync();
            Assert.Equal(length, body.LongLength);
            // Check against the generated segments the range crosses.
            long at = first;
            var offset = 0;
            while (at <= last)
            {
                var index = (int)(at / SegmentSize);
                var within = at % SegmentSize;
                var take = (int)Math.Min(SegmentSize - within, last - at + 1);
                Assert.True(SegmentBytes(index).AsSpan((int)within, take).SequenceEqual(body.AsSpan(offset, take)), $"range {first}-{last} differs in segment {index}");
                at += take;
                offset += take;
            }
        }
    }
}

/// <summary>Copies of large objects and links: the object they read as, or (with ?multipart-manifest=get) the manifest.</summary>
public sealed class CompositeCopyTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    [Fact]
    public async Task Copying_an_slo_makes_a_plain_object_unless_the_manifest_is_asked_for()
    {
        var host = fixture.Host;
        var token = fixture.Token;
        var c = await fixture.NewContainerAsync();
        var name = c[("/v1/AUTH_test/".Length)..];
        using (await host.SendAsync(HttpMethod.Put, c + "/s1", token, new StringContent("hello "))) { }
        using (await host.SendAsync(HttpMethod.Put, c + "/s2", token, new StringContent("world"))) { }
        using (var m = await host.SendAsync(HttpMethod.Put, c + "/m?multipart-manifest=put", token, new StringContent($"[{{\"path\":\"{name}/s1\"}},{{\"path\":\"{name}/s2\"}}]")))
            Assert.Equal(System.Net.HttpStatusCode.Created, m.StatusCode);

        using (var copy = await host.SendAsync(new HttpMethod("COPY"), c + "/m", token, null, ("Destination", $"{name}/flat")))
            Assert.Equal(System.Net.HttpStatusCode.Created, copy.StatusCode);
        using (var flat = await host.SendAsync(HttpMethod.Get, c + "/flat", token))
        {
            Assert.Equal("hello world", await flat.Content.ReadAsStringAsync());
            Assert.False(flat.Headers.Contains("X-Static-Large-Object"));
        }
        using (var copy = await host.SendAsync(new HttpMethod("COPY"), c + "/m?multipart-manifest=get", token, null, ("Destination", $"{name}/m2")))
            Assert.Equal(System.Net.HttpStatusCode.Created, copy.StatusCode);
        using (var m2 = await host.SendAsync(HttpMethod.Get, c + "/m2", token))
        {
            Assert.Equal("hello world", await m2.Content.ReadAsStringAsync());
            Assert.Equal("True", m2.Headers.GetValues("X-Static-Large-Object").Single());
        }
        // A link copies as its target; a manifest with a missing segment refuses to copy and stores nothing.
        using (await host.SendAsync(HttpMethod.Put, c + "/link", token, new ByteArrayContent([]), ("X-Symlink-Target", $"{name}/s2"))) { }
        using (await host.SendAsync(HttpMethod.Put, c + "/fromlink", token, null, ("X-Copy-From", $"{name}/link"), ("Content-Length", "0"))) { }
        using (var fromLink = await host.SendAsync(HttpMethod.Get, c + "/fromlink", token)) Assert.Equal("world", await fromLink.Content.ReadAsStringAsync());
        using (await host.SendAsync(HttpMethod.Delete, c + "/s1", token)) { }
        using (var broken = await host.SendAsync(new HttpMethod("COPY"), c + "/m", token, null, ("Destination", $"{name}/broken")))
            Assert.Equal(System.Net.HttpStatusCode.Conflict, broken.StatusCode);
        using (var none = await host.SendAsync(HttpMethod.Head, c + "/broken", token)) Assert.Equal(System.Net.HttpStatusCode.NotFound, none.StatusCode);
    }
}
