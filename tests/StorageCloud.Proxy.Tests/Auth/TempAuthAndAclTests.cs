using System.Net;

namespace StorageCloud.Proxy.Tests.Auth;

public sealed class TempAuthAndAclTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    private ClusterHost Host => fixture.Host;

    [Fact]
    public async Task Auth_v1_gives_token_storage_url_and_expiry_and_refuses_bad_keys()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/auth/v1.0");
        request.Headers.Add("X-Storage-User", "test:tester");
        request.Headers.Add("X-Storage-Pass", "testing");
        using var ok = await Host.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        var token = ok.Headers.GetValues("X-Auth-Token").Single();
        Assert.StartsWith("AUTH_tk", token);
        Assert.Equal(token, ok.Headers.GetValues("X-Storage-Token").Single());
        Assert.Equal(Host.BaseUrl + "/v1/AUTH_test", ok.Headers.GetValues("X-Storage-Url").Single());
        Assert.InRange(long.Parse(ok.Headers.GetValues("X-Auth-Token-Expires").Single()), 86000, 86400);
        // The same user gets the same unexpired token back.
        Assert.Equal(token, (await Host.AuthAsync()).Token);

        foreach (var (user, key, realm) in new[] { ("test:tester", "wrong", "unknown"), ("test:nobody", "x", "test"), ("nocolon", "x", "unknown") })
        {
            using var bad = new HttpRequestMessage(HttpMethod.Get, "/auth/v1.0");
            bad.Headers.Add("X-Auth-User", user);
            bad.Headers.Add("X-Auth-Key", key);
            using var denied = await Host.Client.SendAsync(bad);
            Assert.Equal(HttpStatusCode.Unauthorized, denied.StatusCode);
            Assert.Equal($"Swift realm=\"{realm}\"", denied.Headers.WwwAuthenticate.ToString());
        }
        // The account-in-path form.
        using var pathForm = new HttpRequestMessage(HttpMethod.Get, "/auth/v1/test/auth");
        pathForm.Headers.Add("X-Storage-User", "tester");
        pathForm.Headers.Add("X-Storage-Pass", "testing");
        using var pathOk = await Host.Client.SendAsync(pathForm);
        Assert.Equal(HttpStatusCode.OK, pathOk.StatusCode);
    }

    [Fact]
    public async Task Anonymous_and_bad_tokens_get_401_other_accounts_403()
    {
        var c = await fixture.NewContainerAsync();
        using (var r = await Host.SendAsync(HttpMethod.Get, c)) Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode);
        using (var r = await Host.SendAsync(HttpMethod.Get, c, "AUTH_tkbogus"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode);
            Assert.Equal("Swift realm=\"AUTH_test\"", r.Headers.WwwAuthenticate.ToString());
        }
        var (other, _) = await Host.AuthAsync("test2:tester2", "testing2");
        using (var r = await Host.SendAsync(HttpMethod.Get, c, other)) Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode);
        using (var r = await Host.SendAsync(HttpMethod.Put, c + "/x", other, new StringContent("x"))) Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode);
        // A non-admin user of the same account has no rights without an ACL.
        var (tester3, _) = await Host.AuthAsync("test:tester3", "testing3");
        using (var r = await Host.SendAsync(HttpMethod.Get, "/v1/AUTH_test", tester3)) Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode);
        using (var r = await Host.SendAsync(HttpMethod.Put, "/v1/AUTH_test/" + ClusterFixture.NewName(), tester3)) Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode);
        // The reseller admin reaches every account.
        var (admin, _) = await Host.AuthAsync("admin:admin", "admin");
        using (var r = await Host.SendAsync(HttpMethod.Get, c, admin)) Assert.Equal(HttpStatusCode.NoContent, r.StatusCode);
    }

    [Fact]
    public async Task Public_read_acl_lets_anonymous_read_objects_and_rlistings_lets_them_list()
    {
        var c = await fixture.NewContainerAsync();
        using (await Host.SendAsync(HttpMethod.Put, c + "/pub", fixture.Token, new StringContent("public data"))) { }
        using (var r = await Host.SendAsync(HttpMethod.Post, c, fixture.Token, null, ("X-Container-Read", ".r:*"))) Assert.Equal(HttpStatusCode.NoContent, r.StatusCode);
        using (var r = await Host.SendAsync(HttpMethod.Get, c + "/pub"))
        {
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            Assert.Equal("public data", await r.Content.ReadAsStringAsync());
        }
        using (var r = await Host.SendAsync(HttpMethod.Get, c)) Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode);
        using (var r = await Host.SendAsync(HttpMethod.Put, c + "/nope", null, new StringContent("x"))) Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode);
        using (var r = await Host.SendAsync(HttpMethod.Post, c, fixture.Token, null, ("X-Container-Read", " .r:* , .rlistings "))) Assert.Equal(HttpStatusCode.NoContent, r.StatusCode);
        using (var r = await Host.SendAsync(HttpMethod.Get, c))
        {
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            Assert.Equal("pub\n", await r.Content.ReadAsStringAsync());
            // The ACL itself is for the owner's eyes only.
            Assert.False(r.Headers.Contains("X-Container-Read"));
        }
        using (var owner = await Host.SendAsync(HttpMethod.Head, c, fixture.Token))
            Assert.Equal(".r:*,.rlistings", owner.Headers.GetValues("X-Container-Read").Single());
    }

    [Fact]
    public async Task Referrer_acl_allows_only_matching_hosts()
    {
        var c = await fixture.NewContainerAsync(("X-Container-Read", ".r:.example.com,.r:-bad.example.com"));
        using (await Host.SendAsync(HttpMethod.Put, c + "/o", fixture.Token, new StringContent("x"))) { }
        using (var r = await Host.SendAsync(HttpMethod.Get, c + "/o", null, null, ("Referer", "http://www.example.com/page"))) Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        using (var r = await Host.SendAsync(HttpMethod.Get, c + "/o", null, null, ("Referer", "http://bad.example.com/page"))) Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode);
        using (var r = await Host.SendAsync(HttpMethod.Get, c + "/o", null, null, ("Referer", "http://evil.org/"))) Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode);
        using (var r = await Host.SendAsync(HttpMethod.Get, c + "/o")) Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode);
    }

    [Fact]
    public async Task Group_acls_grant_read_and_write_to_named_users()
    {
        var c = await fixture.NewContainerAsync(("X-Container-Read", "test2:tester2"), ("X-Container-Write", "test2:tester2"));
        var (other, _) = await Host.AuthAsync("test2:tester2", "testing2");
        using (var r = await Host.SendAsync(HttpMethod.Put, c + "/by-other", other, new StringContent("hi"))) Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        using (var r = await Host.SendAsync(HttpMethod.Get, c + "/by-other", other)) Assert.Equal("hi", await r.Content.ReadAsStringAsync());
        using (var r = await Host.SendAsync(HttpMethod.Get, c, other)) Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        // Container metadata stays the owner's.
        using (var r = await Host.SendAsync(HttpMethod.Post, c, other, null, ("X-Container-Meta-X", "y"))) Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode);
        var (tester3, _) = await Host.AuthAsync("test:tester3", "testing3");
        using (var r = await Host.SendAsync(HttpMethod.Get, c + "/by-other", tester3)) Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode);
    }

    [Fact]
    public async Task Account_acls_grant_read_only_read_write_and_admin()
    {
        var (tester3, _) = await Host.AuthAsync("test:tester3", "testing3");
        var c = await fixture.NewContainerAsync();
        using (await Host.SendAsync(HttpMethod.Put, c + "/o", fixture.Token, new StringContent("x"))) { }
        using (var r = await Host.SendAsync(HttpMethod.Post, "/v1/AUTH_test", fixture.Token, null, ("X-Account-Access-Control", "{not json")))
        {
            Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
            Assert.StartsWith("X-Account-Access-Control invalid: Syntax error", await r.Content.ReadAsStringAsync());
        }
        async Task SetAcl(string json)
        {
            using var r = await Host.SendAsync(HttpMethod.Post, "/v1/AUTH_test", fixture.Token, null, ("X-Account-Access-Control", json));
            Assert.Equal(HttpStatusCode.NoContent, r.StatusCode);
        }
        await SetAcl("{\"read-only\":[\"test:tester3\"]}");
        using (var r = await Host.SendAsync(HttpMethod.Get, c + "/o", tester3)) Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        using (var r = await Host.SendAsync(HttpMethod.Put, c + "/w", tester3, new StringContent("x"))) Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode);
        using (var owner = await Host.SendAsync(HttpMethod.Head, "/v1/AUTH_test", fixture.Token))
            Assert.Equal("{\"read-only\":[\"test:tester3\"]}", owner.Headers.GetValues("X-Account-Access-Control").Single());
        using (var reader = await Host.SendAsync(HttpMethod.Head, "/v1/AUTH_test", tester3))
            Assert.False(reader.Headers.Contains("X-Account-Access-Control"));

        await SetAcl("{\"read-write\":[\"test:tester3\"]}");
        using (var r = await Host.SendAsync(HttpMethod.Put, c + "/w", tester3, new StringContent("x"))) Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        using (var r = await Host.SendAsync(HttpMethod.Post, "/v1/AUTH_test", tester3, null, ("X-Account-Meta-A", "b"))) Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode);

        await SetAcl("{\"admin\":[\"test:tester3\"]}");
        using (var r = await Host.SendAsync(HttpMethod.Post, "/v1/AUTH_test", tester3, null, ("X-Account-Meta-A", "b"))) Assert.Equal(HttpStatusCode.NoContent, r.StatusCode);
        await SetAcl("{}");
        using (var r = await Host.SendAsync(HttpMethod.Get, c + "/o", tester3)) Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode);
    }

    [Fact]
    public async Task Clients_can_neither_set_nor_see_system_metadata()
    {
        var c = await fixture.NewContainerAsync(("X-Container-Sysmeta-Secret", "planted"));
        using (await Host.SendAsync(HttpMethod.Put, c + "/o", fixture.Token, new StringContent("x"), ("X-Object-Sysmeta-Secret", "planted"), ("X-Backend-Timestamp", "1"))) { }
        using var head = await Host.SendAsync(HttpMethod.Head, c, fixture.Token);
        Assert.DoesNotContain(head.Headers, h => h.Key.Contains("Sysmeta", StringComparison.OrdinalIgnoreCase) || h.Key.StartsWith("X-Backend", StringComparison.OrdinalIgnoreCase));
        using var obj = await Host.SendAsync(HttpMethod.Get, c + "/o", fixture.Token);
        Assert.DoesNotContain(obj.Headers, h => h.Key.Contains("Sysmeta", StringComparison.OrdinalIgnoreCase) || h.Key.StartsWith("X-Backend", StringComparison.OrdinalIgnoreCase));
        // And nothing was stored: the storage node's own answer has no such metadata either.
        using var direct = await Host.Cluster.ObjectReadAsync(HttpMethod.Head, "AUTH_test", c.Split('/')[3], "o", []);
        Assert.DoesNotContain(direct.Headers(), h => h.Key.Contains("Sysmeta", StringComparison.OrdinalIgnoreCase));
    }
}
