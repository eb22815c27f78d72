using System.Net;
using System.Text.Json;

namespace StorageCloud.Proxy.Tests.Middleware;

public sealed class ObjectVersioningTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    private ClusterHost Host => fixture.Host;
    private string Token => fixture.Token;

    private async Task<string> Put(string path, string text)
    {
        using var r = await Host.SendAsync(HttpMethod.Put, path, Token, new StringContent(text));
        Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        return r.Headers.GetValues("X-Object-Version-Id").Single();
    }

    private async Task<(HttpStatusCode Status, string Body, string? Version)> Get(string path)
    {
        using var r = await Host.SendAsync(HttpMethod.Get, path, Token);
        return (r.StatusCode, await r.Content.ReadAsStringAsync(), r.Headers.TryGetValues("X-Object-Version-Id", out var v) ? v.Single() : null);
    }

    private async Task<List<JsonElement>> Versions(string container)
    {
        using var r = await Host.SendAsync(HttpMethod.Get, container + "?versions&format=json", Token);
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        return [.. JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement.EnumerateArray()];
    }

    [Fact]
    public async Task Versions_are_kept_read_by_id_listed_and_deleted()
    {
        var c = await fixture.NewContainerAsync(("X-Versions-Enabled", "true"));
        using (var head = await Host.SendAsync(HttpMethod.Head, c, Token)) Assert.Equal("True", head.Headers.GetValues("X-Versions-Enabled").Single());
        var v1 = await Put(c + "/doc", "one");
        var v2 = await Put(c + "/doc", "two");
        var v3 = await Put(c + "/doc", "three");
        Assert.True(string.CompareOrdinal(v1, v2) < 0 && string.CompareOrdinal(v2, v3) < 0);
        Assert.Equal(("three", v3), ((await Get(c + "/doc")).Body, (await Get(c + "/doc")).Version));
        Assert.Equal("one", (await Get($"{c}/doc?version-id={v1}")).Body);
        Assert.Equal("two", (await Get($"{c}/doc?version-id={v2}")).Body);
        Assert.Equal("three", (await Get($"{c}/doc?version-id={v3}")).Body);

        var listed = await Versions(c);
        Assert.Equal([v3, v2, v1], listed.Select(r => r.GetProperty("version_id").GetString()));
        Assert.Equal([true, false, false], listed.Select(r => r.GetProperty("is_latest").GetBoolean()));
        Assert.All(listed, r => Assert.Equal("doc", r.GetProperty("name").GetString()));
        // The plain listing and the account listing do not show the hidden versions.
        using (var plain = await Host.SendAsync(HttpMethod.Get, c, Token)) Assert.Equal("doc\n", await plain.Content.ReadAsStringAsync());
        using (var account = await Host.SendAsync(HttpMethod.Get, "/v1/AUTH_test", Token)) Assert.DoesNotContain('\u0001', await account.Content.ReadAsStringAsync());

        // DELETE leaves a delete marker as the latest; older versions stay readable.
        string marker;
        using (var del = await Host.SendAsync(HttpMethod.Delete, c + "/doc", Token))
        {
            Assert.Equal(HttpStatusCode.NoContent, del.StatusCode);
            marker = del.Headers.GetValues("X-Object-Version-Id").Single();
        }
        Assert.Equal(HttpStatusCode.NotFound, (await Get(c + "/doc")).Status);
        Assert.Equal("three", (await Get($"{c}/doc?version-id={v3}")).Body);
        Assert.Equal(HttpStatusCode.NotFound, (await Get($"{c}/doc?version-id={marker}")).Status);
        listed = await Versions(c);
        Assert.Equal(marker, listed[0].GetProperty("version_id").GetString());
        Assert.True(listed[0].GetProperty("is_latest").GetBoolean());
        Assert.Equal("application/x-deleted;swift_versions_deleted=1", listed[0].GetProperty("content_type").GetString());

        // Deleting the marker brings the newest version back; deleting a version by id removes just it.
        using (var undelete = await Host.SendAsync(HttpMethod.Delete, $"{c}/doc?version-id={marker}", Token)) Assert.Equal(HttpStatusCode.NoContent, undelete.StatusCode);
        Assert.Equal(("three", v3), ((await Get(c + "/doc")).Body, (await Get(c + "/doc")).Version));
        using (var drop = await Host.SendAsync(HttpMethod.Delete, $"{c}/doc?version-id={v2}", Token)) Assert.Equal(HttpStatusCode.NoContent, drop.StatusCode);
        Assert.Equal([v3, v1], (await Versions(c)).Select(r => r.GetProperty("version_id").GetString()));
        // Deleting the current version by id leaves no current object, as in Swift (the older one stays a version);
        // a client cannot ask for S3's restore itself (the gatekeeper drops X-Backend- headers).
        using (var drop = await Host.SendAsync(HttpMethod.Delete, $"{c}/doc?version-id={v3}", Token, null, ("X-Backend-Versions-Restore-Previous", "true")))
            Assert.Equal(HttpStatusCode.NoContent, drop.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Get(c + "/doc")).Status);
        Assert.Equal("one", (await Get($"{c}/doc?version-id={v1}")).Body);
        Assert.Equal([v1], (await Versions(c)).Select(r => r.GetProperty("version_id").GetString()));
    }

    [Fact]
    public async Task Versioning_cannot_mix_with_legacy_locations_and_version_reads_need_read_access()
    {
        var versions = await fixture.NewContainerAsync();
        var legacy = await fixture.NewContainerAsync(("X-Versions-Location", versions[("/v1/AUTH_test/".Length)..]));
        using (var r = await Host.SendAsync(HttpMethod.Post, legacy, Token, null, ("X-Versions-Enabled", "true"))) Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        using (var r = await Host.SendAsync(HttpMethod.Put, "/v1/AUTH_test/" + ClusterFixture.NewName(), Token, null, ("X-Versions-Enabled", "maybe"))) Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);

        var c = await fixture.NewContainerAsync(("X-Versions-Enabled", "true"));
        var v1 = await Put(c + "/private", "secret-1");
        await Put(c + "/private", "secret-2");
        var (other, _) = await Host.AuthAsync("test2:tester2", "testing2");
        using (var r = await Host.SendAsync(HttpMethod.Get, $"{c}/private?version-id={v1}", other)) Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode);
        using (var r = await Host.SendAsync(HttpMethod.Get, $"{c}?versions", other)) Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode);
        // Clients cannot reach the hidden container: reserved names are refused.
        using (var r = await Host.SendAsync(HttpMethod.Get, $"/v1/AUTH_test/%01versions%01{c[("/v1/AUTH_test/".Length)..]}", Token)) Assert.Equal(HttpStatusCode.PreconditionFailed, r.StatusCode);
    }

    private async Task<HttpStatusCode> Send(HttpMethod method, string path, params (string, string)[] headers)
    {
        using var r = await Host.SendAsync(method, path, Token, null, headers);
        return r.StatusCode;
    }

    private async Task<long> BytesUsed(string container)
    {
        using var head = await Host.SendAsync(HttpMethod.Head, container, Token);
        return long.Parse(head.Headers.GetValues("X-Container-Bytes-Used").Single());
    }

    [Fact]
    public async Task Older_versions_count_in_bytes_used_and_quota_and_keep_their_container_from_deletion()
    {
        var c = await fixture.NewContainerAsync(("X-Versions-Enabled", "true"));
        await Put(c + "/a", "aaaaa");
        await Put(c + "/a", "bbbbb");
        Assert.Equal(10, await BytesUsed(c));
        Assert.Equal(HttpStatusCode.NoContent, await Send(HttpMethod.Post, c, ("X-Container-Meta-Quota-Bytes", "10")));
        using (var over = await Host.SendAsync(HttpMethod.Put, c + "/a", Token, new StringContent("ccccc"))) Assert.Equal((HttpStatusCode)413, over.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, await Send(HttpMethod.Post, c, ("X-Container-Meta-Quota-Bytes", "")));

        // Deleting the object leaves its versions: the container cannot go until they do.
        Assert.Equal(HttpStatusCode.NoContent, await Send(HttpMethod.Delete, c + "/a"));
        Assert.Equal(HttpStatusCode.Conflict, await Send(HttpMethod.Delete, c));
        foreach (var version in await Versions(c))
            Assert.Equal(HttpStatusCode.NoContent, await Send(HttpMethod.Delete, $"{c}/a?version-id={version.GetProperty("version_id").GetString()}"));
        Assert.Equal(HttpStatusCode.NoContent, await Send(HttpMethod.Delete, c));
        Assert.Equal(HttpStatusCode.NotFound, await Send(HttpMethod.Head, c));
    }

    [Fact]
    public async Task An_old_version_made_latest_again_is_listed_once_and_versions_outlive_versioning()
    {
        var c = await fixture.NewContainerAsync(("X-Versions-Enabled", "true"));
        var v1 = await Put(c + "/doc", "one");
        var v2 = await Put(c + "/doc", "two");
        using (var body = await Host.SendAsync(HttpMethod.Put, $"{c}/doc?version-id={v1}", Token, new StringContent("x"))) Assert.Equal(HttpStatusCode.BadRequest, body.StatusCode);
        using (var missing = await Host.SendAsync(HttpMethod.Put, $"{c}/doc?version-id=1234567890.12345", Token, new ByteArrayContent([]))) Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        using (var restore = await Host.SendAsync(HttpMethod.Put, $"{c}/doc?version-id={v1}", Token, new ByteArrayContent([])))
        {
            Assert.Equal(HttpStatusCode.Created, restore.StatusCode);
            Assert.Equal(v1, restore.Headers.GetValues("X-Object-Version-Id").Single());
        }
        Assert.Equal(("one", v1), ((await Get(c + "/doc")).Body, (await Get(c + "/doc")).Version));
        var listed = await Versions(c);
        Assert.Equal([v2, v1], listed.Select(r => r.GetProperty("version_id").GetString()));
        Assert.Equal([false, true], listed.Select(r => r.GetProperty("is_latest").GetBoolean()));

        // With versioning off, overwriting and deleting keep the versions written while it was on; new writes have none.
        Assert.Equal(HttpStatusCode.NoContent, await Send(HttpMethod.Post, c, ("X-Versions-Enabled", "false")));
        using (var plain = await Host.SendAsync(HttpMethod.Put, c + "/doc", Token, new StringContent("three")))
            Assert.False(plain.Headers.Contains("X-Object-Version-Id"));
        listed = await Versions(c);
        Assert.Equal(["null", v2, v1], listed.Select(r => r.GetProperty("version_id").GetString()));
        Assert.Equal(HttpStatusCode.NoContent, await Send(HttpMethod.Delete, c + "/doc"));
        Assert.Equal([v2, v1], (await Versions(c)).Select(r => r.GetProperty("version_id").GetString()));
        Assert.Equal("one", (await Get($"{c}/doc?version-id={v1}")).Body);
    }

    [Fact]
    public async Task Version_listings_fold_by_delimiter_reverse_and_are_json_only()
    {
        var c = await fixture.NewContainerAsync(("X-Versions-Enabled", "true"));
        var a1 = await Put(c + "/a", "1");
        var a2 = await Put(c + "/a", "2");
        await Put(c + "/b-x", "x");
        await Put(c + "/b-y", "y");
        using (var folded = await Host.SendAsync(HttpMethod.Get, c + "?versions&delimiter=-", Token))
        {
            var rows = JsonDocument.Parse(await folded.Content.ReadAsStringAsync()).RootElement.EnumerateArray()
                .Select(r => r.TryGetProperty("subdir", out var d) ? d.GetString() : r.GetProperty("name").GetString()).ToList();
            Assert.Equal(["a", "a", "b-"], rows);
        }
        using (var reverse = await Host.SendAsync(HttpMethod.Get, c + "?versions&reverse=true&prefix=a", Token))
            Assert.Equal([a1, a2], JsonDocument.Parse(await reverse.Content.ReadAsStringAsync()).RootElement.EnumerateArray().Select(r => r.GetProperty("version_id").GetString()));
        Assert.Equal(HttpStatusCode.NotAcceptable, await Send(HttpMethod.Get, c + "?versions&format=xml"));
        Assert.Equal(HttpStatusCode.NotAcceptable, await Send(HttpMethod.Get, c + "?versions", ("Accept", "text/plain")));
        Assert.Equal(HttpStatusCode.BadRequest, await Send(HttpMethod.Get, c + "?versions&delimiter=1"));
    }

    [Fact]
    public async Task A_copy_into_a_versioned_container_keeps_the_object_it_replaces_as_a_version()
    {
        var c = await fixture.NewContainerAsync(("X-Versions-Enabled", "true"));
        var source = await fixture.NewContainerAsync();
        var v1 = await Put(c + "/doc", "one");
        using (await Host.SendAsync(HttpMethod.Put, source + "/src", Token, new StringContent("copied"))) { }
        using (var copy = await Host.SendAsync(new HttpMethod("COPY"), source + "/src", Token, null, ("Destination", c[("/v1/AUTH_test/".Length)..] + "/doc")))
            Assert.Equal(HttpStatusCode.Created, copy.StatusCode);
        Assert.Equal("copied", (await Get(c + "/doc")).Body);
        Assert.Equal("one", (await Get($"{c}/doc?version-id={v1}")).Body);
        Assert.Equal(2, (await Versions(c)).Count);
        // A COPY without a usable Destination is refused as before.
        Assert.Equal(HttpStatusCode.PreconditionFailed, await Send(new HttpMethod("COPY"), source + "/src"));
        Assert.Equal(HttpStatusCode.PreconditionFailed, await Send(new HttpMethod("COPY"), source + "/src", ("Destination", "nocontainer")));
    }
}
