using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace StorageCloud.Tests;

/// <summary>A small NBD client that speaks the protocol byte by byte, to test what real clients do not (bad input).</summary>
public sealed class NbdTestClient : IAsyncDisposable
{
    private readonly TcpClient _tcp;
    private readonly NetworkStream _stream;

    private NbdTestClient(TcpClient tcp)
    {
        _tcp = tcp;
        _stream = tcp.GetStream();
    }

    /// <summary>Connects and does the first part of the handshake (fixed newstyle, no zeroes).</summary>
    public static async Task<NbdTestClient> ConnectAsync(IPEndPoint endpoint)
    {
        var tcp = new TcpClient();
        await tcp.ConnectAsync(endpoint);
        var client = new NbdTestClient(tcp);
        var hello = await client.ReadAsync(18);
        Assert.Equal(0x4e42444d41474943ul, BinaryPrimitives.ReadUInt64BigEndian(hello));
        Assert.Equal(0x49484156454F5054ul, BinaryPrimitives.ReadUInt64BigEndian(hello.AsSpan(8)));
        Assert.Equal(3, BinaryPrimitives.ReadUInt16BigEndian(hello.AsSpan(16)));
        await client.WriteAsync([0, 0, 0, 3]);
        return client;
    }

    /// <summary>Connects and opens an export with NBD_OPT_GO, without structured replies (every reply is simple).</summary>
    public static async Task<NbdTestClient> OpenAsync(IPEndPoint endpoint, string export)
    {
        var client = await ConnectAsync(endpoint);
        var go = await client.OptionAsync(7, GoData(export));
        Assert.True(go[^1].Type == 1, $"NBD_OPT_GO {export}: reply type 0x{go[^1].Type:x}");
        return client;
    }

    /// <summary>NBD_CMD_WRITE (with FUA when asked) and its simple reply: the error, 0 when written.</summary>
    public async Task<uint> WriteBlockAsync(ulong handle, ulong offset, byte[] data, bool fua = false)
    {
        await SendRequestAsync(1, handle, offset, (uint)data.Length, fua ? (ushort)1 : (ushort)0, data);
        var (error, answered) = await ReadSimpleAsync();
        Assert.Equal(handle, answered);
        return error;
    }

    /// <summary>NBD_CMD_FLUSH and its simple reply: the error, 0 when every completed write is durable.</summary>
    public async Task<uint> FlushAsync(ulong handle)
    {
        await SendRequestAsync(3, handle, 0, 0);
        var (error, answered) = await ReadSimpleAsync();
        Assert.Equal(handle, answered);
        return error;
    }

    /// <summary>NBD_CMD_READ with a simple reply; fails the test on an error.</summary>
    public async Task<byte[]> ReadBlockAsync(ulong handle, ulong offset, int length)
    {
        await SendRequestAsync(0, handle, offset, (uint)length);
        var (error, answered) = await ReadSimpleAsync();
        Assert.True(error == 0 && answered == handle, $"NBD read of {length} at {offset}: error {error}, handle {answered}");
        return await ReadAsync(length);
    }

    public async Task<byte[]> ReadAsync(int count)
    {
        var buffer = new byte[count];
        await _stream.ReadExactlyAsync(buffer);
        return buffer;
    }

    public Task WriteAsync(byte[] data) => _stream.WriteAsync(data).AsTask();

