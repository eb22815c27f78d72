using System.Net;
using System.Text.Json;

namespace StorageCloud.Proxy.Tests;

/// <summary>Optional features switched off are gone from the pipeline and from /info, as if left out of Swift's pipeline.</summary>
public sealed class FeatureSwitchTests
{
    [Fact]
    public async Task Disabled_features_do_not_answer_and_are_not_listed()
    {
        await using var host = await ClusterHost.StartAsync(options: new ProxyOptions { DisabledFeatures = new HashSet<string> { "slo", "bulk", "tempurl" } });
        var (token, _) = await host.AuthAsync();
        using (var info = await host.SendAsync(HttpMethod.Get, "/info"))
        {
            var root = JsonDocument.Parse(await info.Content.ReadAsStringAsync()).RootElement;
            Assert.False(root.TryGetProperty("slo", out _));
            Assert.False(root.TryGetProperty("bulk_delete", out _));
            Assert.False(root.TryGetProperty("tempurl", out _));
            Assert.True(root.TryGetProperty("dlo", out _));
        }
        using (await host.SendAsync(HttpMethod.Put, "/v1/AUTH_test/plain", token)) { }
        using (await host.SendAsync(HttpMethod.Put, "/v1/AUTH_test/plain/seg", token, new StringContent("data"))) { }
        // Without SLO, a manifest PUT is an ordinary object whose body is the JSON.
        const string manifest = "[{\"path\":\"plain/seg\"}]";
        using (var put = await host.SendAsync(HttpMethod.Put, "/v1/AUTH_test/plain/m?multipart-manifest=put", token, new StringContent(manifest)))
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        using (var get = await host.SendAsync(HttpMethod.Get, "/v1/AUTH_test/plain/m", token)) Assert.Equal(manifest, await get.Content.ReadAsStringAsync());
        // Without bulk, ?bulk-delete is an account DELETE, which an account admin may not make.
        using (var bulk = await host.SendAsync(HttpMethod.Delete, "/v1/AUTH_test?bulk-delete", token, new StringContent("plain/seg\n")))
            Assert.Equal(HttpStatusCode.Forbidden, bulk.StatusCode);
        using (var still = await host.SendAsync(HttpMethod.Head, "/v1/AUTH_test/plain/seg", token)) Assert.Equal(HttpStatusCode.OK, still.StatusCode);
        // Without tempurl, a signature in the query authorizes nothing.
        using (var anon = await host.SendAsync(HttpMethod.Get, "/v1/AUTH_test/plain/seg?temp_url_sig=abc&temp_url_expires=9999999999"))
            Assert.Equal(HttpStatusCode.Unauthorized, anon.StatusCode);
    }
}
