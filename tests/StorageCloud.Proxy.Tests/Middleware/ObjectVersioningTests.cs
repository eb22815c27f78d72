using System.Net;
using System.Security.Cryptography;
using System.Text;
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

    private static string ContainerName(string container) => container[("/v1/AUTH_test/".Length)..];

    [Fact]
    public async Task Versions_are_the_owners_even_where_an_acl_grants_the_object()
    {
        var c = await fixture.NewContainerAsync(("X-Versions-Enabled", "true"), ("X-Container-Read", "test2:tester2"), ("X-Container-Write", "test2:tester2"));
        var v1 = await Put(c + "/doc", "one");
        await Put(c + "/doc", "two");
        var (other, _) = await Host.AuthAsync("test2:tester2", "testing2");
        using (var r = await Host.SendAsync(HttpMethod.Get, c + "/doc", other)) Assert.Equal("two", await r.Content.ReadAsStringAsync());
        using (var r = await Host.SendAsync(HttpMethod.Get, $"{c}/doc?version-id={v1}", other)) Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode);
        using (var r = await Host.SendAsync(HttpMethod.Delete, $"{c}/doc?version-id={v1}", other)) Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode);
        Assert.Equal("one", (await Get($"{c}/doc?version-id={v1}")).Body);
    }

    [Fact]
    public async Task An_archived_link_or_manifest_reads_as_what_it_was()
    {
        var c = await fixture.NewContainerAsync(("X-Versions-Enabled", "true"));
        using (await Host.SendAsync(HttpMethod.Put, c + "/target", Token, new StringContent("target data"))) { }
        using (await Host.SendAsync(HttpMethod.Put, c + "/segs/1", Token, new StringContent("11"))) { }
        using (await Host.SendAsync(HttpMethod.Put, c + "/segs/2", Token, new StringContent("22"))) { }
        string link, dlo;
        using (var r = await Host.SendAsync(HttpMethod.Put, c + "/link", Token, new ByteArrayContent([]),
                   ("Content-Type", "application/symlink"), ("X-Symlink-Target", ContainerName(c) + "/target")))
            link = r.Headers.GetValues("X-Object-Version-Id").Single();
        using (var r = await Host.SendAsync(HttpMethod.Put, c + "/dlo", Token, new ByteArrayContent([]), ("X-Object-Manifest", ContainerName(c) + "/segs/")))
            dlo = r.Headers.GetValues("X-Object-Version-Id").Single();
        await Put(c + "/link", "plain");
        await Put(c + "/dlo", "plain");

        Assert.Equal(("target data", link), ((await Get($"{c}/link?version-id={link}")).Body, (await Get($"{c}/link?version-id={link}")).Version));
        Assert.Equal("1122", (await Get($"{c}/dlo?version-id={dlo}")).Body);
        using (var raw = await Host.SendAsync(HttpMethod.Head, $"{c}/link?version-id={link}&symlink=get", Token))
            Assert.Equal("application/symlink", raw.Content.Headers.ContentType!.MediaType);
    }

    [Fact]
    public async Task A_copy_from_an_old_version_makes_a_new_version_and_a_link_copies_as_a_link_with_symlink_get()
    {
        var c = await fixture.NewContainerAsync(("X-Versions-Enabled", "true"));
        var v1 = await Put(c + "/doc", "one");
        var v2 = await Put(c + "/doc", "two");
        string v3;
        using (var copy = await Host.SendAsync(new HttpMethod("COPY"), $"{c}/doc?version-id={v1}", Token, null, ("Destination", ContainerName(c) + "/doc")))
        {
            Assert.Equal(HttpStatusCode.Created, copy.StatusCode);
            v3 = copy.Headers.GetValues("X-Object-Version-Id").Single();
            Assert.Equal(v1, copy.Headers.GetValues("X-Copied-From-Version-Id").Single());
        }
        Assert.NotEqual(v1, v3);
        Assert.Equal(("one", v3), ((await Get(c + "/doc")).Body, (await Get(c + "/doc")).Version));
        Assert.Equal([v3, v2, v1], (await Versions(c)).Select(r => r.GetProperty("version_id").GetString()));

        using (await Host.SendAsync(HttpMethod.Put, c + "/target", Token, new StringContent("target data"))) { }
        string link;
        using (var r = await Host.SendAsync(HttpMethod.Put, c + "/link", Token, new ByteArrayContent([]),
                   ("Content-Type", "application/symlink"), ("X-Symlink-Target", ContainerName(c) + "/target")))
            link = r.Headers.GetValues("X-Object-Version-Id").Single();
        await Put(c + "/link", "not a link");
        using (var copy = await Host.SendAsync(new HttpMethod("COPY"), $"{c}/link?version-id={link}&symlink=get", Token, null, ("Destination", ContainerName(c) + "/link")))
            Assert.Equal(HttpStatusCode.Created, copy.StatusCode);
        Assert.Equal("target data", (await Get(c + "/link")).Body);
        using (var raw = await Host.SendAsync(HttpMethod.Head, c + "/link?symlink=get", Token))
            Assert.Equal(ContainerName(c) + "/target", raw.Headers.GetValues("X-Symlink-Target").Single());
    }

    [Fact]
    public async Task An_expiring_object_leaves_its_version_behind()
    {
        // A cluster of its own: its storage nodes' clocks are moved by hand, which the shared one's tests must not see.
        await using var host = await ClusterHost.StartAsync();
        var (token, _) = await host.AuthAsync("test:tester", "testing");
        var c = "/v1/AUTH_test/" + ClusterFixture.NewName();
        using (var made = await host.SendAsync(HttpMethod.Put, c, token, null, ("X-Versions-Enabled", "true"))) Assert.Equal(HttpStatusCode.Created, made.StatusCode);
        string v1, v2;
        using (var r = await host.SendAsync(HttpMethod.Put, c + "/brief", token, new ByteArrayContent("aaaaa"u8.ToArray()),
                   ("Content-Type", "text/blah"), ("X-Delete-After", "1"), ("X-Object-Meta-Color", "blue")))
            v1 = r.Headers.GetValues("X-Object-Version-Id").Single();
        using (var r = await host.SendAsync(HttpMethod.Put, c + "/posted", token, new StringContent("bbbbb")))
            v2 = r.Headers.GetValues("X-Object-Version-Id").Single();
        using (var posted = await host.SendAsync(HttpMethod.Post, c + "/posted", token, null, ("X-Object-Meta-Color", "red"), ("X-Delete-After", "1")))
            Assert.Equal(HttpStatusCode.Accepted, posted.StatusCode);
        foreach (var node in host.Nodes) node.Clock.Advance(DateTimeOffset.UtcNow - node.Clock.GetUtcNow() + TimeSpan.FromSeconds(2.1));
        using (var gone = await host.SendAsync(HttpMethod.Get, c + "/brief", token)) Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        using (var gone = await host.SendAsync(HttpMethod.Get, c + "/posted", token)) Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);

        using (var head = await host.SendAsync(HttpMethod.Head, $"{c}/brief?version-id={v1}", token))
        {
            Assert.Equal(HttpStatusCode.OK, head.StatusCode);
            Assert.Equal("text/blah", head.Content.Headers.ContentType!.MediaType);
            Assert.Equal("blue", head.Headers.GetValues("X-Object-Meta-Color").Single());
            Assert.False(head.Headers.Contains("X-Delete-At"));
        }
        using (var head = await host.SendAsync(HttpMethod.Head, $"{c}/posted?version-id={v2}", token))
            Assert.Equal("red", head.Headers.GetValues("X-Object-Meta-Color").Single());
        using var listing = await host.SendAsync(HttpMethod.Get, c + "?versions&format=json", token);
        var ids = JsonDocument.Parse(await listing.Content.ReadAsStringAsync()).RootElement.EnumerateArray().Select(r => r.GetProperty("version_id").GetString());
        Assert.Equal([v2, v1], ids.OrderDescending(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_temp_url_serves_the_latest_version_whatever_version_id_it_carries()
    {
        var c = await fixture.NewContainerAsync(("X-Versions-Enabled", "true"));
        var key = "k-" + Guid.NewGuid().ToString("N");
        Assert.Equal(HttpStatusCode.NoContent, await Send(HttpMethod.Post, c, ("X-Container-Meta-Temp-URL-Key", key)));
        var v1 = await Put(c + "/doc", "one");
        await Put(c + "/doc", "two");
        var path = c + "/doc";
        var expires = DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 600;
        var sig = Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(key), Encoding.UTF8.GetBytes($"GET\n{expires}\n{path}")));
        using var r = await Host.SendAsync(HttpMethod.Get, $"{path}?temp_url_sig={sig}&temp_url_expires={expires}&version-id={v1}");
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal("two", await r.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Deleting_the_null_version_where_legacy_versioning_keeps_copies_brings_the_previous_copy_back()
    {
        var archive = await fixture.NewContainerAsync();
        var c = await fixture.NewContainerAsync(("X-Versions-Location", ContainerName(archive)));
        foreach (var text in (string[])["version1", "version2", "version3"])
        {
            using var put = await Host.SendAsync(HttpMethod.Put, c + "/doc", Token, new StringContent(text));
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        }
        Assert.Equal(HttpStatusCode.NoContent, await Send(HttpMethod.Delete, c + "/doc?version-id=null"));
        Assert.Equal("version2", (await Get(c + "/doc")).Body);
    }
}
