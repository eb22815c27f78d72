using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;
using static StorageCloud.Block.Nbd.NbdProtocol;

namespace StorageCloud.Block.Nbd;

/// <summary>
/// One NBD client: the fixed newstyle handshake (EXPORT_NAME, ABORT, LIST, INFO, GO, STRUCTURED_REPLY,
/// LIST/SET_META_CONTEXT with base:allocation; anything else ERR_UNSUP), then the transmission phase, where requests
/// are answered as they complete, out of order, several at a time. A request the protocol forbids gets its error; a
/// client that breaks the framing (a bad magic, an absurd length) or vanishes is dropped, and its requests in flight
/// finish on their own without harm.
/// </summary>
internal sealed partial class NbdConnection(Socket socket, INbdExports exports, ILogger logger)
{
    private const int MaxInFlight = 64;
    private const int SimpleHeader = 16, ChunkHeader = 20;

    private readonly NetworkStream _network = new(socket, ownsSocket: true);
    private readonly SemaphoreSlim _write = new(1, 1);
    private BufferedStream _in = null!;
    private bool _structured;
    private bool _allocationContext;
    private bool _noZeroes;

    private IPAddress Client => (socket.RemoteEndPoint as IPEndPoint)?.Address ?? IPAddress.None;

    /// <summary>Serves the client until it disconnects or the server stops.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        socket.NoDelay = true;
        _in = new BufferedStream(_network, 256 * 1024);
        ExportLease? export = null;
        try
        {
            export = await HandshakeAsync(cancellationToken);
            if (export is not null) await TransmitAsync(export, cancellationToken);
        }
        catch (Exception e) when (e is IOException or EndOfStreamException or OperationCanceledException or SocketException or ObjectDisposedException or InvalidDataException)
        {
            logger.LogDebug("nbd client {Client} went away: {Reason}", Client, e.Message);
        }
        finally
        {
            if (export is not null) await export.DisposeAsync();
            await _network.DisposeAsync();
        }
    }

    private async Task ReadExactlyAsync(Memory<byte> buffer, CancellationToken cancellationToken) => await _in.ReadExactlyAsync(buffer, cancellationToken);

    private async Task<ExportLease?> HandshakeAsync(CancellationToken cancellationToken)
    {
        var hello = new byte[18];
        BinaryPrimitives.WriteUInt64BigEndian(hello, InitMagic);
        BinaryPrimitives.WriteUInt64BigEndian(hello.AsSpan(8), OptionMagic);
        BinaryPrimitives.WriteUInt16BigEndian(hello.AsSpan(16), FlagFixedNewstyle | FlagNoZeroes);
        await _network.WriteAsync(hello, cancellationToken);
        var four = new byte[16];
        await ReadExactlyAsync(four.AsMemory(0, 4), cancellationToken);
        var clientFlags = BinaryPrimitives.ReadUInt32BigEndian(four);
        if ((clientFlags & ~(ClientFixedNewstyle | ClientNoZeroes)) != 0) return null;
        _noZeroes = (clientFlags & ClientNoZeroes) != 0;
        while (true)
        {
            await ReadExactlyAsync(four, cancellationToken);
            if (BinaryPrimitives.ReadUInt64BigEndian(four) != OptionMagic) return null;
            var option = BinaryPrimitives.ReadUInt32BigEndian(four.AsSpan(8));
            var length = BinaryPrimitives.ReadUInt32BigEndian(four.AsSpan(12));
            // Options are small; a huge one is a client to drop, not one to buffer for.
            if (length > MaxOptionLength) return null;
            var data = new byte[length];
            await ReadExactlyAsync(data, cancellationToken);
            switch (option)
            {
                case OptExportName:
                {
                    var export = await exports.OpenAsync(Encoding.UTF8.GetString(data), Client, cancellationToken);
                    if (export is null) return null;
                    var reply = new byte[10 + (_noZeroes ? 0 : 124)];
                    BinaryPrimitives.WriteUInt64BigEndian(reply, (ulong)export.Device.Size);
                    BinaryPrimitives.WriteUInt16BigEndian(reply.AsSpan(8), TransmissionFlags);
                    await _network.WriteAsync(reply, cancellationToken);
                    return export;
                }
                case OptAbort:
                    await OptionReplyAsync(option, RepAck, [], cancellationToken);
                    return null;
                case OptList:
                    if (length != 0)
                    {
                        await OptionReplyAsync(option, RepErrInvalid, Encoding.UTF8.GetBytes("LIST takes no data"), cancellationToken);
                        break;
                    }
                    foreach (var name in await exports.ListAsync(Client, cancellationToken))
                    {
                        var nameBytes = Encoding.UTF8.GetBytes(name);
                        var entry = new byte[4 + nameBytes.Length];
                        BinaryPrimitives.WriteUInt32BigEndian(entry, (uint)nameBytes.Length);
                        nameBytes.CopyTo(entry, 4);
                        await OptionReplyAsync(option, RepServer, entry, cancellationToken);
                    }
                    await OptionReplyAsync(option, RepAck, [], cancellationToken);
                    break;
                case OptInfo or OptGo:
                    if (await InfoAsync(option, data, cancellationToken) is { } opened) return opened;
                    break;
                case OptStructuredReply:
                    if (length != 0 || _structured)
                    {
                        await OptionReplyAsync(option, RepErrInvalid, Encoding.UTF8.GetBytes("structured replies take no data and are asked for once"), cancellationToken);
                        break;
                    }
                    _structured = true;
                    await OptionReplyAsync(option, RepAck, [], cancellationToken);
                    break;
                case OptListMetaContext or OptSetMetaContext:
                    await MetaContextAsync(option, data, cancellationToken);
                    break;
                default:
                    // STARTTLS, EXTENDED_HEADERS and anything newer: clients go on without them.
                    await OptionReplyAsync(option, RepErrUnsup, [], cancellationToken);
                    break;
            }
        }
    }

    private const ushort TransmissionFlags = TxHasFlags | TxSendFlush | TxSendFua | TxSendTrim | TxSendWriteZeroes | TxSendDf | TxCanMultiConn | TxSendCache | TxSendFastZero;

    /// <summary>INFO and GO: the export's size and flags, its block sizes and name; GO then starts transmission.</summary>
    private async Task<ExportLease?> InfoAsync(uint option, byte[] data, CancellationToken cancellationToken)
    {
        if (data.Length < 6 || BinaryPrimitives.ReadUInt32BigEndian(data) is var nameLength && nameLength > data.Length - 6)
        {
            await OptionReplyAsync(option, RepErrInvalid, Encoding.UTF8.GetBytes("malformed INFO/GO request"), cancellationToken);
            return null;
        }
        var name = Encoding.UTF8.GetString(data, 4, (int)nameLength);
        var requests = BinaryPrimitives.ReadUInt16BigEndian(data.AsSpan(4 + (int)nameLength));
        if (data.Length != 6 + nameLength + 2 * requests)
        {
            await OptionReplyAsync(option, RepErrInvalid, Encoding.UTF8.GetBytes("malformed INFO/GO request"), cancellationToken);
            return null;
        }
        var asked = new HashSet<ushort>();
        for (var i = 0; i < requests; i++) asked.Add(BinaryPrimitives.ReadUInt16BigEndian(data.AsSpan(6 + (int)nameLength + 2 * i)));
        ExportLease? opened = null;
        long size;
        if (option == OptGo)
        {
            opened = await exports.OpenAsync(name, Client, cancellationToken);
            size = opened?.Device.Size ?? -1;
        }
        else size = await exports.SizeOfAsync(name, Client, cancellationToken) ?? -1;
        if (size < 0)
        {
            await OptionReplyAsync(option, RepErrUnknown, Encoding.UTF8.GetBytes($"no export named '{name}'"), cancellationToken);
            return null;
        }
        var export = new byte[12];
        BinaryPrimitives.WriteUInt16BigEndian(export, InfoExport);
        BinaryPrimitives.WriteUInt64BigEndian(export.AsSpan(2), (ulong)size);
        BinaryPrimitives.WriteUInt16BigEndian(export.AsSpan(10), TransmissionFlags);
        await OptionReplyAsync(option, RepInfo, export, cancellationToken);
        var sizes = new byte[14];
        BinaryPrimitives.WriteUInt16BigEndian(sizes, InfoBlockSize);
        BinaryPrimitives.WriteUInt32BigEndian(sizes.AsSpan(2), MinimumBlock);
        BinaryPrimitives.WriteUInt32BigEndian(sizes.AsSpan(6), PreferredBlock);
        BinaryPrimitives.WriteUInt32BigEndian(sizes.AsSpan(10), MaximumBlock);
        await OptionReplyAsync(option, RepInfo, sizes, cancellationToken);
        if (asked.Contains(InfoName))
            await OptionReplyAsync(option, RepInfo, [0, (byte)InfoName, .. Encoding.UTF8.GetBytes(name)], cancellationToken);
        if (asked.Contains(InfoDescription))
            await OptionReplyAsync(option, RepInfo, [0, (byte)InfoDescription, .. Encoding.UTF8.GetBytes($"StorageCloud volume {name}")], cancellationToken);
        await OptionReplyAsync(option, RepAck, [], cancellationToken);
        return opened;
    }

    /// <summary>LIST_META_CONTEXT and SET_META_CONTEXT: base:allocation is the one context there is.</summary>
    private async Task MetaContextAsync(uint option, byte[] data, CancellationToken cancellationToken)
    {
        if (!_structured)
        {
            await OptionReplyAsync(option, RepErrInvalid, Encoding.UTF8.GetBytes("meta contexts need structured replies"), cancellationToken);
            return;
        }
        var queries = new List<string>();
        var at = 0;
        bool Malformed() => data.Length - at < 4;
        if (Malformed())
        {
            await OptionReplyAsync(option, RepErrInvalid, [], cancellationToken);
            return;
        }
        var nameLength = BinaryPrimitives.ReadUInt32BigEndian(data);
        if (nameLength > data.Length - 8)
        {
            await OptionReplyAsync(option, RepErrInvalid, [], cancellationToken);
            return;
        }
        var name = Encoding.UTF8.GetString(data, 4, (int)nameLength);
        at = 4 + (int)nameLength;
        var count = BinaryPrimitives.ReadUInt32BigEndian(data.AsSpan(at));
        at += 4;
        for (var i = 0; i < count; i++)
        {
            if (Malformed() || BinaryPrimitives.ReadUInt32BigEndian(data.AsSpan(at)) > data.Length - at - 4)
            {
                await OptionReplyAsync(option, RepErrInvalid, [], cancellationToken);
                return;
            }
            var length = (int)BinaryPrimitives.ReadUInt32BigEndian(data.AsSpan(at));
            queries.Add(Encoding.UTF8.GetString(data, at + 4, length));
            at += 4 + length;
        }
        if (await exports.SizeOfAsync(name, Client, cancellationToken) is null)
        {
            await OptionReplyAsync(option, RepErrUnknown, Encoding.UTF8.GetBytes($"no export named '{name}'"), cancellationToken);
            return;
        }
        var listing = option == OptListMetaContext;
        var selected = listing ? queries.Count == 0 || queries.Any(q => q is "base:" or BaseAllocation) : queries.Contains(BaseAllocation);
        if (selected)
        {
            var context = Encoding.UTF8.GetBytes(BaseAllocation);
            var reply = new byte[4 + context.Length];
            BinaryPrimitives.WriteUInt32BigEndian(reply, listing ? 0 : BaseAllocationId);
            context.CopyTo(reply, 4);
            await OptionReplyAsync(option, RepMetaContext, reply, cancellationToken);
        }
        if (!listing) _allocationContext = selected;
        await OptionReplyAsync(option, RepAck, [], cancellationToken);
    }

    private async Task OptionReplyAsync(uint option, uint type, byte[] data, CancellationToken cancellationToken)
    {
        var reply = new byte[20 + data.Length];
        BinaryPrimitives.WriteUInt64BigEndian(reply, OptionReplyMagic);
        BinaryPrimitives.WriteUInt32BigEndian(reply.AsSpan(8), option);
        BinaryPrimitives.WriteUInt32BigEndian(reply.AsSpan(12), type);
        BinaryPrimitives.WriteUInt32BigEndian(reply.AsSpan(16), (uint)data.Length);
        data.CopyTo(reply, 20);
        await _network.WriteAsync(reply, cancellationToken);
    }
}
