using System.Net;
using System.Security.Cryptography;
using System.Text.Json.Nodes;

namespace StorageCloud.Host.Tests.Images;

/// <summary>
/// Another region's image service, as far as glance-download reads one: an image's record and its data on 127.0.0.1.
/// The data stops after its first 64 KiB until <see cref="Release"/> is called, so a test can catch an import midway.
/// </summary>
public sealed class RemoteGlance : IDisposable
{
    private readonly HttpListener _listener;
    private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public RemoteGlance(byte[] data)
    {
        Data = data;
        for (var attempt = 0; ; attempt++)
        {
            Port = StorageCloudProcess.FreePort();
            _listener = new HttpListener();
            _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
            try
            {
                _listener.Start();
                break;
            }
            catch (HttpListenerException) when (attempt < 5)
            {
                _listener.Close();
            }
        }
        _ = ServeAsync();
    }

    public byte[] Data { get; }

    public int Port { get; }

    public string ImageId { get; } = Guid.NewGuid().ToString("D");

    /// <summary>The tokens requests came with.</summary>
    public List<string> Tokens { get; } = [];

    /// <summary>Lets the data flow past its first 64 KiB.</summary>
    public void Release() => _released.TrySetResult();

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
            {
                return;
            }
            _ = AnswerAsync(context);
        }
    }

    private async Task AnswerAsync(HttpListenerContext context)
    {
        try
        {
            lock (Tokens) Tokens.Add(context.Request.Headers["X-Auth-Token"] ?? "");
            var path = context.Request.Url!.AbsolutePath;
            if (path == $"/v2/images/{ImageId}")
            {
                var body = new JsonObject
                {
                    ["id"] = ImageId, ["status"] = "active", ["disk_format"] = "raw", ["container_format"] = "bare", ["size"] = Data.Length,
                    ["os_hash_algo"] = "sha512", ["os_hash_value"] = Convert.ToHexStringLower(SHA512.HashData(Data)),
                    ["hw_disk_bus"] = "scsi", ["os_type"] = "linux", ["owner_specified.x"] = "not copied", ["os_glance_importing_to_stores"] = "",
                }.ToJsonString();
                context.Response.ContentType = "application/json";
                await context.Response.OutputStream.WriteAsync(System.Text.Encoding.UTF8.GetBytes(body));
            }
            else if (path == $"/v2/images/{ImageId}/file")
            {
                context.Response.ContentLength64 = Data.Length;
                await context.Response.OutputStream.WriteAsync(Data.AsMemory(0, 64 << 10));
                await context.Response.OutputStream.FlushAsync();
                await _released.Task;
                await context.Response.OutputStream.WriteAsync(Data.AsMemory(64 << 10));
            }
            else context.Response.StatusCode = 404;
            context.Response.Close();
        }
        catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or IOException)
        {
        }
    }

    /// <summary>Registers this service as region <paramref name="region"/>'s public image endpoint (as the admin).</summary>
    public async Task RegisterAsync(CloudFixture cloud, string region)
    {
        var identity = $"http://127.0.0.1:{cloud.IdentityPort}/v3";
        var (status, _) = await cloud.SendToAsync(identity, HttpMethod.Post, "/regions", cloud.Admin.Token, new JsonObject { ["region"] = new JsonObject { ["id"] = region } });
        Assert.Equal(HttpStatusCode.Created, status);
        var (_, services) = await cloud.SendToAsync(identity, HttpMethod.Get, "/services?type=image", cloud.Admin.Token);
        var service = services!["services"]![0]!["id"]!.GetValue<string>();
        (status, _) = await cloud.SendToAsync(identity, HttpMethod.Post, "/endpoints", cloud.Admin.Token, new JsonObject
        {
            ["endpoint"] = new JsonObject { ["service_id"] = service, ["interface"] = "public", ["region_id"] = region, ["url"] = $"http://127.0.0.1:{Port}" },
        });
        Assert.Equal(HttpStatusCode.Created, status);
    }

    public void Dispose()
    {
        Release();
        _listener.Close();
    }
}
