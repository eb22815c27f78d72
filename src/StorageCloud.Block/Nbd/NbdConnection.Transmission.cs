using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using Microsoft.Extensions.Logging;
using StorageCloud.Block.Devices;
using static StorageCloud.Block.Nbd.NbdProtocol;

namespace StorageCloud.Block.Nbd;

internal sealed partial class NbdConnection
{
    /// <summary>Largest write payload read and refused (EINVAL) rather than dropping the client.</summary>
    private const int MaxDrainedPayload = 64 * 1024 * 1024;

    private async Task TransmitAsync(ExportLease export, CancellationToken cancellationToken)
    {
        var device = export.Device;
        var slots = new SemaphoreSlim(MaxInFlight, MaxInFlight);
        var inFlight = new List<Task>();
        var header = new byte[28];
        try
        {
            while (true)
            {
                try
                {
                    await ReadExactlyAsync(header, cancellationToken);
                }
                catch (EndOfStreamException)
                {
                    // Some clients (fio) close without NBD_CMD_DISC: that is a disconnect too.
                    break;
                }
                if (BinaryPrimitives.ReadUInt32BigEndian(header) != RequestMagic) throw new InvalidDataException("a request with a bad magic");
                var request = new Request(
                    Flags: BinaryPrimitives.ReadUInt16BigEndian(header.AsSpan(4)),
                    Type: BinaryPrimitives.ReadUInt16BigEndian(header.AsSpan(6)),
                    Handle: BinaryPrimitives.ReadUInt64BigEndian(header.AsSpan(8)),
                    Offset: BinaryPrimitives.ReadUInt64BigEndian(header.AsSpan(16)),
                    Length: BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(24)));
                if (request.Type == CmdDisc) break;
                byte[]? payload = null;
                if (request.Type == CmdWrite)
                {
                    if (request.Length > MaximumBlock)
                    {
                        if (request.Length > MaxDrainedPayload) throw new InvalidDataException($"a {request.Length}-byte write");
                        await DrainAsync(request.Length, cancellationToken);
                        await ReplyErrorAsync(request, EINVAL, "longer than the maximum block size", cancellationToken);
                        continue;
                    }
                    payload = ArrayPool<byte>.Shared.Rent((int)Math.Max(request.Length, 1));
                    await ReadExactlyAsync(payload.AsMemory(0, (int)request.Length), cancellationToken);
                }
                await slots.WaitAsync(cancellationToken);
                var task = ServeAsync(device, request, payload, slots, cancellationToken);
                lock (inFlight)
                {
                    inFlight.RemoveAll(t => t.IsCompleted);
                    inFlight.Add(task);
                }
            }
        }
        finally
        {
            // Every request that was read is answered (or abandoned with the connection) before the export is let go.
            Task[] pending;
            lock (inFlight) pending = [.. inFlight];
            await Task.WhenAll(pending);
        }
    }

    private readonly record struct Request(ushort Flags, ushort Type, ulong Handle, ulong Offset, uint Length);

    private async Task DrainAsync(uint length, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            for (long left = length; left > 0;)
            {
                var n = (int)Math.Min(left, buffer.Length);
                await ReadExactlyAsync(buffer.AsMemory(0, n), cancellationToken);
                left -= n;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private async Task ServeAsync(IBlockDevice device, Request request, byte[]? payload, SemaphoreSlim slots, CancellationToken cancellationToken)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            await ServeOneAsync(device, request, payload, cancellationToken);
            NbdMetrics.Served(request.Type, request.Length, System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or OperationCanceledException)
        {
            // The client is gone: there is nobody to answer.
            logger.LogDebug("nbd reply to {Client} not sent: {Reason}", Client, e.Message);
        }
        finally
        {
            if (payload is not null) ArrayPool<byte>.Shared.Return(payload);
            slots.Release();
        }
    }

    private async Task ServeOneAsync(IBlockDevice device, Request r, byte[]? payload, CancellationToken cancellationToken)
    {
        var end = r.Offset + r.Length;
        var outside = end > (ulong)device.Size || end < r.Offset;
        uint? error = r.Type switch
        {
            CmdRead when (r.Flags & ~CmdFlagDf) != 0 => EINVAL,
            CmdRead when outside || r.Length > MaximumBlock => EINVAL,
            CmdWrite when (r.Flags & ~CmdFlagFua) != 0 => EINVAL,
            CmdWrite when outside => ENOSPC,
            CmdFlush when r.Flags != 0 => EINVAL,
            CmdTrim when (r.Flags & ~CmdFlagFua) != 0 || outside => EINVAL,
            CmdCache when r.Flags != 0 || outside => EINVAL,
            CmdWriteZeroes when (r.Flags & ~(CmdFlagFua | CmdFlagNoHole | CmdFlagFastZero)) != 0 => EINVAL,
            CmdWriteZeroes when outside => ENOSPC,
            // Zeroes are written as data only with NO_HOLE, which is not fast.
            CmdWriteZeroes when (r.Flags & (CmdFlagNoHole | CmdFlagFastZero)) == (CmdFlagNoHole | CmdFlagFastZero) => ENOTSUP,
            CmdBlockStatus when (r.Flags & ~CmdFlagReqOne) != 0 || outside || r.Length == 0 || !_allocationContext => EINVAL,
            CmdRead or CmdWrite or CmdFlush or CmdTrim or CmdCache or CmdWriteZeroes or CmdBlockStatus => null,
            _ => EINVAL,
        };
        if (error is { } refused)
        {
            await ReplyErrorAsync(r, refused, refused == ENOSPC || outside ? "outside the export" : "not a request this export takes", cancellationToken);
            return;
        }
        var fua = (r.Flags & CmdFlagFua) != 0;
        var offset = (long)r.Offset;
        try
        {
            switch (r.Type)
            {
                case CmdRead:
                    await ReadAsync(device, r, cancellationToken);
                    return;
                case CmdWrite:
                    if (r.Length > 0) await device.WriteAsync(offset, payload.AsMemory(0, (int)r.Length), fua, cancellationToken);
                    break;
                case CmdFlush:
                    await device.FlushAsync(cancellationToken);
                    break;
                case CmdTrim:
                    if (r.Length > 0) await device.ZeroAsync(offset, r.Length, allocate: false, fua, cancellationToken);
                    break;
                case CmdWriteZeroes:
                    if (r.Length > 0) await device.ZeroAsync(offset, r.Length, allocate: (r.Flags & CmdFlagNoHole) != 0, fua, cancellationToken);
                    break;
                case CmdBlockStatus:
                    await BlockStatusAsync(device, r, cancellationToken);
                    return;
            }
            await ReplySimpleAsync(r.Handle, 0, cancellationToken);
        }
        catch (BlockDeviceException e)
        {
            logger.LogWarning("nbd {Command} of {Export} at {Offset}+{Length}: {Reason}", r.Type, device.Name, r.Offset, r.Length, e.Message);
            await ReplyErrorAsync(r, e.NbdError, e.Message, cancellationToken);
        }
        catch (ArgumentOutOfRangeException e)
        {
            await ReplyErrorAsync(r, EINVAL, e.Message, cancellationToken);
        }
    }

    private async Task ReadAsync(IBlockDevice device, Request r, CancellationToken cancellationToken)
    {
        // The reply's header goes in front of the data in one buffer, so each reply is one write.
        var headerLength = _structured ? ChunkHeader + 8 : SimpleHeader;
        var buffer = ArrayPool<byte>.Shared.Rent(headerLength + (int)r.Length);
        try
        {
            try
            {
                await device.ReadAsync((long)r.Offset, buffer.AsMemory(headerLength, (int)r.Length), cancellationToken);
            }
            catch (BlockDeviceException e)
            {
                logger.LogWarning("nbd read of {Export} at {Offset}+{Length}: {Reason}", device.Name, r.Offset, r.Length, e.Message);
                await ReplyErrorAsync(r, e.NbdError, e.Message, cancellationToken);
                return;
            }
            if (_structured)
            {
                WriteChunkHeader(buffer, ReplyFlagDone, ReplyOffsetData, r.Handle, 8 + r.Length);
                BinaryPrimitives.WriteUInt64BigEndian(buffer.AsSpan(ChunkHeader), r.Offset);
            }
            else WriteSimpleHeader(buffer, 0, r.Handle);
            await SendAsync(buffer.AsMemory(0, headerLength + (int)r.Length), cancellationToken);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private async Task BlockStatusAsync(IBlockDevice device, Request r, CancellationToken cancellationToken)
    {
        var runs = await device.AllocationAsync((long)r.Offset, r.Length, cancellationToken);
        if ((r.Flags & CmdFlagReqOne) != 0 && runs.Count > 1) runs = [(Math.Min(runs[0].Length, r.Length), runs[0].Hole)];
        var reply = new byte[ChunkHeader + 4 + 8 * runs.Count];
        WriteChunkHeader(reply, ReplyFlagDone, ReplyBlockStatus, r.Handle, (uint)(4 + 8 * runs.Count));
        BinaryPrimitives.WriteUInt32BigEndian(reply.AsSpan(ChunkHeader), BaseAllocationId);
        for (var i = 0; i < runs.Count; i++)
        {
            BinaryPrimitives.WriteUInt32BigEndian(reply.AsSpan(ChunkHeader + 4 + 8 * i), (uint)runs[i].Length);
            BinaryPrimitives.WriteUInt32BigEndian(reply.AsSpan(ChunkHeader + 8 + 8 * i), runs[i].Hole ? StateHole | StateZero : 0);
        }
        await SendAsync(reply, cancellationToken);
    }

    private Task ReplySimpleAsync(ulong handle, uint error, CancellationToken cancellationToken)
    {
        var reply = new byte[SimpleHeader];
        WriteSimpleHeader(reply, error, handle);
        return SendAsync(reply, cancellationToken);
    }

    /// <summary>An error: a structured ERROR chunk when structured replies are on (READ must have one), a simple reply otherwise.</summary>
    private Task ReplyErrorAsync(Request r, uint error, string message, CancellationToken cancellationToken)
    {
        if (!_structured) return ReplySimpleAsync(r.Handle, error, cancellationToken);
        var text = Encoding.UTF8.GetBytes(message.Length > 200 ? message[..200] : message);
        var reply = new byte[ChunkHeader + 6 + text.Length];
        WriteChunkHeader(reply, ReplyFlagDone, ReplyError, r.Handle, (uint)(6 + text.Length));
        BinaryPrimitives.WriteUInt32BigEndian(reply.AsSpan(ChunkHeader), error);
        BinaryPrimitives.WriteUInt16BigEndian(reply.AsSpan(ChunkHeader + 4), (ushort)text.Length);
        text.CopyTo(reply, ChunkHeader + 6);
        return SendAsync(reply, cancellationToken);
    }

    private static void WriteSimpleHeader(Span<byte> buffer, uint error, ulong handle)
    {
        BinaryPrimitives.WriteUInt32BigEndian(buffer, SimpleReplyMagic);
        BinaryPrimitives.WriteUInt32BigEndian(buffer[4..], error);
        BinaryPrimitives.WriteUInt64BigEndian(buffer[8..], handle);
    }

    private static void WriteChunkHeader(Span<byte> buffer, ushort flags, ushort type, ulong handle, uint length)
    {
        BinaryPrimitives.WriteUInt32BigEndian(buffer, StructuredReplyMagic);
        BinaryPrimitives.WriteUInt16BigEndian(buffer[4..], flags);
        BinaryPrimitives.WriteUInt16BigEndian(buffer[6..], type);
        BinaryPrimitives.WriteUInt64BigEndian(buffer[8..], handle);
        BinaryPrimitives.WriteUInt32BigEndian(buffer[16..], length);
    }

    private async Task SendAsync(ReadOnlyMemory<byte> reply, CancellationToken cancellationToken)
    {
        await _write.WaitAsync(cancellationToken);
        try
        {
            await _network.WriteAsync(reply, cancellationToken);
        }
        finally
        {
            _write.Release();
        }
    }
}
