using System.Net;

namespace StorageCloud.Proxy.Tests.Middleware;

public sealed class StaticWebTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    private ClusterHost Host => fixture.Host;
    private string Token => fixture.Token;

    private async Task Put(string path, string text, string type = "text/html")
    {
        var content = new StringContent(text);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(type);
        using var r = await Host.SendAsync(HttpMethod.Put, path, Token, content);
        Assert.Equal(HttpStatusCode.Created, r.StatusCode);
    }

    [Fact]
    public async Task A_public_container_serves_index_pages_listings_and_error_pages()
    {
        var c = await fixture.NewContainerAsync(("X-Container-Read", ".r:*,.rlistings"), ("X-Container-Meta-Web-Index", "index.html"),
            ("X-Container-Meta-Web-Error", "error.html"), ("X-Container-Meta-Web-Listings", "true"));
        await Put(c + "/index.html", "<p>home</p>");
        await Put(c + "/404error.html", "<p>no such page</p>");
        await Put(c + "/docs/guide.txt", "guide", "text/plain");
        await Put(c + "/docs/img/logo.png", "png", "image/png");
        await Put(c + "/about/index.html", "<p>about</p>");

        using (var root = await Host.SendAsync(HttpMethod.Get, c))
        {
            Assert.Equal(HttpStatusCode.MovedPermanently, root.StatusCode);
            // Absolute, as Swift's staticweb redirects (from the Host the client named).
            Assert.Equal(Host.BaseUrl + c + "/", root.Headers.Location!.OriginalString);
        }
        using (var home = await Host.SendAsync(HttpMethod.Get, c + "/")) Assert.Equal("<p>home</p>", await home.Content.ReadAsStringAsync());
        using (var about = await Host.SendAsync(HttpMethod.Get, c + "/about")) Assert.Equal(HttpStatusCode.MovedPermanently, about.StatusCode);
        using (var about = await Host.SendAsync(HttpMethod.Get, c + "/about/")) Assert.Equal("<p>about</p>", await about.Content.ReadAsStringAsync());
        using (var docs = await Host.SendAsync(HttpMethod.Get, c + "/docs/"))
        {
            Assert.Equal(HttpStatusCode.OK, docs.StatusCode);
            var html = await docs.Content.ReadAsStringAsync();
            Assert.Contains($"<title>Listing of {c}/docs/</title>", html);
            Assert.Contains("<a href=\"guide.txt\">guide.txt</a>", html);
            Assert.Contains("<a href=\"img/\">img/</a>", html);
            Assert.Contains("<tr class=\"item type-text type-plain\">", html);
            Assert.Contains("<a href=\"../\">../</a>", html);
        }
        using (var missing = await Host.SendAsync(HttpMethod.Get, c + "/nope.html"))
        {
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
            Assert.Equal("<p>no such page</p>", await missing.Content.ReadAsStringAsync());
        }
        using (var file = await Host.SendAsync(HttpMethod.Get, c + "/docs/guide.txt")) Assert.Equal("guide", await file.Content.ReadAsStringAsync());
        // A directory marker object (Web-Directory-Type) reads as its directory; a CSS link styles listings.
        using (await Host.SendAsync(HttpMethod.Post, c, Token, null, ("X-Container-Meta-Web-Directory-Type", "text/directory"), ("X-Container-Meta-Web-Listings-Css", "style.css"))) { }
        await Put(c + "/marked", "", "text/directory");
        await Put(c + "/marked/inside.txt", "in", "text/plain");
        using (var marked = await Host.SendAsync(HttpMethod.Get, c + "/marked/"))
        {
            var html = await marked.Content.ReadAsStringAsync();
            Assert.Contains("<a href=\"inside.txt\">inside.txt</a>", html);
            Assert.Contains("<link rel=\"stylesheet\" type=\"text/css\" href=\"../style.css\" />", html);
        }
        using (var markedNoSlash = await Host.SendAsync(HttpMethod.Get, c + "/marked")) Assert.Equal(HttpStatusCode.MovedPermanently, markedNoSlash.StatusCode);
        // The owner with a token gets the API, not the web site, unless asking for web mode.
        using (var api = await Host.SendAsync(HttpMethod.Get, c, Token)) Assert.Contains("docs/guide.txt", await api.Content.ReadAsStringAsync());
        using (var web = await Host.SendAsync(HttpMethod.Get, c + "/", Token, null, ("X-Web-Mode", "true"))) Assert.Equal("<p>home</p>", await web.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Listings_off_shows_swifts_disabled_page_and_private_containers_stay_private()
    {
        // As in Swift, the site root is a container request: anonymous readers need .rlistings as well as .r:*.
        var c = await fixture.NewContainerAsync(("X-Container-Read", ".r:*,.rlistings"), ("X-Container-Meta-Web-Index", "index.html"));
        using (var r = await Host.SendAsync(HttpMethod.Get, c + "/"))
        {
            Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
            var html = await r.Content.ReadAsStringAsync();
            Assert.Contains("Web Listing Disabled", html);
            Assert.Contains("X-Container-Meta-Web-Index: index.html", html);
        }
        var hidden = await fixture.NewContainerAsync(("X-Container-Meta-Web-Listings", "true"));
        await Put(hidden + "/secret.html", "secret");
        using var anonymous = await Host.SendAsync(HttpMethod.Get, hidden + "/");
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
    }

    [Fact]
    public async Task Domain_remap_serves_a_container_from_a_host_of_its_own()
    {
        var c = await fixture.NewContainerAsync(("X-Container-Read", ".r:*,.rlistings"), ("X-Container-Meta-Web-Index", "index.html"));
        var name = c[("/v1/AUTH_test/".Length)..];
        await Put(c + "/index.html", "<p>home</p>");
        await Put(c + "/docs/index.html", "<p>docs</p>");
        // The account as DNS spells it (a dash for the underscore), the container in front of it.
        using (var home = await Host.SendAsync(HttpMethod.Get, "/", null, null, ("Host", $"{name}.AUTH-test.example.com")))
            Assert.Equal("<p>home</p>", await home.Content.ReadAsStringAsync());
        using (var docs = await Host.SendAsync(HttpMethod.Get, $"/{name}/docs/", null, null, ("Host", "AUTH-test.example.com")))
            Assert.Equal("<p>docs</p>", await docs.Content.ReadAsStringAsync());
        // Static web's redirect to the trailing slash comes back in the host's terms.
        using (var redirect = await Host.SendAsync(HttpMethod.Get, "/docs", null, null, ("Host", $"{name}.AUTH-test.example.com")))
        {
            Assert.Equal(HttpStatusCode.MovedPermanently, redirect.StatusCode);
            Assert.Equal($"http://{name}.AUTH-test.example.com/docs/", redirect.Headers.Location!.OriginalString);
        }
        using (var bad = await Host.SendAsync(HttpMethod.Get, "/", null, null, ("Host", "a.b.AUTH-test.example.com"))) Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        // Other hosts, and accounts of no known reseller prefix, are left alone.
        using (var other = await Host.SendAsync(HttpMethod.Get, "/", null, null, ("Host", $"{name}.nobody.example.com"))) Assert.Equal(HttpStatusCode.NotFound, other.StatusCode);
    }
}
