using System.Net;

namespace StorageCloud.Proxy.Tests.Middleware;

public sealed class LegacyVersioningTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    private ClusterHost Host => fixture.Host;
    private string Token => fixture.Token;

    private async Task<string> Get(string path)
    {
        using var r = await Host.SendAsync(HttpMethod.Get, path, Token);
        return r.StatusCode == HttpStatusCode.OK ? await r.Content.ReadAsStringAsync() : $"{(int)r.StatusCode}";
    }

    private async Task<string[]> List(string container)
    {
        using var r = await Host.SendAsync(HttpMethod.Get, container, Token, null, ("X-Newest", "true"));
        return (await r.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    [Fact]
    public async Task Stack_mode_keeps_overwritten_versions_and_delete_pops_them_back()
    {
        var versions = await fixture.NewContainerAsync();
        var c = await fixture.NewContainerAsync(("X-Versions-Location", versions[("/v1/AUTH_test/".Length)..]));
        foreach (var text in new[] { "v1", "v2", "v3" })
            using (var put = await Host.SendAsync(HttpMethod.Put, c + "/doc", Token, new StringContent(text), ("X-Object-Meta-Ver", text))) Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        Assert.Equal("v3", await Get(c + "/doc"));
        var kept = await List(versions);
        Assert.Equal(2, kept.Length);
        Assert.All(kept, name => Assert.StartsWith("003doc/", name));
        Assert.Equal("v1", await Get($"{versions}/{kept[0]}"));

        using (var del = await Host.SendAsync(HttpMethod.Delete, c + "/doc", Token)) Assert.Equal(HttpStatusCode.NoContent, del.StatusCode);
        Assert.Equal("v2", await Get(c + "/doc"));
        using (var head = await Host.SendAsync(HttpMethod.Head, c + "/doc", Token)) Assert.Equal("v2", head.Headers.GetValues("X-Object-Meta-Ver").Single());
        using (await Host.SendAsync(HttpMethod.Delete, c + "/doc", Token)) { }
        Assert.Equal("v1", await Get(c + "/doc"));
        using (await Host.SendAsync(HttpMethod.Delete, c + "/doc", Token)) { }
        Assert.Equal("404", await Get(c + "/doc"));
        Assert.Empty(await List(versions));
    }

    [Fact]
    public async Task History_mode_archives_every_version_and_marks_deletes()
    {
        var archive = await fixture.NewContainerAsync();
        var c = await fixture.NewContainerAsync(("X-History-Location", archive[("/v1/AUTH_test/".Length)..]));
        using (await Host.SendAsync(HttpMethod.Put, c + "/h", Token, new StringContent("one"))) { }
        using (await Host.SendAsync(HttpMethod.Put, c + "/h", Token, new StringContent("two"))) { }
        using (var del = await Host.SendAsync(HttpMethod.Delete, c + "/h", Token)) Assert.Equal(HttpStatusCode.NoContent, del.StatusCode);
        Assert.Equal("404", await Get(c + "/h"));
        using var listing = await Host.SendAsync(HttpMethod.Get, archive + "?format=json", Token, null, ("X-Newest", "true"));
        var rows = System.Text.Json.JsonDocument.Parse(await listing.Content.ReadAsStringAsync()).RootElement.EnumerateArray().ToList();
        Assert.Equal(3, rows.Count);
        Assert.Equal("one", await Get($"{archive}/{rows[0].GetProperty("name").GetString()}"));
        Assert.Equal("two", await Get($"{archive}/{rows[1].GetProperty("name").GetString()}"));
        Assert.Equal("application/x-deleted;swift_versions_deleted=1", rows[2].GetProperty("content_type").GetString());
    }

    [Fact]
    public async Task Both_modes_at_once_is_refused_and_writers_need_write_access()
    {
        using (var r = await Host.SendAsync(HttpMethod.Put, "/v1/AUTH_test/" + ClusterFixture.NewName(), Token, null, ("X-Versions-Location", "a"), ("X-History-Location", "b")))
        {
            Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
            Assert.Equal("Only one of X-Versions-Location or X-History-Location may be specified", await r.Content.ReadAsStringAsync());
        }
        var versions = await fixture.NewContainerAsync();
        var c = await fixture.NewContainerAsync(("X-Versions-Location", versions[("/v1/AUTH_test/".Length)..]));
        using (await Host.SendAsync(HttpMethod.Put, c + "/o", Token, new StringContent("mine"))) { }
        var (other, _) = await Host.AuthAsync("test2:tester2", "testing2");
        using (var r = await Host.SendAsync(HttpMethod.Put, c + "/o", other, new StringContent("theirs"))) Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode);
        Assert.Empty(await List(versions));
        Assert.Equal("mine", await Get(c + "/o"));
    }
}
