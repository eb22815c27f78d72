using System.Net;

namespace StorageCloud.Proxy.Tests.Middleware;

public sealed class SymlinkTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    private ClusterHost Host => fixture.Host;
    private string Token => fixture.Token;

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
}
