using System.Net;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using StorageCloud.Common.Http;
using StorageCloud.Service.Http;

namespace StorageCloud.Service.Tests.Http;

/// <summary>Backend requests to this process's own listeners run in memory, with the semantics a socket would give them.</summary>
public sealed class InProcessRoutesTests
{
    private static (HttpClient Client, InProcessRoutes Routes) Client(RequestDelegate pipeline)
    {
        var routes = new InProcessRoutes();
        routes.Add("127.0.0.1", 6200, pipeline);
        // Anything not routed would go to the network; nothing listens on port 9 here.
        return (new HttpClient(routes.CreateHandler(new SocketsHttpHandler())), routes);
    }

    [Fact]
    public async Task The_server_sees_the_raw_target_exact_header_values_and_the_body()
    {
        string? seen = null;
        var (client, _) = Client(async context =>
        {
            var raw = context.Features.Get<IHttpRequestFeature>()!.RawTarget;
            using var md5 = MD5.Create();
            var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body);
            seen = $"{context.Request.Method} {raw} {context.Request.Path.Value} {context.Request.QueryString} {context.Request.Headers.ContentType} " +
                   $"{context.Request.Headers["X-Thing"]} {context.Request.ContentLength} {Convert.ToHexStringLower(MD5.HashData(body.ToArray()))}";
            context.Response.StatusCode = 201;
            context.Response.Headers["X-Answer"] = "a;b=c";
            context.Response.ContentType = "text/plain";
            await context.Response.WriteAsync("done");
        });
        var payload = RandomNumberGenerator.GetBytes(3 * 1024 * 1024 + 5);
        using var request = new HttpRequestMessage(HttpMethod.Put, new Uri("http://127.0.0.1:6200/d1/3/AUTH_a/c/%2E%2E%2Fo%20x?multipart-manifest=put", BackendPath.RawUriOptions))
        {
            Content = new ByteArrayContent(payload),
        };
        request.Content.Headers.TryAddWithoutValidation("Content-Type", "application/x-deleted;swift_versions_deleted=1");
        request.Headers.TryAddWithoutValidation("X-Thing", "one, two");
        using var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal("a;b=c", response.Headers.NonValidated["X-Answer"].ToString());
        Assert.Equal("done", await response.Content.ReadAsStringAsync());
        Assert.Equal($"PUT /d1/3/AUTH_a/c/%2E%2E%2Fo%20x?multipart-manifest=put /d1/3/AUTH_a/c/..%2Fo x ?multipart-manifest=put " +
                     $"application/x-deleted;swift_versions_deleted=1 one, two {payload.Length} {Convert.ToHexStringLower(MD5.HashData(payload))}", seen);
    }

    [Fact]
    public async Task A_server_that_answers_without_reading_never_asks_for_the_body()
    {
        var (client, _) = Client(context =>
        {
            context.Response.StatusCode = 507;
            return Task.CompletedTask;
        });
        var content = new WatchedContent();
        using var response = await client.PutAsync("http://127.0.0.1:6200/d1/1/a/c/o", content);
        Assert.Equal(HttpStatusCode.InsufficientStorage, response.StatusCode);
        Assert.False(content.Sent);
    }

    [Fact]
    public async Task OnStarting_headers_stream_and_a_client_that_leaves_aborts_the_server()
    {
        var aborted = new TaskCompletionSource();
        var (client, _) = Client(async context =>
        {
            context.Response.OnStarting(() =>
            {
                context.Response.Headers["X-Started"] = "yes";
                return Task.CompletedTask;
            });
            context.RequestAborted.Register(() => aborted.TrySetResult());
            var chunk = new byte[64 * 1024];
            // Far more than the pipe holds: the server can only finish if the client reads, or leaves.
            for (var i = 0; i < 4096 && !context.RequestAborted.IsCancellationRequested; i++)
                await context.Response.Body.WriteAsync(chunk, context.RequestAborted).AsTask().ContinueWith(_ => { });
        });
        using (var response = await client.GetAsync("http://127.0.0.1:6200/d1/1/a/c/o", HttpCompletionOption.ResponseHeadersRead))
        {
            Assert.Equal("yes", response.Headers.GetValues("X-Started").Single());
            var stream = await response.Content.ReadAsStreamAsync();
            Assert.Equal(1000, await stream.ReadAtLeastAsync(new byte[1000], 1000));
        }
        await aborted.Task.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task A_failing_server_answers_500_and_other_hosts_go_to_the_network()
    {
        var (client, _) = Client(_ => throw new InvalidOperationException("boom"));
        using var response = await client.GetAsync("http://127.0.0.1:6200/x");
        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        await Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync("http://127.0.0.1:9/x"));
    }

    [Fact]
    public async Task A_client_that_times_out_stops_waiting_even_for_a_server_that_never_answers()
    {
        var release = new TaskCompletionSource();
        var (client, _) = Client(async context =>
        {
            await release.Task;
            context.Response.StatusCode = 200;
        });
        using var timeout = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.GetAsync("http://127.0.0.1:6200/d1/1/a/c/o", timeout.Token));
        release.SetResult();
    }

    [Fact]
    public async Task A_body_cut_short_by_the_client_reads_as_an_IOException()
    {
        Exception? failure = null;
        var (client, _) = Client(async context =>
        {
            try
            {
                await context.Request.Body.CopyToAsync(Stream.Null);
            }
            catch (IOException e)
            {
                failure = e;
            }
            context.Response.StatusCode = 499;
        });
        using var response = await client.PutAsync("http://127.0.0.1:6200/d1/1/a/c/o", new BrokenContent());
        Assert.IsType<IOException>(failure);
    }

    private sealed class WatchedContent : HttpContent
    {
        public bool Sent { get; private set; }

        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            Sent = true;
            return stream.WriteAsync(new byte[10]).AsTask();
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 10;
            return true;
        }
    }

    private sealed class BrokenContent : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            await stream.WriteAsync(new byte[100]);
            throw new OperationCanceledException("the sender gave up");
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 1000;
            return true;
        }
    }
}
