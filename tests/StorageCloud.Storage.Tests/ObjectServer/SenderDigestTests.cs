using System.Net.Http.Headers;
using System.Security.Cryptography;
using StorageCloud.Common.Constraints;
using StorageCloud.Common.Http;
using StorageCloud.Service.Http;

namespace StorageCloud.Storage.Tests.ObjectServer;

/// <summary>An object server reached in memory takes the body's MD5 from a sender that offers it, and hashes for itself otherwise.</summary>
public sealed class SenderDigestTests : IAsyncLifetime
{
    private ObjectServerHost _host = null!;
    private HttpClient _inProcess = null!;

    public async Task InitializeAsync()
    {
        _host = await ObjectServerHost.StartAsync();
        var routes = new InProcessRoutes();
        routes.Add("127.0.0.1", 7000, new Storage.ObjectServer.ObjectServer(_host.Node, SwiftConstraints.Default, _host.Updater).HandleAsync);
        _inProcess = new HttpClient(routes.CreateHandler(new SocketsHttpHandler())) { BaseAddress = new Uri("http://127.0.0.1:7000") };
    }

    public async Task DisposeAsync()
    {
        _inProcess.Dispose();
        await _host.DisposeAsync();
    }

    /// <summary>A body whose sender hands over <paramref name="md5"/> (null: it never does) and records when it was asked.</summary>
    private sealed class DigestingContent(byte[] data, string? md5) : HttpContent, ISenderDigest
    {
        public bool AskedBeforeRead { get; private set; }
        private bool _read;

        public void RequestDigest() => AskedBeforeRead = !_read;

        public string? Md5 => AskedBeforeRead ? md5 : null;

        protected override async Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context)
        {
            _read = true;
            await stream.WriteAsync(data);
        }

        protected override bool TryComputeLength(out long length)
        {
            length = data.Length;
            return true;
        }
    }

    private async Task<(int Status, string ETag)> PutAsync(HttpClient client, string name, HttpContent content, string? etag = null)
    {
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using var request = new HttpRequestMessage(HttpMethod.Put, $"/sda/1/a/c/{name}") { Content = content };
        request.Headers.TryAddWithoutValidation("X-Timestamp", ObjectServerHost.NextTimestamp());
        if (etag is not null) Assert.True(request.Headers.TryAddWithoutValidation("ETag", etag));
        using var response = await client.SendAsync(request);
        return ((int)response.StatusCode, response.Headers.ETag?.Tag.Trim('"') ?? "");
    }

    [Fact]
    public async Task The_senders_md5_is_asked_for_before_the_body_and_becomes_the_etag()
    {
        var data = RandomNumberGenerator.GetBytes(200_000);
        // A digest no hash of the body gives: seen in the ETag, it proves the server took it rather than hashing.
        var offered = new DigestingContent(data, "00112233445566778899aabbccddeeff");
        Assert.Equal((201, "00112233445566778899aabbccddeeff"), await PutAsync(_inProcess, "offered", offered));
        Assert.True(offered.AskedBeforeRead);

        // A sender that was asked but hands over nothing: the server hashes what it holds.
        Assert.Equal((201, Convert.ToHexStringLower(MD5.HashData(data))), await PutAsync(_inProcess, "withheld", new DigestingContent(data, null)));
        // Over a socket nothing can be offered: the server hashes, whatever the content object is.
        Assert.Equal((201, Convert.ToHexStringLower(MD5.HashData(data))), await PutAsync(_host.Client, "socket", new DigestingContent(data, "00112233445566778899aabbccddeeff")));
        // A client's ETag is still checked against the digest: a mismatch stores nothing.
        var mismatched = new DigestingContent(data, "00112233445566778899aabbccddeeff");
        Assert.Equal(422, (await PutAsync(_inProcess, "mismatched", mismatched, Convert.ToHexStringLower(MD5.HashData(data)))).Status);
        using var head = await _inProcess.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/sda/1/a/c/mismatched"));
        Assert.Equal(404, (int)head.StatusCode);
    }
}
