using System.Net;
using System.Text.Json;
using StorageCloud.Storage.Tests.ObjectServer;

namespace StorageCloud.Storage.Tests.Account;

/// <summary>The account server over real HTTP, and containers reporting their counts to it.</summary>
public sealed class AccountServerTests : IAsyncLifetime
{
    private ObjectServerHost _host = null!;

    public async Task InitializeAsync() => _host = await ObjectServerHost.StartAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private static async Task<HttpResponseMessage> Send(HttpClient http, string method, string path, params (string, string)[] headers)
    {
        var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (!headers.Any(h => h.Item1 == "X-Timestamp")) request.Headers.TryAddWithoutValidation("X-Timestamp", ObjectServerHost.NextTimestamp());
        foreach (var (k, v) in headers) request.Headers.TryAddWithoutValidation(k, v);
        return await http.SendAsync(request);
    }

    private static string H(HttpResponseMessage r, string name)
        => r.Headers.TryGetValues(name, out var v) ? string.Join(",", v) : r.Content.Headers.TryGetValues(name, out var c) ? string.Join(",", c) : "";

    private Task<HttpResponseMessage> Account(string method, string path, params (string, string)[] headers) => Send(_host.AccountClient, method, path, headers);

    [Fact]
    public async Task Account_lifecycle_listing_and_metadata()
    {
        using (var create = await Account("PUT", "/sda/2/AUTH_t", ("X-Account-Meta-Temp-Url-Key", "secret"))) Assert.Equal(HttpStatusCode.Created, create.StatusCode);
        using (var again = await Account("PUT", "/sda/2/AUTH_t")) Assert.Equal(HttpStatusCode.Accepted, again.StatusCode);
        foreach (var (name, count, bytes) in new[] { ("alpha", 3, 300), ("beta-x", 1, 10), ("beta-y", 2, 20), ("gamma", 0, 0) })
        {
            using var row = await Account("PUT", $"/sda/2/AUTH_t/{name}", ("X-Put-Timestamp", ObjectServerHost.NextTimestamp()),
                ("X-Delete-Timestamp", "0"), ("X-Object-Count", count.ToString()), ("X-Bytes-Used", bytes.ToString()));
            Assert.Equal(HttpStatusCode.Created, row.StatusCode);
        }
        using (var head = await Account("HEAD", "/sda/2/AUTH_t"))
        {
            Assert.Equal(HttpStatusCode.NoContent, head.StatusCode);
            Assert.Equal("4", H(head, "X-Account-Container-Count"));
            Assert.Equal("6", H(head, "X-Account-Object-Count"));
            Assert.Equal("330", H(head, "X-Account-Bytes-Used"));
            Assert.Equal("330", H(head, "X-Account-Storage-Policy-Policy-0-Bytes-Used"));
            Assert.Equal("secret", H(head, "X-Account-Meta-Temp-Url-Key"));
        }
        using (var plain = await Account("GET", "/sda/2/AUTH_t")) Assert.Equal("alpha\nbeta-x\nbeta-y\ngamma\n", await plain.Content.ReadAsStringAsync());
        using (var json = await Account("GET", "/sda/2/AUTH_t?format=json&delimiter=-&limit=2"))
        {
            var body = await json.Content.ReadAsStringAsync();
            Assert.StartsWith("[{\"name\": \"alpha\", \"count\": 3, \"bytes\": 300, \"last_modified\": \"", body);
            Assert.EndsWith("\"}, {\"subdir\": \"beta-\"}]", body);
        }
        using (var xml = await Account("GET", "/sda/2/AUTH_t?format=xml&prefix=gam"))
        {
            var body = await xml.Content.ReadAsStringAsync();
            Assert.StartsWith("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<account name=\"AUTH_t\">\n<container><name>gamma</name><count>0</count><bytes>0</bytes><last_modified>", body);
            Assert.EndsWith("</last_modified></container>\n</account>", body);
        }
        using (var emptyXml = await Account("GET", "/sda/2/AUTH_t?format=xml&prefix=zz"))
            Assert.Equal("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<account name=\"AUTH_t\">\n</account>", await emptyXml.Content.ReadAsStringAsync());
        using (var tooMany = await Account("GET", "/sda/2/AUTH_t?limit=10001")) Assert.Equal(HttpStatusCode.PreconditionFailed, tooMany.StatusCode);

        using (var delete = await Account("DELETE", "/sda/2/AUTH_t")) Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        using (var gone = await Account("HEAD", "/sda/2/AUTH_t"))
        {
            Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
            Assert.Equal("Deleted", H(gone, "X-Account-Status"));
        }
        using (var recreate = await Account("PUT", "/sda/2/AUTH_t")) Assert.Equal(HttpStatusCode.Forbidden, recreate.StatusCode);
        using (var orphan = await Account("PUT", "/sda/2/AUTH_none/c", ("X-Put-Timestamp", ObjectServerHost.NextTimestamp()), ("X-Delete-Timestamp", "0"),
            ("X-Object-Count", "0"), ("X-Bytes-Used", "0"))) Assert.Equal(HttpStatusCode.NotFound, orphan.StatusCode);
        using (var badRow = await Account("PUT", "/sda/2/AUTH_none/c")) Assert.Equal(HttpStatusCode.BadRequest, badRow.StatusCode);
    }

