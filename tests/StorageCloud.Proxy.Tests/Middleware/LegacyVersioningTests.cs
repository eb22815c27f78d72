using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

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

    private static string Name(string container) => container[("/v1/AUTH_test/".Length)..];

    private async Task<List<JsonElement>> Rows(string container)
    {
        using var r = await Host.SendAsync(HttpMethod.Get, container + "?format=json", Token, null, ("X-Newest", "true"));
        return JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement.EnumerateArray().ToList();
    }

    private async Task<HttpStatusCode> Send(HttpMethod method, string path, string? body = null, params (string, string)[] headers)
    {
        using var r = await Host.SendAsync(method, path, Token, body is null ? null : new StringContent(body), headers);
        return r.StatusCode;
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

    [Fact]
    public async Task Overwritten_slo_manifest_is_kept_as_a_manifest_and_restored_as_one()
    {
        var versions = await fixture.NewContainerAsync();
        var c = await fixture.NewContainerAsync(("X-Versions-Location", Name(versions)));
        var segments = await fixture.NewContainerAsync();
        var data = new Dictionary<string, byte[]> { ["a"] = Encoding.ASCII.GetBytes(new string('a', 3000)), ["b"] = Encoding.ASCII.GetBytes(new string('b', 3000)) };
        foreach (var (seg, bytes) in data)
            using (var put = await Host.SendAsync(HttpMethod.Put, $"{segments}/{seg}", Token, new ByteArrayContent(bytes))) Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        string Manifest(string seg) => $"[{{\"path\":\"/{Name(segments)}/{seg}\",\"size_bytes\":3000,\"etag\":\"{Convert.ToHexStringLower(MD5.HashData(data[seg]))}\"}}]";

        Assert.Equal(HttpStatusCode.Created, await Send(HttpMethod.Put, c + "/m?multipart-manifest=put", Manifest("a")));
        Assert.Equal(3000L, (await Rows(c)).Single().GetProperty("bytes").GetInt64());
        Assert.Equal(HttpStatusCode.Created, await Send(HttpMethod.Put, c + "/m?multipart-manifest=put", Manifest("b")));

        var kept = (await Rows(versions)).Single();
        Assert.Equal(3000L, kept.GetProperty("bytes").GetInt64());
        var version = $"{versions}/{kept.GetProperty("name").GetString()}";
        using (var raw = await Host.SendAsync(HttpMethod.Get, version + "?multipart-manifest=get", Token))
        {
            Assert.Equal(HttpStatusCode.OK, raw.StatusCode);
            Assert.True(raw.Headers.Contains("X-Static-Large-Object"));
            var entry = JsonDocument.Parse(await raw.Content.ReadAsStringAsync()).RootElement.EnumerateArray().Single();
            Assert.Equal($"/{Name(segments)}/a", entry.GetProperty("name").GetString());
        }
        Assert.Equal(Encoding.ASCII.GetString(data["a"]), await Get(version));
        Assert.Equal(Encoding.ASCII.GetString(data["b"]), await Get(c + "/m"));

        Assert.Equal(HttpStatusCode.NoContent, await Send(HttpMethod.Delete, c + "/m"));
        Assert.Equal(Encoding.ASCII.GetString(data["a"]), await Get(c + "/m"));
        using (var raw = await Host.SendAsync(HttpMethod.Get, c + "/m?multipart-manifest=get", Token)) Assert.True(raw.Headers.Contains("X-Static-Large-Object"));
        Assert.Equal(3000L, (await Rows(c)).Single().GetProperty("bytes").GetInt64());
        Assert.Empty(await Rows(versions));
    }

    [Fact]
    public async Task Setting_a_location_beside_its_removal_sets_it_and_writers_by_acl_archive_without_access_to_the_versions()
    {
        var versions = await fixture.NewContainerAsync(("X-Container-Write", ""));
        var c = await fixture.NewContainerAsync(("X-Container-Write", "test2:tester2"));
        Assert.Equal(HttpStatusCode.NoContent, await Send(HttpMethod.Post, c, null, ("X-Remove-Versions-Location", Name(versions)), ("X-Versions-Location", Name(versions))));
        using (var head = await Host.SendAsync(HttpMethod.Head, c, Token)) Assert.Equal(Name(versions), head.Headers.GetValues("X-Versions-Location").Single());

        var (other, _) = await Host.AuthAsync("test2:tester2", "testing2");
        using (var put = await Host.SendAsync(HttpMethod.Put, $"{versions}/direct", other, new StringContent("no"))) Assert.Equal(HttpStatusCode.Forbidden, put.StatusCode);
        foreach (var text in new[] { "first", "second" })
            using (var put = await Host.SendAsync(HttpMethod.Put, c + "/o", other, new StringContent(text))) Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        var kept = Assert.Single(await List(versions));
        Assert.Equal("first", await Get($"{versions}/{kept}"));
        using (var read = await Host.SendAsync(HttpMethod.Get, $"{versions}/{kept}", other)) Assert.Equal(HttpStatusCode.Forbidden, read.StatusCode);
        Assert.Equal("second", await Get(c + "/o"));
    }

    [Fact]
    public async Task Removing_either_location_or_setting_one_empty_ends_versioning_in_either_mode()
    {
        var versions = await fixture.NewContainerAsync();
        var c = await fixture.NewContainerAsync(("X-Versions-Location", Name(versions)));
        async Task<(string?, string?)> Locations()
        {
            using var head = await Host.SendAsync(HttpMethod.Head, c, Token);
            return (head.Headers.TryGetValues("X-Versions-Location", out var v) ? v.Single() : null,
                head.Headers.TryGetValues("X-History-Location", out var h) ? h.Single() : null);
        }
        Assert.Equal(HttpStatusCode.NoContent, await Send(HttpMethod.Post, c, null, ("X-Remove-History-Location", "x")));
        Assert.Equal<(string?, string?)>((null, null), await Locations());

        Assert.Equal(HttpStatusCode.NoContent, await Send(HttpMethod.Post, c, null, ("X-History-Location", Name(versions))));
        Assert.Equal<(string?, string?)>((null, Name(versions)), await Locations());
        Assert.Equal(HttpStatusCode.NoContent, await Send(HttpMethod.Post, c, null, ("X-Versions-Location", "")));
        Assert.Equal<(string?, string?)>((null, null), await Locations());

        // An empty history location beside a stack one leaves the stack one to be set.
        Assert.Equal(HttpStatusCode.NoContent, await Send(HttpMethod.Post, c, null, ("X-Versions-Location", Name(versions)), ("X-History-Location", "")));
        Assert.Equal<(string?, string?)>((Name(versions), null), await Locations());
        Assert.Equal(HttpStatusCode.Created, await Send(HttpMethod.Put, c + "/o", "one"));
        Assert.Equal(HttpStatusCode.Created, await Send(HttpMethod.Put, c + "/o", "two"));
        Assert.Single(await List(versions));
    }

    [Fact]
    public async Task Stack_mode_delete_consumes_history_delete_markers_and_restores_the_version_under_them()
    {
        var versions = await fixture.NewContainerAsync();
        var c = await fixture.NewContainerAsync(("X-History-Location", Name(versions)));
        Assert.Equal(HttpStatusCode.Created, await Send(HttpMethod.Put, c + "/x", "version1"));
        Assert.Equal(HttpStatusCode.Created, await Send(HttpMethod.Put, c + "/x", "version2"));
        Assert.Equal(HttpStatusCode.NoContent, await Send(HttpMethod.Delete, c + "/x"));
        Assert.Equal(3, (await List(versions)).Length);

        // Marker on top and no current object: the version under it comes back and the marker goes.
        Assert.Equal(HttpStatusCode.NoContent, await Send(HttpMethod.Post, c, null, ("X-Versions-Location", Name(versions))));
        Assert.Equal(HttpStatusCode.NoContent, await Send(HttpMethod.Delete, c + "/x"));
        Assert.Equal("version2", await Get(c + "/x"));
        Assert.Equal("version1", await Get($"{versions}/{Assert.Single(await List(versions))}"));

        Assert.Equal(HttpStatusCode.NoContent, await Send(HttpMethod.Post, c, null, ("X-History-Location", Name(versions))));
        Assert.Equal(HttpStatusCode.NoContent, await Send(HttpMethod.Delete, c + "/x"));
        Assert.Equal(HttpStatusCode.NotFound, await Send(HttpMethod.Delete, c + "/x"));
        Assert.Equal(4, (await List(versions)).Length);

        // Two markers on top: the first DELETE removes one and restores nothing, the next restores version2.
        Assert.Equal(HttpStatusCode.NoContent, await Send(HttpMethod.Post, c, null, ("X-Versions-Location", Name(versions))));
        Assert.Equal(HttpStatusCode.NoContent, await Send(HttpMethod.Delete, c + "/x"));
        Assert.Equal(3, (await List(versions)).Length);
        Assert.Equal("404", await Get(c + "/x"));
        Assert.Equal(HttpStatusCode.NoContent, await Send(HttpMethod.Delete, c + "/x"));
        Assert.Equal("version2", await Get(c + "/x"));
        Assert.Single(await List(versions));

        // A marker on top of an object written again since: the DELETE is an ordinary one.
        Assert.Equal(HttpStatusCode.NoContent, await Send(HttpMethod.Post, c, null, ("X-History-Location", Name(versions))));
        Assert.Equal(HttpStatusCode.NoContent, await Send(HttpMethod.Delete, c + "/x"));
        Assert.Equal(HttpStatusCode.Created, await Send(HttpMethod.Put, c + "/x", "version3"));
        Assert.Equal(HttpStatusCode.NoContent, await Send(HttpMethod.Post, c, null, ("X-Versions-Location", Name(versions))));
        var before = (await List(versions)).Length;
        Assert.Equal(HttpStatusCode.NoContent, await Send(HttpMethod.Delete, c + "/x"));
        Assert.Equal("404", await Get(c + "/x"));
        Assert.Equal(before, (await List(versions)).Length);
    }

    [Fact]
    public async Task Delete_marker_reads_back_with_its_content_type_as_written()
    {
        var archive = await fixture.NewContainerAsync();
        var c = await fixture.NewContainerAsync(("X-History-Location", Name(archive)));
        Assert.Equal(HttpStatusCode.Created, await Send(HttpMethod.Put, c + "/gone", "data"));
        Assert.Equal(HttpStatusCode.NoContent, await Send(HttpMethod.Delete, c + "/gone"));
        var marker = (await List(archive)).Last();
        using var head = await Host.SendAsync(HttpMethod.Head, $"{archive}/{marker}", Token);
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        // Read unparsed: HttpClient's typed view would put a space after the ';' itself.
        Assert.True(head.Content.Headers.NonValidated.TryGetValues("Content-Type", out var type));
        Assert.Equal("application/x-deleted;swift_versions_deleted=1", type.ToString());
    }
}
