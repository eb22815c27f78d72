using System.Text.Json;
using StorageCloud.Storage.Tests.ObjectServer;

namespace StorageCloud.Storage.Tests.Container;

/// <summary>
/// Our container server answers the requests Swift 2.30's own ContainerController answered
/// (Fixtures/generate_container_fixtures.py) with the same status, content type and body, byte for byte.
/// </summary>
public sealed class SwiftFixtureTests : IAsyncLifetime
{
    private ObjectServerHost _host = null!;

    public async Task InitializeAsync() => _host = await ObjectServerHost.StartAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private static string Escape(string path) => string.Join('/', path.Split('/').Select(Uri.EscapeDataString));

    [Fact]
    public async Task Listings_match_swifts_byte_for_byte()
    {
        var root = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "Container", "Fixtures", "container_listings.json"))).RootElement;
        foreach (var step in root.GetProperty("setup").EnumerateArray())
        {
            var request = new HttpRequestMessage(new HttpMethod(step.GetProperty("method").GetString()!), Escape(step.GetProperty("path").GetString()!));
            foreach (var h in step.GetProperty("headers").EnumerateObject()) request.Headers.TryAddWithoutValidation(h.Name, h.Value.GetString());
            using var response = await _host.ContainerClient.SendAsync(request);
            Assert.Equal(step.GetProperty("status").GetInt32(), (int)response.StatusCode);
        }
        var compared = 0;
        foreach (var answer in root.GetProperty("answers").EnumerateArray())
        {
            var query = answer.GetProperty("query").GetString()!;
            using var response = await _host.ContainerClient.GetAsync("/sda/1/AUTH_a/c" + (query.Length > 0 ? "?" + query : ""));
            Assert.True(answer.GetProperty("status").GetInt32() == (int)response.StatusCode, $"{query}: status {(int)response.StatusCode}");
            Assert.Equal(answer.GetProperty("object_count").GetString(), response.Headers.GetValues("X-Container-Object-Count").Single());
            Assert.Equal(answer.GetProperty("bytes_used").GetString(), response.Headers.GetValues("X-Container-Bytes-Used").Single());
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(answer.GetProperty("body").GetString() == body, $"{query}:\nswift: {answer.GetProperty("body").GetString()}\nours:  {body}");
            if (body.Length > 0) Assert.Equal(answer.GetProperty("content_type").GetString(), response.Content.Headers.ContentType!.ToString());
            compared++;
        }
        Assert.Equal(14, compared);
    }

    [Fact]
    public async Task Account_listings_match_swifts_byte_for_byte()
    {
        var root = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "Container", "Fixtures", "account_listings.json"))).RootElement;
        foreach (var step in root.GetProperty("setup").EnumerateArray())
        {
            var request = new HttpRequestMessage(new HttpMethod(step.GetProperty("method").GetString()!), Escape(step.GetProperty("path").GetString()!));
            foreach (var h in step.GetProperty("headers").EnumerateObject()) request.Headers.TryAddWithoutValidation(h.Name, h.Value.GetString());
            using var response = await _host.AccountClient.SendAsync(request);
            Assert.Equal(step.GetProperty("status").GetInt32(), (int)response.StatusCode);
        }
        var compared = 0;
        foreach (var answer in root.GetProperty("answers").EnumerateArray())
        {
            var query = answer.GetProperty("query").GetString()!;
            using var response = await _host.AccountClient.GetAsync("/sda/2/AUTH_t" + (query.Length > 0 ? "?" + query : ""));
            Assert.True(answer.GetProperty("status").GetInt32() == (int)response.StatusCode, $"{query}: status {(int)response.StatusCode}");
            foreach (var (field, header) in new[] { ("container_count", "X-Account-Container-Count"), ("object_count", "X-Account-Object-Count"), ("bytes_used", "X-Account-Bytes-Used") })
                Assert.Equal(answer.GetProperty(field).GetString(), response.Headers.GetValues(header).Single());
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(answer.GetProperty("body").GetString() == body, $"{query}:\nswift: {answer.GetProperty("body").GetString()}\nours:  {body}");
            compared++;
        }
        Assert.Equal(9, compared);
    }
}
