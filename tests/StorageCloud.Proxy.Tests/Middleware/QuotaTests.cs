using System.Net;

namespace StorageCloud.Proxy.Tests.Middleware;

public sealed class QuotaTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    private ClusterHost Host => fixture.Host;
    private string Token => fixture.Token;

    [Fact]
    public async Task Container_quotas_refuse_puts_copies_and_manifests_past_the_limit()
    {
        using (var bad = await Host.SendAsync(HttpMethod.Put, "/v1/AUTH_test/" + ClusterFixture.NewName(), Token, null, ("X-Container-Meta-Quota-Bytes", "lots")))
        {
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
            Assert.Equal("Invalid bytes quota.", await bad.Content.ReadAsStringAsync());
        }
        using (var bad = await Host.SendAsync(HttpMethod.Put, "/v1/AUTH_test/" + ClusterFixture.NewName(), Token, null, ("X-Container-Meta-Quota-Count", "-1")))
            Assert.Equal("Invalid count quota.", await bad.Content.ReadAsStringAsync());

        var c = await fixture.NewContainerAsync(("X-Container-Meta-Quota-Bytes", "100"));
        using (var ok = await Host.SendAsync(HttpMethod.Put, c + "/a", Token, new ByteArrayContent(new byte[60]))) Assert.Equal(HttpStatusCode.Created, ok.StatusCode);
        using (var over = await Host.SendAsync(HttpMethod.Put, c + "/b", Token, new ByteArrayContent(new byte[41])))
        {
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, over.StatusCode);
            Assert.Equal("Upload exceeds quota.", await over.Content.ReadAsStringAsync());
        }
        using (var copy = await Host.SendAsync(new HttpMethod("COPY"), c + "/a", Token, null, ("Destination", c[("/v1/AUTH_test/".Length)..] + "/a2")))
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, copy.StatusCode);
        using (var fits = await Host.SendAsync(HttpMethod.Put, c + "/c", Token, new ByteArrayContent(new byte[40]))) Assert.Equal(HttpStatusCode.Created, fits.StatusCode);
        // Someone without write access still gets their own refusal, not news of the quota.
        var (other, _) = await Host.AuthAsync("test2:tester2", "testing2");
        using (var denied = await Host.SendAsync(HttpMethod.Put, c + "/d", other, new ByteArrayContent(new byte[41]))) Assert.Equal(HttpStatusCode.Forbidden, denied.StatusCode);

        var counted = await fixture.NewContainerAsync(("X-Container-Meta-Quota-Count", "2"));
        for (var i = 0; i < 2; i++)
            using (var ok = await Host.SendAsync(HttpMethod.Put, $"{counted}/o{i}", Token, new StringContent("x"))) Assert.Equal(HttpStatusCode.Created, ok.StatusCode);
        using (var third = await Host.SendAsync(HttpMethod.Put, counted + "/o2", Token, new StringContent("x"))) Assert.Equal(HttpStatusCode.RequestEntityTooLarge, third.StatusCode);

        // An SLO manifest counts the size of the object it makes.
        var segs = await fixture.NewContainerAsync();
        using (await Host.SendAsync(HttpMethod.Put, segs + "/s", Token, new ByteArrayContent(new byte[500]))) { }
        var small = await fixture.NewContainerAsync(("X-Container-Meta-Quota-Bytes", "300"));
        using var manifest = await Host.SendAsync(HttpMethod.Put, small + "/m?multipart-manifest=put", Token,
            new StringContent($"[{{\"path\":\"{segs[("/v1/AUTH_test/".Length)..]}/s\"}}]"));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, manifest.StatusCode);
    }

    [Fact]
    public async Task Account_quota_is_set_by_reseller_admins_only_and_enforced()
    {
        await using var host = await ClusterHost.StartAsync();
        var (token, _) = await host.AuthAsync("test2:tester2", "testing2");
        var (admin, _) = await host.AuthAsync("admin:admin", "admin");
        using (var r = await host.SendAsync(HttpMethod.Post, "/v1/AUTH_test2", token, null, ("X-Account-Meta-Quota-Bytes", "100"))) Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode);
        using (var r = await host.SendAsync(HttpMethod.Post, "/v1/AUTH_test2", admin, null, ("X-Account-Meta-Quota-Bytes", "x"))) Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        using (var r = await host.SendAsync(HttpMethod.Post, "/v1/AUTH_test2", admin, null, ("X-Account-Meta-Quota-Bytes", "100"))) Assert.Equal(HttpStatusCode.NoContent, r.StatusCode);
        // Nor may the account's own users remove it, by an empty value or X-Remove-.
        using (var r = await host.SendAsync(HttpMethod.Post, "/v1/AUTH_test2", token, null, ("X-Account-Meta-Quota-Bytes", ""))) Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode);
        using (var r = await host.SendAsync(HttpMethod.Post, "/v1/AUTH_test2", token, null, ("X-Remove-Account-Meta-Quota-Bytes", "x"))) Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode);
        using (await host.SendAsync(HttpMethod.Put, "/v1/AUTH_test2/q", token)) { }
        using (var r = await host.SendAsync(HttpMethod.Put, "/v1/AUTH_test2/q/a", token, new ByteArrayContent(new byte[80]))) Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        // Account totals follow the container updater, as in Swift.
        await host.ReportContainersAsync();
        using (var r = await host.SendAsync(HttpMethod.Put, "/v1/AUTH_test2/q/b", token, new ByteArrayContent(new byte[30])))
        {
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, r.StatusCode);
            Assert.Equal("Upload exceeds quota.", await r.Content.ReadAsStringAsync());
        }
        using (var r = await host.SendAsync(HttpMethod.Post, "/v1/AUTH_test2", admin, null, ("X-Remove-Account-Meta-Quota-Bytes", "x"))) Assert.Equal(HttpStatusCode.NoContent, r.StatusCode);
        using (var r = await host.SendAsync(HttpMethod.Put, "/v1/AUTH_test2/q/b", token, new ByteArrayContent(new byte[30]))) Assert.Equal(HttpStatusCode.Created, r.StatusCode);
    }
}
