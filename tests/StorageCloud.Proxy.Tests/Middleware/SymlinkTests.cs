using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace StorageCloud.Proxy.Tests.Middleware;

public sealed class SymlinkTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    private ClusterHost Host => fixture.Host;
    private string Token => fixture.Token;

    /// <summary>The ETag of an empty body: a link's own.</summary>
    private const string EmptyMd5 = "d41d8cd98f00b204e9800998ecf8427e";

    private static string NameOf(string containerPath) => containerPath[("/v1/AUTH_test/".Length)..];

    private static string Md5(string text) => Convert.ToHexStringLower(MD5.HashData(Encoding.ASCII.GetBytes(text)));

    /// <summary>Stores a plain object and returns its ETag.</summary>
    private async Task<string> PutObjectAsync(string path, string text, string? token = null)
    {
        using var r = await Host.SendAsync(HttpMethod.Put, path, token ?? Token, new StringContent(text));
        Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        return r.Headers.GetValues("ETag").Single().Trim('"');
    }

    /// <summary>A zero-byte PUT with the link's headers.</summary>
    private Task<HttpResponseMessage> PutLinkAsync(string path, params (string, string)[] headers)
        => Host.SendAsync(HttpMethod.Put, path, Token, new ByteArrayContent([]), headers);

    [Fact]
    public async Task Links_are_followed_returned_with_symlink_get_and_redirect_posts()
    {
        var c = await fixture.NewContainerAsync();
        var name = c[("/v1/AUTH_test/".Length)..];
        string etag;
        using (var put = await Host.SendAsync(HttpMethod.Put, c + "/target", Token, new StringContent("the data"))) etag = put.Headers.GetValues("ETag").Single();
        using (var link = await Host.SendAsync(HttpMethod.Put, c + "/link", Token, new ByteArrayContent([]), ("X-Symlink-Target", $"{name}/target")))
            Assert.Equal(HttpStatusCode.Created, link.StatusCode);
        using (var get = await Host.SendAsync(HttpMethod.Get, c + "/link", Token))
        {
            Assert.Equal("the data", await get.Content.ReadAsStringAsync());
            Assert.Equal($"/v1/AUTH_test/{name}/target", get.Content.Headers.ContentLocation!.OriginalString);
        }
        using (var range = await Host.SendAsync(HttpMethod.Get, c + "/link", Token, null, ("Range", "bytes=4-")))
            Assert.Equal("data", await range.Content.ReadAsStringAsync());
        using (var self = await Host.SendAsync(HttpMethod.Get, c + "/link?symlink=get", Token))
        {
            Assert.Empty(await self.Content.ReadAsByteArrayAsync());
            Assert.Equal($"{name}/target", self.Headers.GetValues("X-Symlink-Target").Single());
            Assert.Equal("application/symlink", self.Content.Headers.ContentType!.MediaType);
        }
        using (var post = await Host.SendAsync(HttpMethod.Post, c + "/link", Token, null, ("X-Object-Meta-A", "b")))
        {
            Assert.Equal(HttpStatusCode.TemporaryRedirect, post.StatusCode);
            Assert.Equal($"/v1/AUTH_test/{name}/target", post.Headers.Location!.OriginalString);
        }
        // A chain of links deeper than symloop_max is a 409.
        using (await Host.SendAsync(HttpMethod.Put, c + "/l2", Token, new ByteArrayContent([]), ("X-Symlink-Target", $"{name}/link"))) { }
        using (var two = await Host.SendAsync(HttpMethod.Get, c + "/l2", Token)) Assert.Equal("the data", await two.Content.ReadAsStringAsync());
        using (await Host.SendAsync(HttpMethod.Put, c + "/l3", Token, new ByteArrayContent([]), ("X-Symlink-Target", $"{name}/l2"))) { }
        using (var loop = await Host.SendAsync(HttpMethod.Get, c + "/l3", Token))
        {
            Assert.Equal(HttpStatusCode.Conflict, loop.StatusCode);
            Assert.Equal("Too many levels of symbolic links, maximum allowed is 2", await loop.Content.ReadAsStringAsync());
        }
        // A dangling link is a 404; a static link checks its target's ETag.
        using (await Host.SendAsync(HttpMethod.Put, c + "/dangling", Token, new ByteArrayContent([]), ("X-Symlink-Target", $"{name}/nothing"))) { }
        using (var dangling = await Host.SendAsync(HttpMethod.Get, c + "/dangling", Token)) Assert.Equal(HttpStatusCode.NotFound, dangling.StatusCode);
        using (var stat = await Host.SendAsync(HttpMethod.Put, c + "/static", Token, new ByteArrayContent([]), ("X-Symlink-Target", $"{name}/target"), ("X-Symlink-Target-Etag", etag)))
            Assert.Equal(HttpStatusCode.Created, stat.StatusCode);
        using (await Host.SendAsync(HttpMethod.Put, c + "/target", Token, new StringContent("changed"))) { }
        using (var changed = await Host.SendAsync(HttpMethod.Get, c + "/static", Token)) Assert.Equal(HttpStatusCode.Conflict, changed.StatusCode);
        using (var wrong = await Host.SendAsync(HttpMethod.Put, c + "/static2", Token, new ByteArrayContent([]), ("X-Symlink-Target", $"{name}/nothing"), ("X-Symlink-Target-Etag", etag)))
        {
            Assert.Equal(HttpStatusCode.Conflict, wrong.StatusCode);
            Assert.Equal("X-Symlink-Target does not exist", await wrong.Content.ReadAsStringAsync());
        }
    }

    [Fact]
    public async Task Bad_links_are_refused_and_links_do_not_bypass_acls()
    {
        var c = await fixture.NewContainerAsync();
        var name = c[("/v1/AUTH_test/".Length)..];
        using (var r = await Host.SendAsync(HttpMethod.Put, c + "/l", Token, new StringContent("body"), ("X-Symlink-Target", $"{name}/t")))
        {
            Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
            Assert.Equal("Symlink requests require a zero byte body", await r.Content.ReadAsStringAsync());
        }
        using (var r = await Host.SendAsync(HttpMethod.Put, c + "/l", Token, new ByteArrayContent([]), ("X-Symlink-Target", "/lead/slash")))
            Assert.Equal(HttpStatusCode.PreconditionFailed, r.StatusCode);
        using (var r = await Host.SendAsync(HttpMethod.Put, c + "/l", Token, new ByteArrayContent([]), ("X-Symlink-Target", $"{name}/l")))
            Assert.Equal("Symlink cannot target itself", await r.Content.ReadAsStringAsync());

        // A public container's link into a private container does not expose the private object.
        var secret = await fixture.NewContainerAsync();
        using (await Host.SendAsync(HttpMethod.Put, secret + "/s", Token, new StringContent("secret"))) { }
        var pub = await fixture.NewContainerAsync(("X-Container-Read", ".r:*"));
        using (await Host.SendAsync(HttpMethod.Put, pub + "/peek", Token, new ByteArrayContent([]), ("X-Symlink-Target", $"{secret[("/v1/AUTH_test/".Length)..]}/s"))) { }
        using var anonymous = await Host.SendAsync(HttpMethod.Get, pub + "/peek");
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
    }

    [Fact]
    public async Task Static_links_are_refused_for_a_wrong_or_missing_target_and_may_chain_through_static_links()
    {
        var c = await fixture.NewContainerAsync();
        var name = NameOf(c);
        var etag = await PutObjectAsync(c + "/target", "the data");
        const string wrong = "0123456789abcdef0123456789abcdef";

        // A static link's PUT checks the target: another ETag, or no target at all, is a 409 and stores no link.
        using (var r = await PutLinkAsync(c + "/bad", ("X-Symlink-Target", $"{name}/target"), ("X-Symlink-Target-Etag", wrong)))
        {
            Assert.Equal(HttpStatusCode.Conflict, r.StatusCode);
            Assert.Equal($"Object Etag '{etag}' does not match X-Symlink-Target-Etag header '{wrong}'", await r.Content.ReadAsStringAsync());
        }
        using (var r = await PutLinkAsync(c + "/missing", ("X-Symlink-Target", $"{name}/nothing"), ("X-Symlink-Target-Etag", etag)))
        {
            Assert.Equal(HttpStatusCode.Conflict, r.StatusCode);
            Assert.Equal("X-Symlink-Target does not exist", await r.Content.ReadAsStringAsync());
        }
        foreach (var refused in new[] { "/bad", "/missing" })
            using (var head = await Host.SendAsync(HttpMethod.Head, c + refused + "?symlink=get", Token)) Assert.Equal(HttpStatusCode.NotFound, head.StatusCode);

        // s2 -> s1 -> target: a static link to a static link names the ETag of the object the chain ends at.
        using (var r = await PutLinkAsync(c + "/s1", ("X-Symlink-Target", $"{name}/target"), ("X-Symlink-Target-Etag", etag)))
            Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        using (var r = await PutLinkAsync(c + "/s2", ("X-Symlink-Target", $"{name}/s1"), ("X-Symlink-Target-Etag", etag)))
            Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        using (var r = await PutLinkAsync(c + "/s3", ("X-Symlink-Target", $"{name}/s1"), ("X-Symlink-Target-Etag", wrong)))
        {
            Assert.Equal(HttpStatusCode.Conflict, r.StatusCode);
            Assert.Equal("X-Symlink-Target-Etag headers do not match", await r.Content.ReadAsStringAsync());
        }
        using (var self = await Host.SendAsync(HttpMethod.Get, c + "/s2?symlink=get", Token))
        {
            Assert.Equal(HttpStatusCode.OK, self.StatusCode);
            Assert.Equal($"{name}/s1", self.Headers.GetValues("X-Symlink-Target").Single());
            Assert.Equal(etag, self.Headers.GetValues("X-Symlink-Target-Etag").Single());
            Assert.Equal("8", self.Headers.GetValues("X-Symlink-Target-Bytes").Single());
        }
        using (var get = await Host.SendAsync(HttpMethod.Get, c + "/s2", Token))
        {
            Assert.Equal(HttpStatusCode.OK, get.StatusCode);
            Assert.Equal("the data", await get.Content.ReadAsStringAsync());
            Assert.Equal(etag, get.Headers.GetValues("ETag").Single().Trim('"'));
            Assert.Equal($"/v1/AUTH_test/{name}/target", get.Content.Headers.ContentLocation!.OriginalString);
        }

        // Once the target changes, the whole chain refuses to read it.
        var changed = await PutObjectAsync(c + "/target", "changed");
        foreach (var link in new[] { "/s1", "/s2" })
        {
            using var get = await Host.SendAsync(HttpMethod.Get, c + link, Token);
            Assert.Equal(HttpStatusCode.Conflict, get.StatusCode);
            Assert.Equal($"Object Etag '{changed}' does not match X-Symlink-Target-Etag header '{etag}'", await get.Content.ReadAsStringAsync());
        }
    }

    [Fact]
    public async Task Conditional_requests_on_a_link_are_judged_against_the_target_but_with_symlink_get_against_the_link()
    {
        var c = await fixture.NewContainerAsync();
        var name = NameOf(c);
        var etag = await PutObjectAsync(c + "/target", "the data");
        DateTimeOffset targetModified;
        using (var head = await Host.SendAsync(HttpMethod.Head, c + "/target", Token)) targetModified = head.Content.Headers.LastModified!.Value;
        // The link is written in a later second, so its own Last-Modified is after the target's.
        await Task.Delay(1500);
        using (var link = await PutLinkAsync(c + "/link", ("X-Symlink-Target", $"{name}/target"))) Assert.Equal(HttpStatusCode.Created, link.StatusCode);
        string linkEtag;
        DateTimeOffset linkModified;
        using (var self = await Host.SendAsync(HttpMethod.Head, c + "/link?symlink=get", Token))
        {
            linkEtag = self.Headers.GetValues("ETag").Single().Trim('"');
            linkModified = self.Content.Headers.LastModified!.Value;
        }
        Assert.Equal(EmptyMd5, linkEtag);
        Assert.True(linkModified > targetModified, $"link {linkModified:R} should be later than target {targetModified:R}");
        var since = targetModified.ToString("R", CultureInfo.InvariantCulture);

        async Task<HttpResponseMessage> Get(string query, string header, string value)
            => await Host.SendAsync(HttpMethod.Get, c + "/link" + query, Token, null, (header, value));

        // Followed: the target's ETag and date decide.
        using (var r = await Get("", "If-Match", $"\"{etag}\""))
        {
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            Assert.Equal("the data", await r.Content.ReadAsStringAsync());
        }
        using (var r = await Get("", "If-Match", $"\"{linkEtag}\"")) Assert.Equal(HttpStatusCode.PreconditionFailed, r.StatusCode);
        using (var r = await Get("", "If-None-Match", $"\"{etag}\"")) Assert.Equal(HttpStatusCode.NotModified, r.StatusCode);
        using (var r = await Get("", "If-None-Match", $"\"{linkEtag}\""))
        {
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            Assert.Equal("the data", await r.Content.ReadAsStringAsync());
        }
        using (var r = await Get("", "If-Modified-Since", since)) Assert.Equal(HttpStatusCode.NotModified, r.StatusCode);

        // ?symlink=get: the link itself is what the conditions are about.
        using (var r = await Get("?symlink=get", "If-Match", $"\"{etag}\"")) Assert.Equal(HttpStatusCode.PreconditionFailed, r.StatusCode);
        using (var r = await Get("?symlink=get", "If-None-Match", $"\"{linkEtag}\"")) Assert.Equal(HttpStatusCode.NotModified, r.StatusCode);
        using (var r = await Get("?symlink=get", "If-Modified-Since", since))
        {
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            Assert.Empty(await r.Content.ReadAsByteArrayAsync());
            Assert.Equal($"{name}/target", r.Headers.GetValues("X-Symlink-Target").Single());
        }
    }

    [Fact]
    public async Task Json_listings_show_where_links_point_with_the_hash_cleaned_of_the_link_parameters()
    {
        var c = await fixture.NewContainerAsync();
        var name = NameOf(c);
        var etag = await PutObjectAsync(c + "/target", "the data");
        using (var r = await PutLinkAsync(c + "/dynamic", ("X-Symlink-Target", $"{name}/target"))) Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        using (var r = await PutLinkAsync(c + "/static", ("X-Symlink-Target", $"{name}/target"), ("X-Symlink-Target-Etag", etag)))
            Assert.Equal(HttpStatusCode.Created, r.StatusCode);

        using var listing = await Host.SendAsync(HttpMethod.Get, c + "?format=json", Token);
        Assert.Equal(HttpStatusCode.OK, listing.StatusCode);
        using var doc = JsonDocument.Parse(await listing.Content.ReadAsStringAsync());
        var rows = doc.RootElement.EnumerateArray().ToDictionary(e => e.GetProperty("name").GetString()!);
        Assert.Equal(3, rows.Count);

        var dyn = rows["dynamic"];
        Assert.Equal($"/v1/AUTH_test/{name}/target", dyn.GetProperty("symlink_path").GetString());
        Assert.Equal(EmptyMd5, dyn.GetProperty("hash").GetString());
        Assert.False(dyn.TryGetProperty("symlink_etag", out _));
        Assert.False(dyn.TryGetProperty("symlink_bytes", out _));

        var stat = rows["static"];
        Assert.Equal($"/v1/AUTH_test/{name}/target", stat.GetProperty("symlink_path").GetString());
        Assert.Equal(etag, stat.GetProperty("symlink_etag").GetString());
        Assert.Equal(8, stat.GetProperty("symlink_bytes").GetInt64());
        Assert.Equal(EmptyMd5, stat.GetProperty("hash").GetString());

        var target = rows["target"];
        Assert.Equal(etag, target.GetProperty("hash").GetString());
        Assert.False(target.TryGetProperty("symlink_path", out _));

        // The XML listing has no such keys, but its hash is cleaned all the same.
        using var xml = await Host.SendAsync(HttpMethod.Get, c + "?format=xml", Token);
        var text = await xml.Content.ReadAsStringAsync();
        Assert.Contains($"<hash>{EmptyMd5}</hash>", text);
        Assert.DoesNotContain("symlink_target", text);
    }

    [Fact]
    public async Task A_manifest_whose_segment_is_a_link_is_accepted_and_reads_as_the_concatenation()
    {
        var c = await fixture.NewContainerAsync();
        var name = NameOf(c);
        var first = await PutObjectAsync(c + "/seg", "hello ");
        var second = await PutObjectAsync(c + "/target", "world");
        using (var r = await PutLinkAsync(c + "/link", ("X-Symlink-Target", $"{name}/target"))) Assert.Equal(HttpStatusCode.Created, r.StatusCode);

        using (var put = await Host.SendAsync(HttpMethod.Put, c + "/m?multipart-manifest=put", Token,
                   new StringContent($"[{{\"path\":\"{name}/seg\"}},{{\"path\":\"{name}/link\"}}]")))
        {
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
            // The link's segment is the target as the manifest PUT saw it through the link.
            Assert.Equal($"\"{Md5(first + second)}\"", put.Headers.GetValues("ETag").Single());
        }
        using (var manifest = await Host.SendAsync(HttpMethod.Get, c + "/m?multipart-manifest=get", Token))
        {
            using var doc = JsonDocument.Parse(await manifest.Content.ReadAsStringAsync());
            var rows = doc.RootElement;
            Assert.Equal(2, rows.GetArrayLength());
            Assert.Equal($"/{name}/link", rows[1].GetProperty("name").GetString());
            Assert.Equal(5, rows[1].GetProperty("bytes").GetInt64());
            Assert.Equal(second, rows[1].GetProperty("hash").GetString());
        }
        using (var get = await Host.SendAsync(HttpMethod.Get, c + "/m", Token))
        {
            Assert.Equal(HttpStatusCode.OK, get.StatusCode);
            Assert.Equal("hello world", await get.Content.ReadAsStringAsync());
        }
        using (var range = await Host.SendAsync(HttpMethod.Get, c + "/m", Token, null, ("Range", "bytes=4-7")))
        {
            Assert.Equal(HttpStatusCode.PartialContent, range.StatusCode);
            Assert.Equal("o wo", await range.Content.ReadAsStringAsync());
        }
    }

    [Fact]
    public async Task Post_to_a_broken_static_link_redirects_with_its_target_etag()
    {
        var c = await fixture.NewContainerAsync();
        var name = NameOf(c);
        var etag = await PutObjectAsync(c + "/target", "the data");
        using (var r = await PutLinkAsync(c + "/static", ("X-Symlink-Target", $"{name}/target"), ("X-Symlink-Target-Etag", etag)))
            Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        await PutObjectAsync(c + "/target", "changed");
        using (var broken = await Host.SendAsync(HttpMethod.Get, c + "/static", Token)) Assert.Equal(HttpStatusCode.Conflict, broken.StatusCode);

        using var post = await Host.SendAsync(HttpMethod.Post, c + "/static", Token, null, ("X-Object-Meta-Color", "red"));
        Assert.Equal(HttpStatusCode.TemporaryRedirect, post.StatusCode);
        Assert.Equal($"/v1/AUTH_test/{name}/target", post.Headers.Location!.OriginalString);
        Assert.Equal(etag, post.Headers.GetValues("X-Symlink-Target-Etag").Single());
        Assert.Equal("The requested POST was applied to a symlink. POST directly to the target to apply requested metadata.", await post.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Copy_of_a_link_with_symlink_get_and_a_target_account_points_the_copy_into_that_account()
    {
        var c = await fixture.NewContainerAsync();
        var name = NameOf(c);
        await PutObjectAsync(c + "/target", "here");
        using (var r = await PutLinkAsync(c + "/link", ("X-Symlink-Target", $"{name}/target"))) Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        // test2 has a container of the same name, readable by test:tester, with its own "target".
        var (other, _) = await Host.AuthAsync("test2:tester2", "testing2");
        using (var r = await Host.SendAsync(HttpMethod.Put, "/v1/AUTH_test2/" + name, other, null, ("X-Container-Read", "test:tester")))
            Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        await PutObjectAsync($"/v1/AUTH_test2/{name}/target", "elsewhere", other);

        using (var bad = await Host.SendAsync(new HttpMethod("COPY"), c + "/link?symlink=get", Token, null, ("Destination", $"{name}/slashed"),
                   ("X-Symlink-Target-Account", "AUTH_a/b")))
        {
            Assert.Equal(HttpStatusCode.PreconditionFailed, bad.StatusCode);
            Assert.Equal("Account name cannot contain slashes", await bad.Content.ReadAsStringAsync());
        }
        using (var copy = await Host.SendAsync(new HttpMethod("COPY"), c + "/link?symlink=get", Token, null, ("Destination", $"{name}/moved"),
                   ("X-Symlink-Target-Account", "AUTH_test2")))
            Assert.Equal(HttpStatusCode.Created, copy.StatusCode);
        using (var self = await Host.SendAsync(HttpMethod.Get, c + "/moved?symlink=get", Token))
        {
            Assert.Equal(HttpStatusCode.OK, self.StatusCode);
            Assert.Empty(await self.Content.ReadAsByteArrayAsync());
            Assert.Equal($"{name}/target", self.Headers.GetValues("X-Symlink-Target").Single());
            Assert.Equal("AUTH_test2", self.Headers.GetValues("X-Symlink-Target-Account").Single());
        }
        using (var moved = await Host.SendAsync(HttpMethod.Get, c + "/moved", Token))
        {
            Assert.Equal(HttpStatusCode.OK, moved.StatusCode);
            Assert.Equal("elsewhere", await moved.Content.ReadAsStringAsync());
            Assert.Equal($"/v1/AUTH_test2/{name}/target", moved.Content.Headers.ContentLocation!.OriginalString);
        }
        // The source link still points into its own account.
        using (var original = await Host.SendAsync(HttpMethod.Get, c + "/link", Token)) Assert.Equal("here", await original.Content.ReadAsStringAsync());
        using (var self = await Host.SendAsync(HttpMethod.Get, c + "/link?symlink=get", Token)) Assert.False(self.Headers.Contains("X-Symlink-Target-Account"));

        using var listing = await Host.SendAsync(HttpMethod.Get, c + "?format=json&prefix=moved", Token);
        using var doc = JsonDocument.Parse(await listing.Content.ReadAsStringAsync());
        Assert.Equal($"/v1/AUTH_test2/{name}/target", doc.RootElement[0].GetProperty("symlink_path").GetString());
    }
}