    [Fact]
    public async Task Containers_report_their_counts_to_the_account()
    {
        using (await Account("PUT", "/sda/3/AUTH_r")) { }
        var accountHost = $"127.0.0.1:{_host.AccountClient.BaseAddress!.Port}";
        using (var put = await Send(_host.ContainerClient, "PUT", "/sda/4/AUTH_r/docs", ("X-Account-Host", accountHost), ("X-Account-Device", "sda"), ("X-Account-Partition", "3")))
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        using (var listing = await Account("GET", "/sda/3/AUTH_r?format=json"))
        {
            using var doc = JsonDocument.Parse(await listing.Content.ReadAsStringAsync());
            Assert.Equal(0, Assert.Single(doc.RootElement.EnumerateArray()).GetProperty("count").GetInt32());
        }
        // Object rows change the counts; the container updater's pass reports them.
        foreach (var (name, size) in new[] { ("a", 5), ("b", 7) })
        {
            using var row = await Send(_host.ContainerClient, "PUT", $"/sda/4/AUTH_r/docs/{name}", ("X-Size", size.ToString()), ("X-Content-Type", "text/plain"), ("X-Etag", "x"));
        }
        var (sent, failed) = await _host.Reporter.RunPassAsync(_host.Containers.Stores["sda"], CancellationToken.None);
        Assert.Equal((1, 0), (sent, failed));
        using (var head = await Account("HEAD", "/sda/3/AUTH_r"))
        {
            Assert.Equal("2", H(head, "X-Account-Object-Count"));
            Assert.Equal("12", H(head, "X-Account-Bytes-Used"));
        }
        Assert.Equal((0, 0), await _host.Reporter.RunPassAsync(_host.Containers.Stores["sda"], CancellationToken.None));

        foreach (var name in new[] { "a", "b" })
        {
            using var row = await Send(_host.ContainerClient, "DELETE", $"/sda/4/AUTH_r/docs/{name}");
        }
        using (var delete = await Send(_host.ContainerClient, "DELETE", "/sda/4/AUTH_r/docs")) Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        using (var head = await Account("HEAD", "/sda/3/AUTH_r"))
        {
            Assert.Equal("0", H(head, "X-Account-Container-Count"));
            Assert.Equal("0", H(head, "X-Account-Object-Count"));
        }
        using (var empty = await Account("GET", "/sda/3/AUTH_r")) Assert.Equal(HttpStatusCode.NoContent, empty.StatusCode);
    }
}

/// <summary>Counts converge through the whole chain: object server -> container server -> account server.</summary>
public sealed class ConvergenceTests : IAsyncLifetime
{
    private ObjectServerHost _host = null!;

