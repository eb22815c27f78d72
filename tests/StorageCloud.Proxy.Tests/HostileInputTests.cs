using System.Net;
using System.Security.Cryptography;
using System.Text;
using StorageCloud.Proxy.Tests.S3;

namespace StorageCloud.Proxy.Tests;

/// <summary>
/// Malformed and hostile requests at the proxy, over a plain socket where a well-behaved client could not send them:
/// HTTP framing (conflicting lengths, broken chunks, bodies cut short), paths (NUL, invalid UTF-8, empty segments,
/// names past every limit), metadata at and over each limit, copy and manifest headers that do not decode, SLO
/// manifests that are not UTF-8 or point at themselves, forged tokens and temp URLs, and S3 requests signed for a
/// region, service or time this endpoint does not serve. Each gets a 4xx (never a 5xx, never a hang), nothing partial
/// is stored, and the proxy keeps serving.
/// </summary>
public sealed class HostileInputTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    private string Head(string method, string path, params string[] headers) =>
        $"{method} {path} HTTP/1.1\r\nHost: test\r\nX-Auth-Token: {fixture.Token}\r\nConnection: close\r\n" + string.Join("\r\n", headers);

    private async Task<int> StatusAsync(string method, string path, params (string Name, string Value)[] headers)
    {
        using var response = await fixture.Host.SendAsync(new HttpMethod(method), path, fixture.Token, method is "PUT" or "POST" ? new ByteArrayContent([]) : null, headers);
        return (int)response.StatusCode;
    }

    /// <summary>Sends a request and checks its status, naming the request when it is not the one expected.</summary>
    private async Task ExpectAsync(int expected, string method, string path, params (string Name, string Value)[] headers)
    {
        var status = await StatusAsync(method, path, headers);
        Assert.True(status == expected, $"{method} {path[..Math.Min(path.Length, 90)]} ({string.Join(", ", headers.Take(2).Select(h => $"{h.Name[..Math.Min(h.Name.Length, 30)]}: {h.Value[..Math.Min(h.Value.Length, 30)]}"))}): {status}, expected {expected}");
    }

    private async Task AssertAbsentAsync(string path)
    {
        // A moment for any node that (wrongly) went on writing after the proxy gave up.
        await Task.Delay(200);
        using var head = await fixture.Host.SendAsync(HttpMethod.Head, path, fixture.Token);
        Assert.True(head.StatusCode == HttpStatusCode.NotFound, $"{path} was stored: {head.StatusCode}");
    }

    private async Task AssertStillServingAsync()
    {
        using var account = await fixture.Host.SendAsync(HttpMethod.Head, "/v1/AUTH_test", fixture.Token);
        Assert.Equal(HttpStatusCode.NoContent, account.StatusCode);
    }

    [Fact]
    public async Task Broken_framing_is_refused_and_stores_nothing()
    {
        var container = await fixture.NewContainerAsync();
        var url = fixture.Host.BaseUrl;
        Assert.Equal(400, (await RawHttp.SendAsync(url, Head("PUT", container + "/conflict", "Content-Length: 5", "Content-Length: 7"), "abcdefg"u8.ToArray())).Status);
        Assert.Equal(400, (await RawHttp.SendAsync(url, Head("PUT", container + "/negative", "Content-Length: -1"))).Status);
        Assert.Equal(400, (await RawHttp.SendAsync(url, Head("PUT", container + "/notanumber", "Content-Length: 12abc"), "abc"u8.ToArray())).Status);
        var badChunk = await RawHttp.SendAsync(url, Head("PUT", container + "/badchunk", "Transfer-Encoding: chunked"), "zz\r\nabcde\r\n0\r\n\r\n"u8.ToArray());
        Assert.InRange(badChunk.Status, 400, 499);
        var hugeChunk = await RawHttp.SendAsync(url, Head("PUT", container + "/hugechunk", "Transfer-Encoding: chunked"), "ffffffffffffffffff\r\nabc"u8.ToArray());
        Assert.InRange(hugeChunk.Status, 400, 499);
        // Bodies cut short, the client gone: nothing is acknowledged, and nothing partial is left.
        await RawHttp.SendAsync(url, Head("PUT", container + "/short", "Content-Length: 100000"), new byte[5000], closeAfterSend: true);
        await RawHttp.SendAsync(url, Head("PUT", container + "/shortchunk", "Transfer-Encoding: chunked"), [.. "1000\r\n"u8, .. new byte[4096], .. "\r\n"u8], closeAfterSend: true);
        foreach (var name in new[] { "conflict", "negative", "notanumber", "badchunk", "hugechunk", "short", "shortchunk" }) await AssertAbsentAsync($"{container}/{name}");
        await AssertStillServingAsync();
    }

    [Fact]
    public async Task Paths_that_are_not_names_are_refused_with_swifts_codes()
    {
        var container = await fixture.NewContainerAsync();
        foreach (var method in new[] { "PUT", "GET", "HEAD", "DELETE", "POST", "COPY" })
        {
            // An object with no container: Swift's "Bad URL" (before any feature reads the path: a POST once failed with 500).
            await ExpectAsync(412, method, "/v1/AUTH_test//x", ("Destination", "c/o"));
            // NUL: Kestrel refuses it in the request target itself (400) before Swift's check (412) could.
            Assert.InRange(await StatusAsync(method, $"{container}/a%00b", ("Destination", "c/o")), 400, 412);
            await ExpectAsync(412, method, $"{container}/%ff%fe", ("Destination", "c/o"));
            // An object in a container whose name is longer than any container may be: it cannot exist (404, not a 503).
            await ExpectAsync(404, method, "/v1/AUTH_test/" + new string('c', 300) + "/x", ("Destination", "c/o"));
        }
        await ExpectAsync(404, "GET", "//v1/AUTH_test");
        await ExpectAsync(404, "GET", "/");
        await ExpectAsync(400, "PUT", "/v1/AUTH_test/" + new string('c', 257));
        await ExpectAsync(201, "PUT", "/v1/AUTH_test/" + new string('c', 256));
        await ExpectAsync(400, "PUT", $"{container}/{new string('o', 1025)}");
        await ExpectAsync(201, "PUT", $"{container}/{new string('o', 1024)}");
        // Dots are names, not directions: the object is "../../x" inside the container, and nothing outside it changes.
        await ExpectAsync(201, "PUT", $"{container}/%2e%2e/%2e%2e/x");
        await ExpectAsync(200, "GET", $"{container}/..%2F..%2Fx");
        await AssertStillServingAsync();
    }

    [Fact]
    public async Task Metadata_is_taken_at_each_limit_and_refused_past_it()
    {
        var container = await fixture.NewContainerAsync();
        var obj = $"{container}/meta";
        await ExpectAsync(201, "PUT", obj);
        await ExpectAsync(202, "POST", obj, ("X-Object-Meta-" + new string('n', 128), "v"));
        await ExpectAsync(400, "POST", obj, ("X-Object-Meta-" + new string('n', 129), "v"));
        await ExpectAsync(202, "POST", obj, ("X-Object-Meta-A", new string('v', 256)));
        await ExpectAsync(400, "POST", obj, ("X-Object-Meta-A", new string('v', 257)));
        await ExpectAsync(202, "POST", obj, [.. Enumerable.Range(0, 90).Select(i => ($"X-Object-Meta-K{i}", "v"))]);
        await ExpectAsync(400, "POST", obj, [.. Enumerable.Range(0, 91).Select(i => ($"X-Object-Meta-K{i}", "v"))]);
        await ExpectAsync(400, "POST", obj, [.. Enumerable.Range(0, 17).Select(i => ($"X-Object-Meta-K{i:000}", new string('v', 250)))]);
        await ExpectAsync(400, "POST", container, ("X-Container-Meta-" + new string('n', 129), "v"));
        await ExpectAsync(400, "POST", "/v1/AUTH_test", ("X-Account-Meta-A", new string('v', 257)));
        var invalidUtf8 = await RawHttp.SendBytesAsync(fixture.Host.BaseUrl,
            [.. Encoding.ASCII.GetBytes(Head("POST", obj, "Content-Length: 0", "X-Object-Meta-A: ")), 0xff, 0xfe, .. "\r\n\r\n"u8]);
        Assert.Equal(400, invalidUtf8.Status);
        // Unicode text is metadata like any other: stored as UTF-8 and given back the same (reading it back was a 500).
        foreach (var (target, kind) in new[] { (obj, "Object"), (container, "Container"), ("/v1/AUTH_test", "Account") })
        {
            var set = await RawHttp.SendBytesAsync(fixture.Host.BaseUrl, Encoding.UTF8.GetBytes(Head("POST", target, "Content-Length: 0", $"X-{kind}-Meta-Unicode: Ǽ ฒ 日本\r\n\r\n")));
            Assert.InRange(set.Status, 202, 204);
            var read = await RawHttp.SendBytesAsync(fixture.Host.BaseUrl, Encoding.UTF8.GetBytes(Head("HEAD", target) + "\r\n\r\n"), isHead: true);
            Assert.InRange(read.Status, 200, 204);
            Assert.Contains($"X-{kind}-Meta-Unicode: Ǽ ฒ 日本", read.Head, StringComparison.OrdinalIgnoreCase);
        }
        await AssertStillServingAsync();
    }

    [Fact]
    public async Task Copy_and_manifest_headers_are_checked_as_paths_are()
    {
        var container = await fixture.NewContainerAsync();
        var name = container["/v1/AUTH_test/".Length..];
        await ExpectAsync(201, "PUT", $"{container}/src");
        await ExpectAsync(412, "PUT", $"{container}/c1", ("X-Copy-From", $"{name}/%ff"));
        await ExpectAsync(412, "PUT", $"{container}/c2", ("X-Copy-From", $"{name}/a%00"));
        await ExpectAsync(412, "PUT", $"{container}/c3", ("X-Copy-From", name));
        await ExpectAsync(412, "COPY", $"{container}/src", ("Destination", $"{name}/%ff"));
        foreach (var bad in new[] { name, $"{name}/", $"{name}//p", $"{name}/p?x=1", $"{name}/p&x", $"{name}/%ff", $"{name}/a%00", "/p" })
            Assert.True(await StatusAsync("PUT", $"{container}/dlo", ("X-Object-Manifest", bad)) == 400, bad);
        await AssertAbsentAsync($"{container}/dlo");
        await ExpectAsync(201, "PUT", $"{container}/dlo", ("X-Object-Manifest", $"{name}/sr"));
        foreach (var c in new[] { "c1", "c2", "c3" }) await AssertAbsentAsync($"{container}/{c}");

        // A manifest anyone may read, over segments in a private container: the segments stay private (401, was 409).
        using (var secret = await fixture.Host.SendAsync(HttpMethod.Put, $"{container}/srcdata", fixture.Token, new ByteArrayContent("secret-bytes"u8.ToArray())))
            Assert.Equal(HttpStatusCode.Created, secret.StatusCode);
        var open = await fixture.NewContainerAsync(("X-Container-Read", ".r:*"));
        await ExpectAsync(201, "PUT", $"{open}/leak", ("X-Object-Manifest", $"{name}/sr"));
        using (var anonymous = await fixture.Host.SendAsync(HttpMethod.Get, $"{open}/leak"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
            Assert.DoesNotContain("secret-bytes", await anonymous.Content.ReadAsStringAsync());
        }
    }

    [Fact]
    public async Task Slo_manifests_that_are_not_utf8_json_or_point_at_themselves_are_refused()
    {
        var container = await fixture.NewContainerAsync();
        var name = container["/v1/AUTH_test/".Length..];
        async Task<(int Status, string Body)> PutManifestAsync(string obj, byte[] manifest)
        {
            using var response = await fixture.Host.SendAsync(HttpMethod.Put, $"{container}/{obj}?multipart-manifest=put", fixture.Token, new ByteArrayContent(manifest));
            return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
        }
        var notUtf8 = await PutManifestAsync("m1", [.. Encoding.UTF8.GetBytes($"[{{\"path\":\"/{name}/"), 0xff, .. "\"}]"u8]);
        Assert.Equal(400, notUtf8.Status);
        Assert.Contains("valid JSON", notUtf8.Body);
        Assert.Equal(400, (await PutManifestAsync("m2", Encoding.UTF8.GetBytes($"[{{\"path\":\"/{name}/m2\"}}]"))).Status);
        Assert.Equal(400, (await PutManifestAsync("m3", "[{\"path\":"u8.ToArray())).Status);
        Assert.Equal(400, (await PutManifestAsync("m4", "{\"a\":1}"u8.ToArray())).Status);
        Assert.Equal(400, (await PutManifestAsync("m5", Encoding.UTF8.GetBytes($"[{{\"path\":\"/{name}/a\\u0000\"}}]"))).Status);
        foreach (var m in new[] { "m1", "m2", "m3", "m4", "m5" }) await AssertAbsentAsync($"{container}/{m}");
        await AssertStillServingAsync();
    }

    [Fact]
    public async Task Forged_tokens_and_temp_urls_reach_nothing()
    {
        var container = await fixture.NewContainerAsync();
        await ExpectAsync(201, "PUT", $"{container}/secret");
        foreach (var token in new[] { "AUTH_tk" + new string('0', 32), "", new string('x', 10000), fixture.Token[..^1] + (fixture.Token[^1] == 'a' ? 'b' : 'a') })
        {
            using var response = await fixture.Host.SendAsync(HttpMethod.Get, $"{container}/secret", token);
            // A header line past max_header_size (8192) is refused before any token is looked at, as Swift's server does.
            var expected = token.Length > 8192 ? HttpStatusCode.BadRequest : HttpStatusCode.Unauthorized;
            Assert.True(response.StatusCode == expected, $"token '{token[..Math.Min(10, token.Length)]}': {response.StatusCode}");
        }
        Assert.Equal(HttpStatusCode.NoContent, (await fixture.Host.SendAsync(HttpMethod.Post, "/v1/AUTH_test", fixture.Token, null, ("X-Account-Meta-Temp-URL-Key", "hostile-key"))).StatusCode);
        string TempUrl(string method, string path, long expires, string key = "hostile-key") =>
            $"{path}?temp_url_sig={Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(key), Encoding.UTF8.GetBytes($"{method}\n{expires}\n{path}")))}&temp_url_expires={expires}";
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        Assert.Equal(HttpStatusCode.OK, (await fixture.Host.SendAsync(HttpMethod.Get, TempUrl("GET", $"{container}/secret", now + 60))).StatusCode);
        foreach (var forged in new[]
                 {
                     TempUrl("GET", $"{container}/secret", now - 1), TempUrl("GET", $"{container}/secret", now + 60, "wrong-key"),
                     TempUrl("GET", $"{container}/secret", now + 60).Replace("/secret?", "/other?"), $"{container}/secret?temp_url_sig=abc&temp_url_expires=zz",
                 })
        {
            using var response = await fixture.Host.SendAsync(HttpMethod.Get, forged);
            Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{forged}: {response.StatusCode}");
        }
        // Signed with the key far into the future: the key holder's choice, served (once a 500 writing the Expires header).
        Assert.Equal(HttpStatusCode.OK, (await fixture.Host.SendAsync(HttpMethod.Get, TempUrl("GET", $"{container}/secret", 99999999999999999))).StatusCode);
        using var put = await fixture.Host.SendAsync(HttpMethod.Put, TempUrl("GET", $"{container}/secret", now + 60), null, new ByteArrayContent("x"u8.ToArray()));
        Assert.Equal(HttpStatusCode.Unauthorized, put.StatusCode);
    }

    [Fact]
    public async Task S3_requests_signed_for_another_region_service_or_time_are_refused_as_aws_refuses_them()
    {
        var s3 = new S3Client(fixture.Host.Client, fixture.Host.BaseUrl, "test:tester", "testing");
        using (var ok = await s3.SendAsync(HttpMethod.Get, "/")) Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        s3.SigningRegion = "RegionOne";
        using (var keystoneRegion = await s3.SendAsync(HttpMethod.Get, "/")) Assert.Equal(HttpStatusCode.OK, keystoneRegion.StatusCode);
        s3.SigningRegion = "eu-west-9";
        using (var wrong = await s3.SendAsync(HttpMethod.Get, "/"))
        {
            Assert.Equal(HttpStatusCode.BadRequest, wrong.StatusCode);
            var body = await wrong.Content.ReadAsStringAsync();
            Assert.Contains("<Code>AuthorizationHeaderMalformed</Code>", body);
            Assert.Contains("the region &apos;eu-west-9&apos; is wrong; expecting &apos;us-east-1&apos;", body);
            Assert.Contains("<Region>us-east-1</Region>", body);
        }
        using (var presigned = await fixture.Host.Client.GetAsync(s3.Presign("GET", "/", TimeSpan.FromMinutes(5))))
        {
            Assert.Equal(HttpStatusCode.BadRequest, presigned.StatusCode);
            Assert.Contains("<Code>AuthorizationQueryParametersError</Code>", await presigned.Content.ReadAsStringAsync());
        }
        s3.SigningRegion = S3Client.Region;
        Assert.Equal(HttpStatusCode.OK, (await s3.SendAsync(HttpMethod.Put, "/hostile-bucket")).StatusCode);
        using (var longKey = await s3.SendAsync(HttpMethod.Put, S3Client.PathOf("hostile-bucket", new string('k', 1025)), "x"u8.ToArray()))
        {
            Assert.Equal(HttpStatusCode.BadRequest, longKey.StatusCode);
            Assert.Contains("<Code>KeyTooLongError</Code>", await longKey.Content.ReadAsStringAsync());
        }
        // Entities that expand (the billion-laughs shape): no DTD is processed.
        var bombXml = """<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><Delete><Object><Key>&b;</Key></Object></Delete>"""u8.ToArray();
        using (var bomb = await s3.SendAsync(HttpMethod.Post, "/hostile-bucket", bombXml, query: "delete=",
                   headers: new Dictionary<string, string> { ["Content-MD5"] = Convert.ToBase64String(MD5.HashData(bombXml)) }))
        {
            Assert.Equal(HttpStatusCode.BadRequest, bomb.StatusCode);
            Assert.Contains("<Code>MalformedXML</Code>", await bomb.Content.ReadAsStringAsync());
        }
        s3.Clock = DateTimeOffset.UtcNow.AddMinutes(-20);
        using (var skewed = await s3.SendAsync(HttpMethod.Get, "/")) Assert.Equal(HttpStatusCode.Forbidden, skewed.StatusCode);
        s3.Clock = DateTimeOffset.UtcNow.AddMinutes(-10);
        using (var expired = await fixture.Host.Client.GetAsync(s3.Presign("GET", "/", TimeSpan.FromSeconds(60))))
        {
            Assert.Equal(HttpStatusCode.Forbidden, expired.StatusCode);
            Assert.Contains("Request has expired", await expired.Content.ReadAsStringAsync());
        }
        await AssertStillServingAsync();
    }
}
