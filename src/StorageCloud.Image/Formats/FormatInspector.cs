using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace StorageCloud.Image.Formats;

/// <summary>What the inspector found: the format, its virtual size, and why it is unsafe (null when it is not).</summary>
public sealed record InspectedImage(string Format, long VirtualSize, string? Problem);

/// <summary>
/// Reads an image as it streams past and tells its real format and virtual size from headers and metadata only
/// (qemu is never asked to probe hostile data): raw, qcow2, vmdk, vhd, vhdx, vdi and iso. It keeps the first
/// <see cref="HeadBytes"/> bytes (where every header and metadata table of interest lies) and the last 512 (a
/// fixed VHD's footer). Unsafe images are the known attacks on image services: a qcow2 with a backing file, an
/// external data file or feature bits it cannot vouch for; a vmdk that is not monolithicSparse or streamOptimized or
/// whose descriptor names other files; differencing VHD, VHDX and VDI images (their parents are other files); data
/// that more than one format claims (a polyglot).
/// </summary>
public sealed class FormatInspector : IDisposable
{
    /// <summary>Bytes kept from the start: enough for a VHDX's metadata region at the offsets qemu and Hyper-V use.</summary>
    public const int HeadBytes = 8 << 20;

    private const int TailBytes = 512;
    private static readonly Guid VhdxMetadataRegion = Guid.Parse("8B7CA206-4790-4B9A-B8FE-575F050F886E");
    private static readonly Guid VhdxVirtualDiskSize = Guid.Parse("2FA54224-CD1B-4876-B211-5DBED83BF4B8");
    private static readonly Guid VhdxParentLocator = Guid.Parse("A8D35F2D-B30B-454D-ABF7-D3D84834AB0C");

    private byte[]? _head = ArrayPool<byte>.Shared.Rent(HeadBytes);
    private readonly byte[] _tail = new byte[TailBytes];
    private int _headLength;
    private long _total;

    /// <summary>Bytes seen so far.</summary>
    public long Length => _total;

    /// <summary>Takes the next bytes of the image.</summary>
    public void Write(ReadOnlySpan<byte> data)
    {
        if (_head is null) throw new ObjectDisposedException(nameof(FormatInspector));
        var toHead = Math.Min(data.Length, HeadBytes - _headLength);
        if (toHead > 0)
        {
            data[..toHead].CopyTo(_head.AsSpan(_headLength));
            _headLength += toHead;
        }
        // The tail is the last 512 bytes seen: shift what stays, then append.
        if (data.Length >= TailBytes) data[^TailBytes..].CopyTo(_tail);
        else
        {
            _tail.AsSpan(data.Length).CopyTo(_tail);
            data.CopyTo(_tail.AsSpan(TailBytes - data.Length));
        }
        _total += data.Length;
    }