    public async Task InitializeAsync() => _host = await ObjectServerHost.StartAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task A_storm_of_puts_and_deletes_ends_with_exact_counts()
    {
        var accountHost = $"127.0.0.1:{_host.AccountClient.BaseAddress!.Port}";
        var containerHost = $"127.0.0.1:{_host.ContainerClient.BaseAddress!.Port}";
        async Task<HttpResponseMessage> Send(HttpClient http, HttpMethod method, string path, byte[]? body, params (string, string)[] headers)
        {
            var request = new HttpRequestMessage(method, path);
            if (body is not null)
            {
                request.Content = new ByteArrayContent(body);
                request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/octet-stream");
            }
            request.Headers.TryAddWithoutValidation("X-Timestamp", ObjectServerHost.NextTimestamp());
            foreach (var (k, v) in headers) request.Headers.TryAddWithoutValidation(k, v);
            return await http.SendAsync(request);
        }
        using (await Send(_host.AccountClient, HttpMethod.Put, "/sda/5/AUTH_storm", null)) { }
        using (await Send(_host.ContainerClient, HttpMethod.Put, "/sdb/6/AUTH_storm/c", null, ("X-Account-Host", accountHost), ("X-Account-Device", "sda"), ("X-Account-Partition", "5"))) { }

        // 300 writes from 8 writers over 60 names: puts of random sizes and deletes, all through the object server.
        var random = new Random(3);
        var plan = Enumerable.Range(0, 300).Select(i => (Name: $"o{random.Next(60)}", Delete: random.Next(4) == 0, Size: random.Next(0, 2000))).ToList();
        var gate = new SemaphoreSlim(8);
        var final = new System.Collections.Concurrent.ConcurrentDictionary<string, (string Ts, bool Deleted, int Size)>();
        await Task.WhenAll(plan.Select(async step =>
        {
            await gate.WaitAsync();
            try
            {
                var ts = ObjectServerHost.NextTimestamp();
                var request = new HttpRequestMessage(step.Delete ? HttpMethod.Delete : HttpMethod.Put, $"/sda/7/AUTH_storm/c/{step.Name}");
                if (!step.Delete)
                {
                    request.Content = new ByteArrayContent(new byte[step.Size]);
                    request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/octet-stream");
                }
                request.Headers.TryAddWithoutValidation("X-Timestamp", ts);
                request.Headers.TryAddWithoutValidation("X-Container-Host", containerHost);
                request.Headers.TryAddWithoutValidation("X-Container-Device", "sdb");
                request.Headers.TryAddWithoutValidation("X-Container-Partition", "6");
                using var response = await _host.Client.SendAsync(request);
                final.AddOrUpdate(step.Name, (ts, step.Delete, step.Size), (_, old) => string.CompareOrdinal(old.Ts, ts) > 0 ? old : (ts, step.Delete, step.Size));
            }
            finally
            {
                gate.Release();
            }
        }));
        // Deliver anything that did not get through at once, then report the container to its account.
        await _host.Updater.RunPassAsync(_host.Node.Devices["sda"], CancellationToken.None);
        await _host.Reporter.RunPassAsync(_host.Containers.Stores["sdb"], CancellationToken.None);

        var live = final.Where(f => !f.Value.Deleted).ToList();
        using (var listing = await _host.ContainerClient.GetAsync("/sdb/6/AUTH_storm/c?format=json"))
        {
            var rows = JsonDocument.Parse(await listing.Content.ReadAsStringAsync()).RootElement.EnumerateArray()
                .ToDictionary(r => r.GetProperty("name").GetString()!, r => r.GetProperty("bytes").GetInt64());
            Assert.Equal(live.Select(l => l.Key).Order(StringComparer.Ordinal), rows.Keys.Order(StringComparer.Ordinal));
            foreach (var (name, value) in live) Assert.Equal(value.Size, rows[name]);
        }
        using var head = await _host.AccountClient.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/sda/5/AUTH_storm"));
        Assert.Equal(live.Count.ToString(), head.Headers.GetValues("X-Account-Object-Count").Single());
        Assert.Equal(live.Sum(l => (long)l.Value.Size).ToString(), head.Headers.GetValues("X-Account-Bytes-Used").Single());
    }
}
