using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;

namespace StorageCloud.Proxy.Tests.Middleware;

public sealed class TempUrlAndCorsTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    private ClusterHost Host => fixture.Host;

    private static string Sign(string key, string method, long expires, string path, Func<byte[], byte[], byte[]> hmac, string? ipRange = null)
    {
        var message = $"{method}\n{expires.ToString(CultureInfo.InvariantCulture)}\n{path}";
        if (ipRange is not null) message = $"ip={ipRange}\n" + message;
        return Convert.ToHexStringLower(hmac(Encoding.UTF8.GetBytes(key), Encoding.UTF8.GetBytes(message)));
    }

    [Fact]
    public async Task Temp_urls_grant_get_head_put_with_every_digest_and_refuse_the_rest()
    {
        var c = await fixture.NewContainerAsync();
        var key = "k-" + Guid.NewGuid().ToString("N");
        using (await Host.SendAsync(HttpMethod.Post, c, fixture.Token, null, ("X-Container-Meta-Temp-URL-Key", key))) { }
        using (await Host.SendAsync(HttpMethod.Put, c + "/doc.txt", fixture.Token, new StringContent("secret doc"), ("X-Object-Meta-Private", "p"), ("X-Object-Meta-Public-Tag", "t"))) { }
        var path = c + "/doc.txt";
        var expires = DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 600;

        foreach (var hmac in new Func<byte[], byte[], byte[]>[] { HMACSHA1.HashData, HMACSHA256.HashData, HMACSHA512.HashData })
        {
            using var get = await Host.SendAsync(HttpMethod.Get, $"{path}?temp_url_sig={Sign(key, "GET", expires, path, hmac)}&temp_url_expires={expires}");
            Assert.Equal(HttpStatusCode.OK, get.StatusCode);
            Assert.Equal("secret doc", await get.Content.ReadAsStringAsync());
            Assert.Equal("attachment; filename=\"doc.txt\"; filename*=UTF-8''doc.txt", get.Content.Headers.ContentDisposition!.ToString());
            Assert.False(get.Headers.Contains("X-Object-Meta-Private"));
            Assert.Equal("t", get.Headers.GetValues("X-Object-Meta-Public-Tag").Single());
        }
        // "algo:base64" form, inline and filename.
        var b64 = "sha512:" + Convert.ToBase64String(HMACSHA512.HashData(Encoding.UTF8.GetBytes(key), Encoding.UTF8.GetBytes($"GET\n{expires}\n{path}"))).Replace('+', '-').Replace('/', '_').TrimEnd('=');
        using (var r = await Host.SendAsync(HttpMethod.Get, $"{path}?temp_url_sig={b64}&temp_url_expires={expires}&filename=my%20file.txt"))
        {
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            Assert.Equal("attachment; filename=\"my file.txt\"; filename*=UTF-8''my%20file.txt", r.Content.Headers.ContentDisposition!.ToString());
        }
        using (var r = await Host.SendAsync(HttpMethod.Get, $"{path}?temp_url_sig={Sign(key, "GET", expires, path, HMACSHA256.HashData)}&temp_url_expires={expires}&inline"))
            Assert.Equal("inline", r.Content.Headers.ContentDisposition!.ToString());
        // A GET signature also serves HEAD.
        using (var r = await Host.SendAsync(HttpMethod.Head, $"{path}?temp_url_sig={Sign(key, "GET", expires, path, HMACSHA256.HashData)}&temp_url_expires={expires}"))
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        // ISO 8601 expiry.
        var iso = DateTimeOffset.FromUnixTimeSeconds(expires).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        using (var r = await Host.SendAsync(HttpMethod.Get, $"{path}?temp_url_sig={Sign(key, "GET", expires, path, HMACSHA256.HashData)}&temp_url_expires={iso}"))
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        // PUT with a PUT signature creates an object; the GET signature does not allow PUT.
        var newPath = c + "/upload.bin";
        using (var r = await Host.SendAsync(HttpMethod.Put, $"{newPath}?temp_url_sig={Sign(key, "PUT", expires, newPath, HMACSHA256.HashData)}&temp_url_expires={expires}", null, new StringContent("uploaded")))
            Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        using (var r = await Host.SendAsync(HttpMethod.Put, $"{newPath}?temp_url_sig={Sign(key, "GET", expires, newPath, HMACSHA256.HashData)}&temp_url_expires={expires}", null, new StringContent("x")))
            Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode);

        async Task Refused(string url)
        {
            using var r = await Host.SendAsync(HttpMethod.Get, url);
            Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode);
            Assert.Equal("401 Unauthorized: Temp URL invalid\n", await r.Content.ReadAsStringAsync());
        }
        var past = DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 10;
        await Refused($"{path}?temp_url_sig={Sign(key, "GET", past, path, HMACSHA256.HashData)}&temp_url_expires={past}");
        await Refused($"{path}?temp_url_sig={Sign("wrong", "GET", expires, path, HMACSHA256.HashData)}&temp_url_expires={expires}");
        await Refused($"{c}/other?temp_url_sig={Sign(key, "GET", expires, path, HMACSHA256.HashData)}&temp_url_expires={expires}");
        await Refused($"{path}?temp_url_sig=zz&temp_url_expires={expires}");
        await Refused($"{path}?temp_url_sig={Sign(key, "GET", expires, path, HMACSHA256.HashData)}");
        var md5ish = new string('a', 32);
        await Refused($"{path}?temp_url_sig={md5ish}&temp_url_expires={expires}");
    }

    [Fact]
    public async Task Account_keys_prefix_scope_and_ip_ranges()
    {
        var (token, _) = await Host.AuthAsync("test2:tester2", "testing2");
        var c = "/v1/AUTH_test2/" + ClusterFixture.NewName();
        using (await Host.SendAsync(HttpMethod.Put, c, token)) { }
        using (await Host.SendAsync(HttpMethod.Post, "/v1/AUTH_test2", token, null, ("X-Account-Meta-Temp-URL-Key-2", "acctkey"))) { }
        using (await Host.SendAsync(HttpMethod.Put, c + "/pre/a", token, new StringContent("A"))) { }
        using (await Host.SendAsync(HttpMethod.Put, c + "/other", token, new StringContent("B"))) { }
        var expires = DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 600;
        var prefixSig = Sign("acctkey", "GET", expires, $"prefix:{c}/pre/", HMACSHA256.HashData);
        using (var r = await Host.SendAsync(HttpMethod.Get, $"{c}/pre/a?temp_url_sig={prefixSig}&temp_url_expires={expires}&temp_url_prefix=pre/"))
            Assert.Equal("A", await r.Content.ReadAsStringAsync());
        using (var r = await Host.SendAsync(HttpMethod.Get, $"{c}/other?temp_url_sig={prefixSig}&temp_url_expires={expires}&temp_url_prefix=pre/"))
            Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode);
        var ipSig = Sign("acctkey", "GET", expires, $"{c}/other", HMACSHA256.HashData, "127.0.0.0/8");
        using (var r = await Host.SendAsync(HttpMethod.Get, $"{c}/other?temp_url_sig={ipSig}&temp_url_expires={expires}&temp_url_ip_range=127.0.0.0/8"))
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        var farSig = Sign("acctkey", "GET", expires, $"{c}/other", HMACSHA256.HashData, "10.9.9.0/24");
        using (var r = await Host.SendAsync(HttpMethod.Get, $"{c}/other?temp_url_sig={farSig}&temp_url_expires={expires}&temp_url_ip_range=10.9.9.0/24"))
            Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode);
    }

    [Fact]
    public async Task Cors_preflight_and_actual_requests_follow_the_containers_allowed_origins()
    {
        var c = await fixture.NewContainerAsync(("X-Container-Meta-Access-Control-Allow-Origin", "http://a.example http://b.example"),
            ("X-Container-Meta-Access-Control-Max-Age", "50"), ("X-Container-Meta-Access-Control-Expose-Headers", "X-Custom"));
        using (await Host.SendAsync(HttpMethod.Put, c + "/o", fixture.Token, new StringContent("x"), ("X-Object-Meta-Q", "1"))) { }
        using (var pre = await Host.SendAsync(HttpMethod.Options, c + "/o", null, null, ("Origin", "http://a.example"),
                   ("Access-Control-Request-Method", "PUT"), ("Access-Control-Request-Headers", "x-auth-token, content-type")))
        {
            Assert.Equal(HttpStatusCode.OK, pre.StatusCode);
            Assert.Equal("http://a.example", pre.Headers.GetValues("Access-Control-Allow-Origin").Single());
            Assert.Equal("50", pre.Headers.GetValues("Access-Control-Max-Age").Single());
            Assert.Equal("GET, HEAD, PUT, POST, DELETE, OPTIONS, COPY", pre.Headers.GetValues("Access-Control-Allow-Methods").Single());
            Assert.Equal("x-auth-token, content-type", pre.Headers.GetValues("Access-Control-Allow-Headers").Single());
        }
        using (var pre = await Host.SendAsync(HttpMethod.Options, c + "/o", null, null, ("Origin", "http://evil.example"), ("Access-Control-Request-Method", "GET")))
            Assert.Equal(HttpStatusCode.Unauthorized, pre.StatusCode);
        using (var plain = await Host.SendAsync(HttpMethod.Options, c + "/o"))
        {
            Assert.Equal(HttpStatusCode.OK, plain.StatusCode);
            Assert.Equal("GET, HEAD, PUT, POST, DELETE, OPTIONS, COPY", string.Join(", ", plain.Content.Headers.Allow));
        }
        using (var get = await Host.SendAsync(HttpMethod.Get, c + "/o", fixture.Token, null, ("Origin", "http://b.example")))
        {
            Assert.Equal("http://b.example", get.Headers.GetValues("Access-Control-Allow-Origin").Single());
            var expose = get.Headers.GetValues("Access-Control-Expose-Headers").Single().Split(", ");
            Assert.Contains("x-object-meta-q", expose);
            Assert.Contains("x-custom", expose);
            Assert.Contains("etag", expose);
        }
        using (var get = await Host.SendAsync(HttpMethod.Get, c + "/o", fixture.Token, null, ("Origin", "http://evil.example")))
            Assert.False(get.Headers.Contains("Access-Control-Allow-Origin"));
    }

    [Fact]
    public async Task Info_lists_every_enabled_feature()
    {
        using var r = await Host.SendAsync(HttpMethod.Get, "/info");
        var info = System.Text.Json.JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(["GET", "HEAD", "PUT", "POST", "DELETE"], info.GetProperty("tempurl").GetProperty("methods").EnumerateArray().Select(e => e.GetString()));
        Assert.True(info.GetProperty("tempauth").GetProperty("account_acls").GetBoolean());
        Assert.True(info.TryGetProperty("cors", out _));
    }
}
