using System.Net;
using System.Security.Cryptography;
using System.Text;

namespace StorageCloud.Proxy.Tests.Middleware;

public sealed class DloTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    private ClusterHost Host => fixture.Host;
    private string Token => fixture.Token;

    [Fact]
    public async Task Manifest_concatenates_the_prefix_listing_in_name_order_with_ranges()
    {
        var segs = await fixture.NewContainerAsync();
        var segName = segs[("/v1/AUTH_test/".Length)..];
        var c = await fixture.NewContainerAsync();
        var parts = new[] { RandomNumberGenerator.GetBytes(500), RandomNumberGenerator.GetBytes(10), RandomNumberGenerator.GetBytes(900) };
        var etags = new List<string>();
        // Uploaded out of order: the listing's name order decides.
        foreach (var i in new[] { 2, 0, 1 })
        {
            using var put = await Host.SendAsync(HttpMethod.Put, $"{segs}/file/{i:D3}", Token, new ByteArrayContent(parts[i]));
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        }
        foreach (var p in parts) etags.Add(Convert.ToHexStringLower(MD5.HashData(p)));
        using (await Host.SendAsync(HttpMethod.Put, $"{segs}/other", Token, new StringContent("not part of it"))) { }
        using (var put = await Host.SendAsync(HttpMethod.Put, c + "/dlo", Token, new ByteArrayContent([]), ("X-Object-Manifest", $"{segName}/file/")))
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        var whole = parts[0].Concat(parts[1]).Concat(parts[2]).ToArray();
        var etag = $"\"{Convert.ToHexStringLower(MD5.HashData(Encoding.ASCII.GetBytes(string.Concat(etags))))}\"";
        using (var get = await Host.SendAsync(HttpMethod.Get, c + "/dlo", Token))
        {
            Assert.Equal(whole, await get.Content.ReadAsByteArrayAsync());
            Assert.Equal(etag, get.Headers.GetValues("ETag").Single());
            Assert.Equal($"{segName}/file/", get.Headers.GetValues("X-Object-Manifest").Single());
        }
        using (var head = await Host.SendAsync(HttpMethod.Head, c + "/dlo", Token)) Assert.Equal(whole.Length, head.Content.Headers.ContentLength);
        using (var range = await Host.SendAsync(HttpMethod.Get, c + "/dlo", Token, null, ("Range", "bytes=495-515")))
        {
            Assert.Equal(HttpStatusCode.PartialContent, range.StatusCode);
            Assert.Equal(whole.AsSpan(495, 21).ToArray(), await range.Content.ReadAsByteArrayAsync());
        }
        // The manifest object itself, on request.
        using (var raw = await Host.SendAsync(HttpMethod.Get, c + "/dlo?multipart-manifest=get", Token))
            Assert.Empty(await raw.Content.ReadAsByteArrayAsync());
        // A new segment shows up at once: the object is dynamic.
        using (await Host.SendAsync(HttpMethod.Put, $"{segs}/file/003", Token, new StringContent("tail"))) { }
        using (var get = await Host.SendAsync(HttpMethod.Get, c + "/dlo", Token))
            Assert.EndsWith("tail", Encoding.Latin1.GetString(await get.Content.ReadAsByteArrayAsync()));
    }

    [Fact]
    public async Task A_malformed_manifest_header_is_refused()
    {
        var c = await fixture.NewContainerAsync();
        using var put = await Host.SendAsync(HttpMethod.Put, c + "/bad", Token, new ByteArrayContent([]), ("X-Object-Manifest", "nocontainer"));
        Assert.Equal(HttpStatusCode.BadRequest, put.StatusCode);
        Assert.Equal("X-Object-Manifest must be in the format container/prefix", await put.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Conditions_are_judged_against_the_dlo_etag_not_the_manifest_objects()
    {
        var segs = await fixture.NewContainerAsync();
        var segName = segs[("/v1/AUTH_test/".Length)..];
        var c = await fixture.NewContainerAsync();
        var parts = new[] { "first-"u8.ToArray(), "second"u8.ToArray() };
        for (var i = 0; i < parts.Length; i++)
        {
            using var put = await Host.SendAsync(HttpMethod.Put, $"{segs}/part/{i:D3}", Token, new ByteArrayContent(parts[i]));
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        }
        using (var put = await Host.SendAsync(HttpMethod.Put, c + "/dlo", Token, new ByteArrayContent([]), ("X-Object-Manifest", $"{segName}/part/")))
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        var etag = $"\"{Convert.ToHexStringLower(MD5.HashData(Encoding.ASCII.GetBytes(string.Concat(parts.Select(p => Convert.ToHexStringLower(MD5.HashData(p)))))))}\"";
        // The manifest object's own ETag: that of its empty body.
        const string manifestEtag = "\"d41d8cd98f00b204e9800998ecf8427e\"";
        using (var get = await Host.SendAsync(HttpMethod.Get, c + "/dlo", Token)) Assert.Equal(etag, get.Headers.GetValues("ETag").Single());

        using (var match = await Host.SendAsync(HttpMethod.Get, c + "/dlo", Token, null, ("If-Match", etag)))
        {
            Assert.Equal(HttpStatusCode.OK, match.StatusCode);
            Assert.Equal("first-second", await match.Content.ReadAsStringAsync());
            Assert.Equal(etag, match.Headers.GetValues("ETag").Single());
        }
        using (var other = await Host.SendAsync(HttpMethod.Get, c + "/dlo", Token, null, ("If-Match", "\"00000000000000000000000000000000\"")))
            Assert.Equal(HttpStatusCode.PreconditionFailed, other.StatusCode);
        using (var manifest = await Host.SendAsync(HttpMethod.Get, c + "/dlo", Token, null, ("If-Match", manifestEtag)))
            Assert.Equal(HttpStatusCode.PreconditionFailed, manifest.StatusCode);

        using (var noneMatch = await Host.SendAsync(HttpMethod.Get, c + "/dlo", Token, null, ("If-None-Match", etag)))
        {
            Assert.Equal(HttpStatusCode.NotModified, noneMatch.StatusCode);
            Assert.Empty(await noneMatch.Content.ReadAsByteArrayAsync());
        }
        using (var manifest = await Host.SendAsync(HttpMethod.Get, c + "/dlo", Token, null, ("If-None-Match", manifestEtag)))
        {
            Assert.Equal(HttpStatusCode.OK, manifest.StatusCode);
            Assert.Equal("first-second", await manifest.Content.ReadAsStringAsync());
        }
    }
}
