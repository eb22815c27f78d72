using System.Net;
using System.Text.Json;

namespace StorageCloud.Proxy.Tests.Controllers;

public sealed class ContainerAccountControllerTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    private ClusterHost Host => fixture.Host;
    private string Token => fixture.Token;

    [Fact]
    public async Task Container_lifecycle_put_202_head_post_delete_409_then_204()
    {
        var c = "/v1/AUTH_test/" + ClusterFixture.NewName();
        using (var r = await Host.SendAsync(HttpMethod.Put, c, Token, null, ("X-Container-Meta-Owner", "me"))) Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        using (var r = await Host.SendAsync(HttpMethod.Put, c, Token))
        {
            Assert.Equal(HttpStatusCode.Accepted, r.StatusCode);
            Assert.Equal("<html><h1>Accepted</h1><p>The request is accepted for processing.</p></html>", await r.Content.ReadAsStringAsync());
        }
        using (var r = await Host.SendAsync(HttpMethod.Post, c, Token, null, ("X-Container-Meta-Color", "red"))) Assert.Equal(HttpStatusCode.NoContent, r.StatusCode);
        using (var r = await Host.SendAsync(HttpMethod.Put, c + "/obj", Token, new StringContent("12345"))) Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        using (var head = await Host.SendAsync(HttpMethod.Head, c, Token))
        {
            Assert.Equal(HttpStatusCode.NoContent, head.StatusCode);
            Assert.Equal("me", head.Headers.GetValues("X-Container-Meta-Owner").Single());
            Assert.Equal("red", head.Headers.GetValues("X-Container-Meta-Color").Single());
            Assert.Equal("1", head.Headers.GetValues("X-Container-Object-Count").Single());
            Assert.Equal("5", head.Headers.GetValues("X-Container-Bytes-Used").Single());
            Assert.Equal("Policy-0", head.Headers.GetValues("X-Storage-Policy").Single());
            Assert.Equal("bytes", head.Headers.GetValues("Accept-Ranges").Single());
        }
        using (var r = await Host.SendAsync(HttpMethod.Post, c, Token, null, ("X-Remove-Container-Meta-Color", "x"))) Assert.Equal(HttpStatusCode.NoContent, r.StatusCode);
        using (var head = await Host.SendAsync(HttpMethod.Head, c, Token))
        {
            Assert.False(head.Headers.Contains("X-Container-Meta-Color"));
            Assert.Equal("me", head.Headers.GetValues("X-Container-Meta-Owner").Single());
        }
        using (var r = await Host.SendAsync(HttpMethod.Delete, c, Token)) Assert.Equal(HttpStatusCode.Conflict, r.StatusCode);
        using (var r = await Host.SendAsync(HttpMethod.Delete, c + "/obj", Token)) Assert.Equal(HttpStatusCode.NoContent, r.StatusCode);
        using (var r = await Host.SendAsync(HttpMethod.Delete, c, Token)) Assert.Equal(HttpStatusCode.NoContent, r.StatusCode);
        using (var r = await Host.SendAsync(HttpMethod.Head, c, Token))
        {
            Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
            Assert.Equal(0, r.Content.Headers.ContentLength);
        }
        using (var r = await Host.SendAsync(HttpMethod.Delete, c, Token)) Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
    }

    [Fact]
    public async Task A_container_deleted_and_created_again_has_none_of_the_old_metadata_or_acls()
    {
        var (other, _) = await Host.AuthAsync("test2:tester2", "testing2");
        var c = "/v1/AUTH_test/" + ClusterFixture.NewName();
        using (var r = await Host.SendAsync(HttpMethod.Put, c, Token, null, ("X-Container-Meta-Owner", "me"), ("X-Container-Read", "test2:tester2")))
            Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        using (var head = await Host.SendAsync(HttpMethod.Head, c, Token))
        {
            Assert.Equal("me", head.Headers.GetValues("X-Container-Meta-Owner").Single());
            Assert.Equal("test2:tester2", head.Headers.GetValues("X-Container-Read").Single());
        }
        using (var r = await Host.SendAsync(HttpMethod.Get, c, other)) Assert.True(r.IsSuccessStatusCode, $"the granted user should list: {r.StatusCode}");

        using (var r = await Host.SendAsync(HttpMethod.Delete, c, Token)) Assert.Equal(HttpStatusCode.NoContent, r.StatusCode);
        using (var r = await Host.SendAsync(HttpMethod.Put, c, Token, null, ("X-Container-Meta-Color", "green"))) Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        using (var head = await Host.SendAsync(HttpMethod.Head, c, Token))
        {
            Assert.Equal(HttpStatusCode.NoContent, head.StatusCode);
            Assert.False(head.Headers.Contains("X-Container-Meta-Owner"));
            Assert.False(head.Headers.Contains("X-Container-Read"));
            Assert.Equal("green", head.Headers.GetValues("X-Container-Meta-Color").Single());
        }
        // The old read ACL is gone with the old container.
        using (var r = await Host.SendAsync(HttpMethod.Get, c, other)) Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode);
    }

    [Fact]
    public async Task Listings_support_prefix_delimiter_marker_limit_and_formats()
    {
        var c = await fixture.NewContainerAsync();
        foreach (var name in new[] { "a/1", "a/2", "b/1", "c", "d" })
            using (await Host.SendAsync(HttpMethod.Put, c + "/" + name, Token, new StringContent(name))) { }
        async Task<string> List(string query)
        {
            using var r = await Host.SendAsync(HttpMethod.Get, c + query, Token);
            Assert.True(r.IsSuccessStatusCode, $"{query}: {r.StatusCode}");
            return await r.Content.ReadAsStringAsync();
        }
        Assert.Equal("a/1\na/2\nb/1\nc\nd\n", await List(""));
        Assert.Equal("a/\nb/\nc\nd\n", await List("?delimiter=/"));
        Assert.Equal("a/1\na/2\n", await List("?prefix=a/"));
        Assert.Equal("b/1\nc\n", await List("?marker=a/2&limit=2"));
        Assert.Equal("d\nc\nb/1\na/2\na/1\n", await List("?reverse=true"));
        var json = JsonDocument.Parse(await List("?format=json&prefix=c")).RootElement;
        Assert.Equal("c", json[0].GetProperty("name").GetString());
        Assert.Equal(1, json[0].GetProperty("bytes").GetInt64());
        Assert.Equal("4a8a08f09d37b73795649038408b5f33", json[0].GetProperty("hash").GetString());
        Assert.Contains("<name>d</name>", await List("?format=xml"));
        using var bad = await Host.SendAsync(HttpMethod.Get, c + "?limit=10001", Token);
        Assert.Equal(HttpStatusCode.PreconditionFailed, bad.StatusCode);
    }

    [Fact]
    public async Task Bad_container_requests_get_swifts_answers()
    {
        using (var r = await Host.SendAsync(HttpMethod.Put, "/v1/AUTH_test/" + new string('c', 257), Token))
        {
            Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
            Assert.Equal("Container name length of 257 longer than 256", await r.Content.ReadAsStringAsync());
        }
        using (var r = await Host.SendAsync(HttpMethod.Put, "/v1/AUTH_test/" + ClusterFixture.NewName(), Token, null, ("X-Container-Read", ".r:")))
        {
            Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
            Assert.StartsWith("No host/domain value after referrer designation in ACL", await r.Content.ReadAsStringAsync());
        }
        using (var r = await Host.SendAsync(HttpMethod.Put, "/v1/AUTH_test/" + ClusterFixture.NewName(), Token, null, ("X-Storage-Policy", "gold")))
            Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        using (var r = await Host.SendAsync(HttpMethod.Post, "/v1/AUTH_test/" + ClusterFixture.NewName(), Token, null, ("X-Container-Meta-A", "b")))
            Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
        using (var r = await Host.SendAsync(HttpMethod.Get, "/v1/AUTH_test/" + ClusterFixture.NewName(), Token))
            Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
    }

    [Fact]
    public async Task Account_autocreates_lists_containers_and_keeps_metadata()
    {
        var (token, url) = await Host.AuthAsync("test2:tester2", "testing2");
        Assert.EndsWith("/v1/AUTH_test2", url);
        using (var empty = await Host.SendAsync(HttpMethod.Get, "/v1/AUTH_test2?format=json", token))
        {
            // A fresh account lists empty (Swift's account_autocreate) unless an earlier test made containers.
            Assert.Equal(HttpStatusCode.OK, empty.StatusCode);
            Assert.Equal(JsonValueKind.Array, JsonDocument.Parse(await empty.Content.ReadAsStringAsync()).RootElement.ValueKind);
        }
        var name = ClusterFixture.NewName();
        using (var r = await Host.SendAsync(HttpMethod.Put, "/v1/AUTH_test2/" + name, token)) Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        using (var r = await Host.SendAsync(HttpMethod.Post, "/v1/AUTH_test2", token, null, ("X-Account-Meta-Team", "blue"))) Assert.Equal(HttpStatusCode.NoContent, r.StatusCode);
        using var head = await Host.SendAsync(HttpMethod.Head, "/v1/AUTH_test2", token);
        Assert.Equal("blue", head.Headers.GetValues("X-Account-Meta-Team").Single());
        Assert.True(long.Parse(head.Headers.GetValues("X-Account-Container-Count").Single()) >= 1);
        using var list = await Host.SendAsync(HttpMethod.Get, "/v1/AUTH_test2", token);
        Assert.Contains(name, (await list.Content.ReadAsStringAsync()).Split('\n'));
        using (var r = await Host.SendAsync(HttpMethod.Post, "/v1/AUTH_test2", token, null, ("X-Account-Meta-" + new string('k', 129), "v")))
            Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
    }

    [Fact]
    public async Task Account_put_and_delete_are_refused_to_account_admins_and_need_account_management()
    {
        using (var r = await Host.SendAsync(HttpMethod.Put, "/v1/AUTH_test", Token)) Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode);
        using (var r = await Host.SendAsync(HttpMethod.Delete, "/v1/AUTH_test", Token)) Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode);
        var (admin, _) = await Host.AuthAsync("admin:admin", "admin");
        using (var r = await Host.SendAsync(HttpMethod.Put, "/v1/AUTH_other", admin))
        {
            Assert.Equal(HttpStatusCode.MethodNotAllowed, r.StatusCode);
            Assert.Equal("GET, HEAD, OPTIONS, POST", r.Content.Headers.Allow.Count > 0 ? string.Join(", ", r.Content.Headers.Allow) : r.Headers.GetValues("Allow").Single());
        }
    }

    [Fact]
    public async Task Reseller_admin_manages_accounts_when_allowed()
    {
        await using var host = await ClusterHost.StartAsync(options: new ProxyOptions { AllowAccountManagement = true });
        var (admin, _) = await host.AuthAsync("admin:admin", "admin");
        using (var r = await host.SendAsync(HttpMethod.Put, "/v1/AUTH_made", admin)) Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        using (var r = await host.SendAsync(HttpMethod.Head, "/v1/AUTH_made", admin)) Assert.Equal(HttpStatusCode.NoContent, r.StatusCode);
        using (var r = await host.SendAsync(HttpMethod.Delete, "/v1/AUTH_made?x=1", admin)) Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        using (var r = await host.SendAsync(HttpMethod.Delete, "/v1/AUTH_made", admin)) Assert.Equal(HttpStatusCode.NoContent, r.StatusCode);
    }

    [Fact]
    public async Task Metadata_names_with_underscores_come_back_with_dashes_as_from_swift()
    {
        var c = await fixture.NewContainerAsync(("X-Container-Meta-test_container_meta", "Meta1"));
        using var head = await Host.SendAsync(HttpMethod.Head, c, Token);
        Assert.Equal("Meta1", head.Headers.GetValues("X-Container-Meta-Test-Container-Meta").Single());
    }

    [Fact]
    public async Task Crossdomain_policy_is_served_without_a_token()
    {
        using var policy = await Host.SendAsync(HttpMethod.Get, "/crossdomain.xml");
        Assert.Equal(HttpStatusCode.OK, policy.StatusCode);
        Assert.Equal("application/xml", policy.Content.Headers.ContentType!.MediaType);
        var body = await policy.Content.ReadAsStringAsync();
        Assert.StartsWith("<?xml version=\"1.0\"?>\n<!DOCTYPE cross-domain-policy", body);
        Assert.Contains("<allow-access-from domain=\"*\" secure=\"false\" />", body);
        Assert.EndsWith("</cross-domain-policy>", body);
        using var info = await Host.SendAsync(HttpMethod.Get, "/info");
        Assert.Contains("\"crossdomain\"", await info.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Container_posts_move_last_modified_and_metadata_is_limited_in_aggregate()
    {
        var c = await fixture.NewContainerAsync();
        using var before = await Host.SendAsync(HttpMethod.Head, c, Token);
        await Task.Delay(1100);
        using (await Host.SendAsync(HttpMethod.Post, c, Token, null, ("X-Container-Meta-A", "1"))) { }
        using (var after = await Host.SendAsync(HttpMethod.Head, c, Token))
            Assert.True(after.Content.Headers.LastModified > before.Content.Headers.LastModified);
        // Each POST alone is within 4096 bytes of metadata; together they are not.
        var big = Enumerable.Range(0, 8).Select(i => ($"X-Container-Meta-Big{i}", new string('a', 256))).ToArray();
        using (var first = await Host.SendAsync(HttpMethod.Post, c, Token, null, big)) Assert.Equal(HttpStatusCode.NoContent, first.StatusCode);
        var more = Enumerable.Range(0, 8).Select(i => ($"X-Container-Meta-More{i}", new string('b', 256))).ToArray();
        using (var second = await Host.SendAsync(HttpMethod.Post, c, Token, null, more)) Assert.Equal(HttpStatusCode.BadRequest, second.StatusCode);
        using (var head = await Host.SendAsync(HttpMethod.Head, c, Token)) Assert.False(head.Headers.Contains("X-Container-Meta-More0"));
    }

    [Fact]
    public async Task An_empty_account_acl_is_no_acl_and_header_lines_past_the_limit_are_refused()
    {
        await using var host = await ClusterHost.StartAsync();
        var (token, _) = await host.AuthAsync("test:tester", "testing");
        using (var empty = await host.SendAsync(HttpMethod.Post, "/v1/AUTH_test", token, null, ("X-Account-Access-Control", "{}"))) Assert.Equal(HttpStatusCode.NoContent, empty.StatusCode);
        using (var head = await host.SendAsync(HttpMethod.Head, "/v1/AUTH_test", token)) Assert.False(head.Headers.Contains("X-Account-Access-Control"));
        var huge = "{\"admin\":[\"" + new string('a', 8200) + "\"]}";
        using (var tooLong = await host.SendAsync(HttpMethod.Post, "/v1/AUTH_test", token, null, ("X-Account-Access-Control", huge))) Assert.Equal(HttpStatusCode.BadRequest, tooLong.StatusCode);
    }

    [Fact]
    public async Task A_kept_connection_is_said_to_be_kept_and_a_long_container_name_is_swifts_html_400()
    {
        var c = await fixture.NewContainerAsync();
        using (var kept = await Host.SendAsync(HttpMethod.Head, c, Token, null, ("Connection", "keep-alive")))
            Assert.Contains("keep-alive", kept.Headers.Connection);
        using var tooLong = await Host.SendAsync(HttpMethod.Put, "/v1/AUTH_test/" + new string('X', 2048), Token);
        Assert.Equal(HttpStatusCode.BadRequest, tooLong.StatusCode);
        Assert.Equal("text/html; charset=UTF-8", tooLong.Content.Headers.ContentType!.ToString());
        Assert.Equal("Container name length of 2048 longer than 256", await tooLong.Content.ReadAsStringAsync());
    }
}
