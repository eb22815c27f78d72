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
}
