using System.Buffers.Binary;
using System.Net;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using StorageCloud.Block.Devices;
using StorageCloud.Block.Nbd;
using StorageCloud.Tests;

namespace StorageCloud.Block.Tests;

/// <summary>
/// The NBD server's protocol, spoken byte by byte over loopback against a memory disk: the handshake's options, each
/// command, structured replies and their errors, and the bad input real clients never send.
/// </summary>
public sealed class NbdProtocolTests : IAsyncLifetime
{
    private const string Name = "11111111-2222-3333-4444-555555555555";
    private readonly MemoryDevice _device = new(Name, 8 * 1024 * 1024);
    private NbdServer _server = null!;
    private readonly CancellationTokenSource _stop = new();

    public async Task InitializeAsync()
    {
        _server = new NbdServer(new IPEndPoint(IPAddress.Loopback, 0), new MemoryExports(_device), NullLogger<NbdServer>.Instance);
        await _server.StartAsync(_stop.Token);
    }

    public async Task DisposeAsync()
    {
        await _stop.CancelAsync();
        await _server.StopAsync(CancellationToken.None);
    }

    private async Task<NbdTestClient> GoAsync(bool structured = true, bool allocation = false)
    {
        var client = await NbdTestClient.ConnectAsync(_server.Endpoint);
        if (structured) Assert.Equal(1u, (await client.OptionAsync(8, []))[^1].Type);
        if (allocation)
        {
            var set = await client.OptionAsync(10, NbdTestClient.MetaData(Name, "base:allocation", "qemu:dirty-bitmap:x"));
            Assert.Equal([4u, 1u], set.Select(r => r.Type));
            Assert.Equal("base:allocation", Encoding.UTF8.GetString(set[0].Data.AsSpan(4)));
        }
        var go = await client.OptionAsync(7, NbdTestClient.GoData(Name, 3));
        Assert.Equal(1u, go[^1].Type);
        return client;
    }

    [Fact]
    public async Task The_handshake_answers_list_info_meta_contexts_and_refuses_what_it_does_not_know()
    {
        await using var client = await NbdTestClient.ConnectAsync(_server.Endpoint);
        var list = await client.OptionAsync(3, []);
        Assert.Equal([2u, 1u], list.Select(r => r.Type));
        Assert.Equal(Name, Encoding.UTF8.GetString(list[0].Data.AsSpan(4)));
        Assert.Equal(0x80000003u, (await client.OptionAsync(3, [1]))[^1].Type);

        // EXTENDED_HEADERS (11), STARTTLS (5) and unknown options: ERR_UNSUP, and the session goes on.
        Assert.Equal(0x80000001u, (await client.OptionAsync(11, []))[^1].Type);
        Assert.Equal(0x80000001u, (await client.OptionAsync(5, []))[^1].Type);
        Assert.Equal(0x80000001u, (await client.OptionAsync(4242, [1, 2, 3]))[^1].Type);

        var info = await client.OptionAsync(6, NbdTestClient.GoData(Name, 3, 1));
        var export = info.First(r => r.Type == 3 && BinaryPrimitives.ReadUInt16BigEndian(r.Data) == 0).Data;
        Assert.Equal(8ul * 1024 * 1024, BinaryPrimitives.ReadUInt64BigEndian(export.AsSpan(2)));
        var flags = BinaryPrimitives.ReadUInt16BigEndian(export.AsSpan(10));
        Assert.Equal(0x0DED, flags & 0x0DED); // flags, flush, FUA, trim, write-zeroes, DF, multi-conn, cache, fast-zero
        var sizes = info.First(r => r.Type == 3 && BinaryPrimitives.ReadUInt16BigEndian(r.Data) == 3).Data;
        Assert.Equal((1u, 4096u, 32u * 1024 * 1024), (BinaryPrimitives.ReadUInt32BigEndian(sizes.AsSpan(2)), BinaryPrimitives.ReadUInt32BigEndian(sizes.AsSpan(6)),
            BinaryPrimitives.ReadUInt32BigEndian(sizes.AsSpan(10))));
        Assert.Equal(0x80000006u, (await client.OptionAsync(6, NbdTestClient.GoData("no-such-volume")))[^1].Type);
        // Meta contexts need structured replies first.
        Assert.Equal(0x80000003u, (await client.OptionAsync(9, NbdTestClient.MetaData(Name)))[^1].Type);
        Assert.Equal(1u, (await client.OptionAsync(8, []))[^1].Type);
        var contexts = await client.OptionAsync(9, NbdTestClient.MetaData(Name));
        Assert.Equal("base:allocation", Encoding.UTF8.GetString(contexts[0].Data.AsSpan(4)));
        Assert.Equal(1u, (await client.OptionAsync(2, []))[^1].Type);
        Assert.True(await client.ClosedAsync());
    }