    /// <summary>True when the server closed the connection (a read ends).</summary>
    public async Task<bool> ClosedAsync()
    {
        var one = new byte[1];
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            return await _stream.ReadAsync(one, timeout.Token) == 0;
        }
        catch (IOException)
        {
            return true;
        }
    }

    public async Task SendOptionAsync(uint option, byte[] data)
    {
        var header = new byte[16];
        BinaryPrimitives.WriteUInt64BigEndian(header, 0x49484156454F5054);
        BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(8), option);
        BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(12), (uint)data.Length);
        await WriteAsync([.. header, .. data]);
    }

    /// <summary>One option reply: its type and data.</summary>
    public async Task<(uint Type, byte[] Data)> ReadOptionReplyAsync(uint option)
    {
        var header = await ReadAsync(20);
        Assert.Equal(0x3e889045565a9ul, BinaryPrimitives.ReadUInt64BigEndian(header));
        Assert.Equal(option, BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(8)));
        var data = await ReadAsync((int)BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(16)));
        return (BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(12)), data);
    }

    /// <summary>Every reply to an option until its ACK or an error.</summary>
    public async Task<List<(uint Type, byte[] Data)>> OptionAsync(uint option, byte[] data)
    {
        await SendOptionAsync(option, data);
        var replies = new List<(uint, byte[])>();
        while (true)
        {
            var reply = await ReadOptionReplyAsync(option);
            replies.Add(reply);
            if (reply.Type == 1 || reply.Type >= 0x80000000) return replies;
        }
    }

    public static byte[] GoData(string name, params ushort[] infos)
    {
        var bytes = Encoding.UTF8.GetBytes(name);
        var data = new byte[4 + bytes.Length + 2 + 2 * infos.Length];
        BinaryPrimitives.WriteUInt32BigEndian(data, (uint)bytes.Length);
        bytes.CopyTo(data, 4);
        BinaryPrimitives.WriteUInt16BigEndian(data.AsSpan(4 + bytes.Length), (ushort)infos.Length);
        for (var i = 0; i < infos.Length; i++) BinaryPrimitives.WriteUInt16BigEndian(data.AsSpan(6 + bytes.Length + 2 * i), infos[i]);
        return data;
    }

    public static byte[] MetaData(string name, params string[] queries)
    {
        var list = new List<byte>();
        var bytes = Encoding.UTF8.GetBytes(name);
        list.AddRange(BigEndian((uint)bytes.Length));
        list.AddRange(bytes);
        list.AddRange(BigEndian((uint)queries.Length));
        foreach (var q in queries)
        {
            var qb = Encoding.UTF8.GetBytes(q);
            list.AddRange(BigEndian((uint)qb.Length));
            list.AddRange(qb);
        }
        return [.. list];
    }

    private static byte[] BigEndian(uint value)
    {
        var b = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(b, value);
        return b;
    }

    public async Task SendRequestAsync(ushort type, ulong handle, ulong offset, uint length, ushort flags = 0, byte[]? payload = null, uint magic = 0x25609513)
    {
        var request = new byte[28];
        BinaryPrimitives.WriteUInt32BigEndian(request, magic);
        BinaryPrimitives.WriteUInt16BigEndian(request.AsSpan(4), flags);
        BinaryPrimitives.WriteUInt16BigEndian(request.AsSpan(6), type);
        BinaryPrimitives.WriteUInt64BigEndian(request.AsSpan(8), handle);
        BinaryPrimitives.WriteUInt64BigEndian(request.AsSpan(16), offset);
        BinaryPrimitives.WriteUInt32BigEndian(request.AsSpan(24), length);
        await WriteAsync(payload is null ? request : [.. request, .. payload]);
    }

    /// <summary>A structured reply chunk: flags, type, handle and payload.</summary>
    public async Task<(ushort Flags, ushort Type, ulong Handle, byte[] Payload)> ReadChunkAsync()
    {
        var header = await ReadAsync(20);
        Assert.Equal(0x668e33efu, BinaryPrimitives.ReadUInt32BigEndian(header));
        var payload = await ReadAsync((int)BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(16)));
        return (BinaryPrimitives.ReadUInt16BigEndian(header.AsSpan(4)), BinaryPrimitives.ReadUInt16BigEndian(header.AsSpan(6)),
            BinaryPrimitives.ReadUInt64BigEndian(header.AsSpan(8)), payload);
    }

    /// <summary>A simple reply: error and handle.</summary>
    public async Task<(uint Error, ulong Handle)> ReadSimpleAsync()
    {
        var header = await ReadAsync(16);
        Assert.Equal(0x67446698u, BinaryPrimitives.ReadUInt32BigEndian(header));
        return (BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(4)), BinaryPrimitives.ReadUInt64BigEndian(header.AsSpan(8)));
    }

    public ValueTask DisposeAsync()
    {
        _tcp.Dispose();
        return ValueTask.CompletedTask;
    }
}
