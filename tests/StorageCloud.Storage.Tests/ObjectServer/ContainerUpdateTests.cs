using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace StorageCloud.Storage.Tests.ObjectServer;

/// <summary>Listing updates to container servers after PUT and DELETE, kept as async pendings when they fail.</summary>
public sealed class ContainerUpdateTests : IAsyncLifetime
{
    private ObjectServerHost _host = null!;
    private WebApplication _container = null!;
    private int _containerPort;
    private volatile bool _containerDown;
    private readonly ConcurrentQueue<(string Method, string Path, Dictionary<string, string> Headers)> _received = new();

    public async Task InitializeAsync()
    {
        _host = await ObjectServerHost.StartAsync();
        Microsoft.AspNetCore.Server.Kestrel.Core.ListenOptions? listen = null;
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrelCore().ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, o => listen = o));
        _container = builder.Build();
        _container.Run(context =>
        {
            if (_containerDown)
            {
                context.Response.StatusCode = 503;
                return Task.CompletedTask;
            }
            _received.Enqueue((context.Request.Method, context.Request.Path.Value!,
                context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase)));
            context.Response.StatusCode = 201;
            return Task.CompletedTask;
        });
        await _container.StartAsync();
        _containerPort = listen!.IPEndPoint!.Port;
    }

    public async Task DisposeAsync()
    {
        await _container.StopAsync();
        await _container.DisposeAsync();
        await _host.DisposeAsync();
    }

    private async Task<HttpResponseMessage> Send(HttpMethod method, string path, byte[]? body = null)
    {
        var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = new ByteArrayContent(body);
            request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse("text/plain");
        }
        request.Headers.TryAddWithoutValidation("X-Timestamp", ObjectServerHost.NextTimestamp());
        request.Headers.TryAddWithoutValidation("X-Container-Host", $"127.0.0.1:{_containerPort}");
        request.Headers.TryAddWithoutValidation("X-Container-Device", "cd1");
        request.Headers.TryAddWithoutValidation("X-Container-Partition", "42");
        request.Headers.TryAddWithoutValidation("X-Trans-Id", "tx-test");
        return await _host.Client.SendAsync(request);
    }

    [Fact]
    public async Task Put_and_delete_update_the_container_server()
    {
        using (var put = await Send(HttpMethod.Put, "/sda/3/AUTH_a/photos/cat%201.jpg", "meow"u8.ToArray()))
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        Assert.True(_received.TryDequeue(out var update));
        Assert.Equal("PUT", update.Method);
        Assert.Equal("/cd1/42/AUTH_a/photos/cat 1.jpg", update.Path);
        Assert.Equal("4", update.Headers["X-Size"]);
        Assert.Equal("text/plain", update.Headers["X-Content-Type"]);
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.MD5.HashData("meow"u8)), update.Headers["X-Etag"]);

        using (var delete = await Send(HttpMethod.Delete, "/sda/3/AUTH_a/photos/cat%201.jpg"))
            Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        Assert.True(_received.TryDequeue(out var removal));
        Assert.Equal("DELETE", removal.Method);
        Assert.False(removal.Headers.ContainsKey("X-Size"));
    }

    [Fact]
    public async Task Failed_updates_wait_as_async_pendings_until_the_updater_delivers_them()
    {
        _containerDown = true;
        using (var put = await Send(HttpMethod.Put, "/sda/4/AUTH_a/c/later", "x"u8.ToArray()))
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        var engine = _host.Node.Devices["sda"];
        Assert.Single(engine.AsyncPendings());
        Assert.Equal(1, engine.AsyncPendingCount);

        var (delivered, failed) = await _host.Updater.RunPassAsync(engine, CancellationToken.None);
        Assert.Equal((0, 1), (delivered, failed));
        Assert.Single(engine.AsyncPendings());

        _containerDown = false;
        (delivered, failed) = await _host.Updater.RunPassAsync(engine, CancellationToken.None);
        Assert.Equal((1, 0), (delivered, failed));
        Assert.Empty(engine.AsyncPendings());
        Assert.True(_received.TryDequeue(out var update));
        Assert.Equal("/cd1/42/AUTH_a/c/later", update.Path);
    }

    [Fact]
    public async Task A_full_device_answers_507_and_stores_nothing()
    {
        // A reserve larger than any disk: every write would eat into it.
        await using var full = await ObjectServerHost.StartAsync(freeSpaceReserve: long.MaxValue / 2);
        var request = new HttpRequestMessage(HttpMethod.Put, "/sda/1/a/c/o") { Content = new ByteArrayContent("x"u8.ToArray()) };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse("text/plain");
        request.Headers.TryAddWithoutValidation("X-Timestamp", ObjectServerHost.NextTimestamp());
        using var response = await full.Client.SendAsync(request);
        Assert.Equal((HttpStatusCode)507, response.StatusCode);
        Assert.Contains("Drive: sda", await response.Content.ReadAsStringAsync());
        using var get = await full.Client.GetAsync("/sda/1/a/c/o");
        Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);
    }
}