    [Fact]
    public async Task Commands_read_write_zero_trim_flush_and_report_allocation_with_structured_replies()
    {
        await using var client = await GoAsync(allocation: true);
        var data = new byte[8192];
        new Random(1).NextBytes(data);
        await client.SendRequestAsync(1, 10, 4096, (uint)data.Length, flags: 1, payload: data);
        Assert.Equal((0u, 10ul), await client.ReadSimpleAsync());
        await client.SendRequestAsync(0, 11, 4096, 8192);
        var read = await client.ReadChunkAsync();
        Assert.Equal((ushort)1, read.Flags);
        Assert.Equal((ushort)1, read.Type);
        Assert.Equal(4096ul, BinaryPrimitives.ReadUInt64BigEndian(read.Payload));
        Assert.Equal(data, read.Payload[8..]);

        await client.SendRequestAsync(7, 12, 0, 64 * 1024);
        var status = await client.ReadChunkAsync();
        Assert.Equal((ushort)5, status.Type);
        var descriptors = Enumerable.Range(0, (status.Payload.Length - 4) / 8)
            .Select(i => (BinaryPrimitives.ReadUInt32BigEndian(status.Payload.AsSpan(4 + 8 * i)), BinaryPrimitives.ReadUInt32BigEndian(status.Payload.AsSpan(8 + 8 * i)))).ToList();
        Assert.Equal([(4096u, 3u), (8192u, 0u), (64u * 1024 - 12288, 3u)], descriptors);

        await client.SendRequestAsync(6, 13, 4096, 4096);
        Assert.Equal((0u, 13ul), await client.ReadSimpleAsync());
        await client.SendRequestAsync(4, 14, 8192, 100);
        Assert.Equal((0u, 14ul), await client.ReadSimpleAsync());
        await client.SendRequestAsync(3, 15, 0, 0);
        Assert.Equal((0u, 15ul), await client.ReadSimpleAsync());
        Assert.Equal(1, _device.Flushes);
        await client.SendRequestAsync(0, 16, 4096, 8192);
        var after = (await client.ReadChunkAsync()).Payload[8..];
        Assert.Equal(new byte[4096 + 100], after[..(4096 + 100)]);
        Assert.Equal(data[(4096 + 100)..], after[(4096 + 100)..]);
        await client.SendRequestAsync(2, 17, 0, 0);
        Assert.True(await client.ClosedAsync());
    }

    [Fact]
    public async Task Bad_requests_get_the_protocols_errors_and_the_connection_goes_on()
    {
        await using var client = await GoAsync();
        // A read past the end: EINVAL; a write past the end: ENOSPC (its payload is read and dropped).
        await client.SendRequestAsync(0, 1, 8 * 1024 * 1024 - 10, 20);
        var error = await client.ReadChunkAsync();
        Assert.Equal((ushort)0x8001, error.Type);
        Assert.Equal(22u, BinaryPrimitives.ReadUInt32BigEndian(error.Payload));
        await client.SendRequestAsync(1, 2, 8 * 1024 * 1024, 4, payload: [1, 2, 3, 4]);
        Assert.Equal(28u, BinaryPrimitives.ReadUInt32BigEndian((await client.ReadChunkAsync()).Payload));
        // A write longer than the maximum block size: read, refused with EINVAL.
        var big = new byte[33 * 1024 * 1024];
        await client.SendRequestAsync(1, 3, 0, (uint)big.Length, payload: big);
        Assert.Equal(22u, BinaryPrimitives.ReadUInt32BigEndian((await client.ReadChunkAsync()).Payload));
        // An unknown command, an unknown flag, block status without its context, FAST_ZERO that would have to write.
        await client.SendRequestAsync(99, 4, 0, 0);
        Assert.Equal(22u, BinaryPrimitives.ReadUInt32BigEndian((await client.ReadChunkAsync()).Payload));
        await client.SendRequestAsync(3, 5, 0, 0, flags: 1 << 9);
        Assert.Equal(22u, BinaryPrimitives.ReadUInt32BigEndian((await client.ReadChunkAsync()).Payload));
        await client.SendRequestAsync(7, 6, 0, 4096);
        Assert.Equal(22u, BinaryPrimitives.ReadUInt32BigEndian((await client.ReadChunkAsync()).Payload));
        await client.SendRequestAsync(6, 7, 0, 4096, flags: (1 << 1) | (1 << 4));
        Assert.Equal(95u, BinaryPrimitives.ReadUInt32BigEndian((await client.ReadChunkAsync()).Payload));
        // Still serving.
        await client.SendRequestAsync(0, 8, 0, 16);
        Assert.Equal((ushort)1, (await client.ReadChunkAsync()).Type);
        // A request with a bad magic ends the connection.
        await client.SendRequestAsync(0, 9, 0, 16, magic: 0xdeadbeef);
        Assert.True(await client.ClosedAsync());
    }

