using System.Security.Cryptography;
using System.Text;
using StorageCloud.Common.Http;
using StorageCloud.ObjectLayer.LargeObjects;
using StorageCloud.Tests;

namespace StorageCloud.ObjectLayer.Tests;

/// <summary>The typed object API on a real four-node cluster: what a service stores, reads, lists and deletes in-process.</summary>
public sealed class ObjectStoreTests : IAsyncLifetime
{
    private const string Account = "AUTH_svc";
    private TestCluster _cluster = null!;
    private ObjectStore _store = null!;

    public async Task InitializeAsync()
    {
        _cluster = await TestCluster.StartAsync();
        _store = new ObjectStore(_cluster.Cluster);
        await _store.EnsureContainerAsync(Account, "c");
    }

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    private static byte[] Bytes(int length, int seed)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }

    private static async Task<byte[]> ReadAllAsync(ObjectReader reader)
    {
        using var copy = new MemoryStream();
        await reader.Body.CopyToAsync(copy);
        return copy.ToArray();
    }

    [Fact]
    public async Task Put_then_get_head_post_list_and_delete_with_typed_results()
    {
        var data = Bytes(100_000, 1);
        var stored = await _store.PutAsync(Account, "c", "dir/one", new MemoryStream(data), data.Length,
            new PutOptions { ContentType = "application/x-test", Metadata = new Dictionary<string, string> { ["Color"] = "blue" } });
        Assert.Equal(Convert.ToHexStringLower(MD5.HashData(data)), stored.ETag);
        Assert.Equal(data.Length, stored.Length);

        await using (var reader = await _store.GetAsync(Account, "c", "dir/one"))
        {
            Assert.Equal(data, await ReadAllAsync(reader));
            Assert.Equal("application/x-test", reader.Info.ContentType);
            Assert.Equal("blue", reader.Info.Metadata["color"]);
            Assert.Null(reader.Range);
        }
        await using (var part = await _store.GetAsync(Account, "c", "dir/one", (99_990, 200_000)))
        {
            Assert.Equal(data[99_990..], await ReadAllAsync(part));
            Assert.Equal((99_990L, 99_999L), part.Range);
            Assert.Equal(data.Length, part.Info.Length);
        }

        await _store.PostAsync(Account, "c", "dir/one", new Dictionary<string, string> { ["Shape"] = "round" });
        var head = await _store.HeadAsync(Account, "c", "dir/one");
        Assert.NotNull(head);
        Assert.Equal("round", head.Metadata["shape"]);
        Assert.False(head.Metadata.ContainsKey("color"));

        await _store.PutAsync(Account, "c", "dir/two", new MemoryStream("x"u8.ToArray()), 1);
        await _store.PutAsync(Account, "c", "other", new MemoryStream("y"u8.ToArray()), 1);
        var listed = await _store.ListAsync(Account, "c", prefix: "dir/");
        Assert.Equal(["dir/one", "dir/two"], listed.Select(e => e.Name));
        Assert.Equal(data.Length, listed[0].Bytes);
        Assert.Equal(stored.ETag, listed[0].ETag);
        Assert.Equal(["dir/two", "other"], (await _store.ListAsync(Account, "c", marker: "dir/one")).Select(e => e.Name));
        var all = new List<string>();
        await foreach (var entry in _store.ListAllAsync(Account, "c")) all.Add(entry.Name);
        Assert.Equal(["dir/one", "dir/two", "other"], all);

        Assert.True(await _store.DeleteAsync(Account, "c", "dir/one"));
        Assert.False(await _store.DeleteAsync(Account, "c", "dir/one"));
        Assert.Null(await _store.HeadAsync(Account, "c", "dir/one"));
        await Assert.ThrowsAsync<ObjectNotFoundException>(() => _store.GetAsync(Account, "c", "dir/one"));
    }

    [Fact]
    public async Task Refusals_are_typed_errors_and_store_nothing()
    {
        await Assert.ThrowsAsync<ObjectNotFoundException>(() => _store.PutAsync(Account, "nope", "o", new MemoryStream([1]), 1));
        await Assert.ThrowsAsync<ObjectNotFoundException>(() => _store.ListAsync(Account, "nope"));
        await Assert.ThrowsAsync<ObjectNotFoundException>(() => _store.PostAsync(Account, "c", "missing", new Dictionary<string, string>()));

        var wrong = await Assert.ThrowsAsync<ObjectLayerException>(() =>
            _store.PutAsync(Account, "c", "checked", new MemoryStream("abc"u8.ToArray()), 3, new PutOptions { ExpectedETag = new string('0', 32) }));
        Assert.Equal(422, wrong.Status);
        Assert.Null(await _store.HeadAsync(Account, "c", "checked"));

        await _store.PutAsync(Account, "c", "once", new MemoryStream("1"u8.ToArray()), 1, new PutOptions { OnlyIfAbsent = true });
        var again = await Assert.ThrowsAsync<ObjectLayerException>(() =>
            _store.PutAsync(Account, "c", "once", new MemoryStream("2"u8.ToArray()), 1, new PutOptions { OnlyIfAbsent = true }));
        Assert.Equal(412, again.Status);
        await using var kept = await _store.GetAsync(Account, "c", "once");
        Assert.Equal("1", Encoding.ASCII.GetString(await ReadAllAsync(kept)));

        var tooBig = await Assert.ThrowsAsync<ObjectLayerException>(() =>
            _store.PutAsync(Account, "c", "big", new MemoryStream(new byte[100]), null, new PutOptions { MaxBytes = 10 }));
        Assert.Equal(413, tooBig.Status);
    }

    [Fact]
    public async Task A_large_object_is_written_in_segments_as_a_swift_slo_and_read_back_whole_and_in_ranges()
    {
        var data = Bytes(2_500_000, 2);
        var options = new LargeObjectOptions { SegmentSize = 1_000_000, Object = new PutOptions { ContentType = "application/x-disk" } };
        var stored = await _store.PutLargeAsync(Account, "c", "disk.img", new NonSeekableStream(data), options);
        Assert.True(stored.IsLargeObject);
        Assert.Equal(data.Length, stored.Length);

        // Stored as Swift stores an SLO: a manifest with the large object's ETag and size, segments in c_segments.
        var segments = await _store.ListAsync(Account, "c_segments");
        Assert.Equal([1_000_000L, 1_000_000L, 500_000L], segments.Select(s => s.Bytes));
        using (var manifest = await _cluster.Cluster.ObjectReadAsync(HttpMethod.Get, Account, "c", "disk.img", []))
        {
            Assert.Equal("True", manifest.Header("X-Static-Large-Object"));
            var entries = SloManifest.Deserialize(await SloManifest.ReadBodyAsync(manifest, CancellationToken.None));
            Assert.Equal(segments.Select(s => "/c_segments/" + s.Name), entries.Select(e => e.Name));
            Assert.Equal(SloManifest.ETag(entries), manifest.Header(SloManifest.SysmetaEtag));
            Assert.Equal(stored.ETag, manifest.Header(SloManifest.SysmetaEtag));
        }

        await using (var whole = await _store.GetAsync(Account, "c", "disk.img"))
        {
            Assert.True(whole.Info.IsLargeObject);
            Assert.Equal(data.Length, whole.Info.Length);
            Assert.Equal("application/x-disk", whole.Info.ContentType);
            Assert.Equal(data, await ReadAllAsync(whole));
        }
        // A range across two segment boundaries.
        await using (var part = await _store.GetAsync(Account, "c", "disk.img", (999_000, 2_000_999)))
            Assert.Equal(data[999_000..2_001_000], await ReadAllAsync(part));
        var past = await Assert.ThrowsAsync<ObjectLayerException>(() => _store.GetAsync(Account, "c", "disk.img", (3_000_000, 3_000_001)));
        Assert.Equal(416, past.Status);

        // A segment replaced behind the manifest's back is detected, not served.
        var second = segments[1].Name;
        await _store.PutAsync(Account, "c_segments", second, new MemoryStream(new byte[1_000_000]), 1_000_000);
        await using (var changed = await _store.GetAsync(Account, "c", "disk.img"))
            await Assert.ThrowsAsync<SegmentException>(() => ReadAllAsync(changed));

        Assert.True(await _store.DeleteLargeAsync(Account, "c", "disk.img"));
        Assert.Empty(await _store.ListAsync(Account, "c_segments"));
        Assert.Null(await _store.HeadAsync(Account, "c", "disk.img"));
    }

    [Fact]
    public async Task A_large_write_that_fails_midway_leaves_no_segments_behind()
    {
        var failing = new FailingStream(Bytes(1_500_000, 3), failAfter: 1_200_000);
        await Assert.ThrowsAnyAsync<Exception>(() =>
            _store.PutLargeAsync(Account, "c", "broken", failing, new LargeObjectOptions { SegmentSize = 1_000_000 }));
        Assert.Null(await _store.HeadAsync(Account, "c", "broken"));
        Assert.Empty(await _store.ListAsync(Account, "c_segments"));
    }

    /// <summary>A body that can be read once, front to back, as a client's upload is.</summary>
    private sealed class NonSeekableStream(byte[] data) : Common.IO.ReadOnlyStream
    {
        private int _at;

        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = Math.Min(count, Math.Min(data.Length - _at, 65_536));
            Array.Copy(data, _at, buffer, offset, n);
            _at += n;
            return n;
        }
    }

    /// <summary>A body whose sender goes away after some bytes.</summary>
    private sealed class FailingStream(byte[] data, int failAfter) : Common.IO.ReadOnlyStream
    {
        private int _at;

        public override int Read(byte[] buffer, int offset, int count)
        {
            if (_at >= failAfter) throw new IOException("the sender went away");
            var n = Math.Min(count, Math.Min(failAfter - _at, 65_536));
            Array.Copy(data, _at, buffer, offset, n);
            _at += n;
            return n;
        }
    }
}