    /// <summary>The verdict on everything written.</summary>
    public InspectedImage Inspect()
    {
        if (_head is null) throw new ObjectDisposedException(nameof(FormatInspector));
        var head = _head.AsSpan(0, _headLength);
        var found = new List<InspectedImage>();
        if (Qcow2(head) is { } qcow2) found.Add(qcow2);
        if (Vmdk(head) is { } vmdk) found.Add(vmdk);
        if (Vhd(head) is { } vhd) found.Add(vhd);
        if (Vhdx(head) is { } vhdx) found.Add(vhdx);
        if (Vdi(head) is { } vdi) found.Add(vdi);
        if (Iso(head) is { } iso) found.Add(iso);
        return found.Count switch
        {
            0 => new InspectedImage("raw", _total, null),
            1 => found[0],
            _ => new InspectedImage(found[0].Format, found[0].VirtualSize,
                $"the data matches more than one format ({string.Join(", ", found.Select(f => f.Format))}): a polyglot image is refused"),
        };
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_head is { } head) ArrayPool<byte>.Shared.Return(head);
        _head = null;
    }

    private static InspectedImage? Qcow2(ReadOnlySpan<byte> h)
    {
        if (h.Length < 72 || !h[..4].SequenceEqual((ReadOnlySpan<byte>)[0x51, 0x46, 0x49, 0xfb])) return null;
        var version = BinaryPrimitives.ReadUInt32BigEndian(h[4..]);
        var size = (long)Math.Min(BinaryPrimitives.ReadUInt64BigEndian(h[24..]), long.MaxValue);
        string? problem = null;
        if (version is not (2 or 3)) problem = $"qcow2 version {version} is not 2 or 3";
        else if (BinaryPrimitives.ReadUInt64BigEndian(h[8..]) != 0) problem = "the qcow2 image has a backing file";
        var headerLength = 72u;
        if (problem is null && version == 3)
        {
            if (h.Length < 104) return new InspectedImage("qcow2", size, "the qcow2 v3 header is cut short");
            var incompatible = BinaryPrimitives.ReadUInt64BigEndian(h[72..]);
            // Known and harmless: dirty (bit 0), compression type (bit 3), extended L2 entries (bit 4).
            if ((incompatible & 0b100) != 0) problem = "the qcow2 image has an external data file";
            else if ((incompatible & 0b10) != 0) problem = "the qcow2 image is marked corrupt";
            else if ((incompatible & ~0b11001UL) != 0) problem = $"the qcow2 image has unknown incompatible feature bits (0x{incompatible:x})";
            headerLength = BinaryPrimitives.ReadUInt32BigEndian(h[100..]);
        }
        // Header extensions follow the header: an external data file may also be named there.
        for (var at = (long)headerLength; problem is null; )
        {
            if (at + 8 > h.Length) break;
            var type = BinaryPrimitives.ReadUInt32BigEndian(h[(int)at..]);
            var length = BinaryPrimitives.ReadUInt32BigEndian(h[((int)at + 4)..]);
            if (type == 0) break;
            if (type == 0x44415441) problem = "the qcow2 image names an external data file";
            at += 8 + ((length + 7L) & ~7L);
        }
        return new InspectedImage("qcow2", size, problem);
    }

    private static InspectedImage? Vmdk(ReadOnlySpan<byte> h)
    {
        string descriptor;
        long size = 0;
        if (h.Length >= 64 && h[..4].SequenceEqual("KDMV"u8))
        {
            size = (long)Math.Min(BinaryPrimitives.ReadUInt64LittleEndian(h[12..]), (ulong)(long.MaxValue / 512)) * 512;
            var offset = (long)BinaryPrimitives.ReadUInt64LittleEndian(h[28..]) * 512;
            var length = (long)BinaryPrimitives.ReadUInt64LittleEndian(h[36..]) * 512;
            if (offset == 0 || length == 0) return new InspectedImage("vmdk", size, "the vmdk has no embedded descriptor");
            if (offset + length > h.Length || length > 1 << 20) return new InspectedImage("vmdk", size, "the vmdk descriptor lies outside what can be checked");
            descriptor = Encoding.ASCII.GetString(h.Slice((int)offset, (int)length)).TrimEnd('\0');
        }
        else if (h.StartsWith("# Disk DescriptorFile"u8))
        {
            // A descriptor on its own: its extents are other files by definition.
            descriptor = Encoding.ASCII.GetString(h[..Math.Min(h.Length, 64 << 10)]);
            return new InspectedImage("vmdk", 0, $"a vmdk descriptor file ({CreateType(descriptor) ?? "no createType"}) names other files; only monolithicSparse and streamOptimized are accepted");
        }
        else
        {
            return null;
        }
        var createType = CreateType(descriptor);
        if (createType is not ("monolithicSparse" or "streamOptimized"))
            return new InspectedImage("vmdk", size, $"vmdk createType {createType ?? "(none)"} is not monolithicSparse or streamOptimized");
        var extents = 0;
        foreach (var raw in descriptor.Split('\n'))
        {
            var line = raw.Trim();
            if (!(line.StartsWith("RW ", StringComparison.Ordinal) || line.StartsWith("RDONLY ", StringComparison.Ordinal) || line.StartsWith("NOACCESS ", StringComparison.Ordinal))) continue;
            extents++;
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length < 4 || parts[2] != "SPARSE") return new InspectedImage("vmdk", size, $"the vmdk descriptor's extent '{line}' is not the image's own sparse extent");
        }
        if (extents != 1) return new InspectedImage("vmdk", size, $"the vmdk descriptor names {extents} extents; a monolithic image has exactly one, itself");
        return new InspectedImage("vmdk", size, null);
    }

    private static string? CreateType(string descriptor)
    {
        foreach (var raw in descriptor.Split('\n'))
        {
            var line = raw.Trim();
            if (!line.StartsWith("createType", StringComparison.Ordinal)) continue;
            var eq = line.IndexOf('=');
            return eq < 0 ? null : line[(eq + 1)..].Trim().Trim('"');
        }
        return null;
    }

    private InspectedImage? Vhd(ReadOnlySpan<byte> h)
    {
        // A dynamic VHD repeats its footer at the start; a fixed one has it only at the end.
        ReadOnlySpan<byte> footer = h.Length >= 512 && h.StartsWith("conectix"u8) ? h[..512]
            : _total >= 512 && _tail.AsSpan().StartsWith("conectix"u8) ? _tail : default;
        if (footer.IsEmpty) return null;
        var size = (long)Math.Min(BinaryPrimitives.ReadUInt64BigEndian(footer[48..]), long.MaxValue);
        var type = BinaryPrimitives.ReadUInt32BigEndian(footer[60..]);
        return new InspectedImage("vhd", size, type switch
        {
            2 or 3 => null,
            4 => "the vhd is a differencing disk: its parent is another file",
            _ => $"vhd disk type {type} is unknown",
        });
    }

    private static InspectedImage? Vhdx(ReadOnlySpan<byte> h)
    {
        if (!h.StartsWith("vhdxfile"u8)) return null;
        const int regionTable = 192 << 10;
        if (h.Length < regionTable + 16 || !h.Slice(regionTable, 4).SequenceEqual("regi"u8))
            return new InspectedImage("vhdx", 0, "the vhdx region table is missing");
        var count = BinaryPrimitives.ReadUInt32LittleEndian(h[(regionTable + 8)..]);
        for (var i = 0; i < Math.Min(count, 2047u); i++)
        {
            var entry = regionTable + 16 + (int)i * 32;
            if (entry + 32 > h.Length) break;
            if (new Guid(h.Slice(entry, 16)) != VhdxMetadataRegion) continue;
            var offset = (long)BinaryPrimitives.ReadUInt64LittleEndian(h[(entry + 16)..]);
            if (offset + 32 > h.Length || !h.Slice((int)offset, 8).SequenceEqual("metadata"u8))
                return new InspectedImage("vhdx", 0, "the vhdx metadata region lies outside what can be checked");
            var items = BinaryPrimitives.ReadUInt16LittleEndian(h[((int)offset + 10)..]);
            long size = -1;
            for (var j = 0; j < items; j++)
            {
                var item = (int)offset + 32 + j * 32;
                if (item + 32 > h.Length) break;
                var id = new Guid(h.Slice(item, 16));
                if (id == VhdxParentLocator) return new InspectedImage("vhdx", 0, "the vhdx is a differencing disk: its parent is another file");
                if (id != VhdxVirtualDiskSize) continue;
                var at = offset + BinaryPrimitives.ReadUInt32LittleEndian(h[(item + 16)..]);
                if (at + 8 <= h.Length) size = (long)Math.Min(BinaryPrimitives.ReadUInt64LittleEndian(h[(int)at..]), long.MaxValue);
            }
            return size < 0 ? new InspectedImage("vhdx", 0, "the vhdx has no virtual disk size") : new InspectedImage("vhdx", size, null);
        }
        return new InspectedImage("vhdx", 0, "the vhdx has no metadata region");
    }

    private static InspectedImage? Vdi(ReadOnlySpan<byte> h)
    {
        if (h.Length < 0x178 || BinaryPrimitives.ReadUInt32LittleEndian(h[0x40..]) != 0xBEDA107F) return null;
        var size = (long)Math.Min(BinaryPrimitives.ReadUInt64LittleEndian(h[0x170..]), long.MaxValue);
        var type = BinaryPrimitives.ReadUInt32LittleEndian(h[0x4C..]);
        return new InspectedImage("vdi", size, type is 1 or 2 ? null : $"vdi image type {type} is not a normal or fixed image");
    }

    private static InspectedImage? Iso(ReadOnlySpan<byte> h)
    {
        // The primary volume descriptor may be at any of the first sectors of the volume descriptor set.
        foreach (var at in new[] { 0x8000, 0x8800, 0x9000 })
        {
            if (h.Length < at + 0x84 || !h.Slice(at + 1, 5).SequenceEqual("CD001"u8)) continue;
            if (h[at] != 1) continue;
            var blocks = BinaryPrimitives.ReadUInt32LittleEndian(h[(at + 0x50)..]);
            var blockSize = BinaryPrimitives.ReadUInt16LittleEndian(h[(at + 0x80)..]);
            return new InspectedImage("iso", (long)blocks * blockSize, null);
        }
        return h.Length >= 0x8006 && h.Slice(0x8001, 5).SequenceEqual("CD001"u8) ? new InspectedImage("iso", 0, null) : null;
    }
}