    [Fact]
    public async Task Requests_in_flight_are_answered_as_they_complete_and_simple_replies_serve_old_clients()
    {
        await using (var client = await GoAsync())
        {
            // The first read is held up; the second is answered first.
            _device.HoldReadsAt = 0;
            await client.SendRequestAsync(0, 1, 0, 512);
            await client.SendRequestAsync(0, 2, 4096, 512);
            Assert.Equal(2ul, (await client.ReadChunkAsync()).Handle);
            _device.Release();
            Assert.Equal(1ul, (await client.ReadChunkAsync()).Handle);
        }
        await using (var old = await GoAsync(structured: false))
        {
            await old.SendRequestAsync(0, 3, 0, 4);
            Assert.Equal((0u, 3ul), await old.ReadSimpleAsync());
            Assert.Equal(4, (await old.ReadAsync(4)).Length);
            await old.SendRequestAsync(0, 4, 8 * 1024 * 1024, 4);
            Assert.Equal((22u, 4ul), await old.ReadSimpleAsync());
        }
        // EXPORT_NAME of an unknown export: the server hangs up, as the protocol says.
        await using var unknown = await NbdTestClient.ConnectAsync(_server.Endpoint);
        await unknown.SendOptionAsync(1, Encoding.UTF8.GetBytes("nope"));
        Assert.True(await unknown.ClosedAsync());
    }

    /// <summary>A disk in memory, with holes tracked per 4 KiB page.</summary>
    private sealed class MemoryDevice(string name, long size) : IBlockDevice
    {
        private readonly byte[] _data = new byte[size];
        private readonly bool[] _allocated = new bool[(size + 4095) / 4096];
        private TaskCompletionSource? _hold;

        public string Name => name;

        public long Size => size;

        public int Flushes { get; private set; }

        public long? HoldReadsAt
        {
            set => _hold = value is null ? null : new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        public void Release() => _hold?.TrySetResult();

        public async ValueTask ReadAsync(long offset, Memory<byte> destination, CancellationToken cancellationToken)
        {
            if (offset == 0 && _hold is { } hold) await hold.Task;
            _data.AsSpan((int)offset, destination.Length).CopyTo(destination.Span);
        }

        public ValueTask WriteAsync(long offset, ReadOnlyMemory<byte> data, bool fua, CancellationToken cancellationToken)
        {
            data.Span.CopyTo(_data.AsSpan((int)offset));
            for (var p = offset / 4096; p <= (offset + data.Length - 1) / 4096; p++) _allocated[p] = true;
            return ValueTask.CompletedTask;
        }

        public ValueTask ZeroAsync(long offset, long length, bool allocate, bool fua, CancellationToken cancellationToken)
        {
            Array.Clear(_data, (int)offset, (int)length);
            return ValueTask.CompletedTask;
        }

        public ValueTask FlushAsync(CancellationToken cancellationToken)
        {
            Flushes++;
            return ValueTask.CompletedTask;
        }

        public ValueTask<List<(long Length, bool Hole)>> AllocationAsync(long offset, long length, CancellationToken cancellationToken)
        {
            var runs = new List<(long, bool)>();
            for (var at = offset; at < offset + length;)
            {
                var hole = !_allocated[at / 4096];
                var end = Math.Min(offset + length, (at / 4096 + 1) * 4096);
                if (runs.Count > 0 && runs[^1].Item2 == hole) runs[^1] = (runs[^1].Item1 + end - at, hole);
                else runs.Add((end - at, hole));
                at = end;
            }
            return ValueTask.FromResult(runs);
        }
    }

    private sealed class MemoryExports(MemoryDevice device) : INbdExports
    {
        public Task<long?> SizeOfAsync(string name, IPAddress client, CancellationToken cancellationToken) =>
            Task.FromResult(name == device.Name ? device.Size : (long?)null);

        public Task<IReadOnlyList<string>> ListAsync(IPAddress client, CancellationToken cancellationToken) => Task.FromResult<IReadOnlyList<string>>([device.Name]);

        public Task<ExportLease?> OpenAsync(string name, IPAddress client, CancellationToken cancellationToken) =>
            Task.FromResult(name == device.Name ? new ExportLease(device, () => ValueTask.CompletedTask) : null);
    }
}
