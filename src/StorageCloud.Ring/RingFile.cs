using System.Buffers.Binary;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace StorageCloud.Ring;

/// <summary>
/// Swift's ring file, format version 1: gzip of "R1NG", a big-endian u16 version, a big-endian u32 length,
/// that many bytes of JSON (devs, part_shift, replica_count, byteorder), then each replica row as u16 device
/// ids in the byte order the JSON names. Files written here load in Swift's Ring class and vice versa.
/// </summary>
public static class RingFile
{
    private static readonly byte[] Magic = "R1NG"u8.ToArray();

    /// <summary>Reads a ring file; throws <see cref="RingFormatException"/> with the reason when it is not one.</summary>
    public static RingData Read(string path)
    {
        using var file = File.OpenRead(path);
        return Read(file);
    }

    /// <summary>Reads a ring from a gzip stream.</summary>
    public static RingData Read(Stream compressed)
    {
        try
        {
            using var gzip = new GZipStream(compressed, CompressionMode.Decompress, leaveOpen: true);
            using var buffered = new BufferedStream(gzip, 1 << 16);
            Span<byte> header = stackalloc byte[10];
            ReadExactly(buffered, header, "header");
            if (!header[..4].SequenceEqual(Magic))
                throw new RingFormatException("not a ring file (no R1NG magic; old pickled rings are not supported)");
            var version = BinaryPrimitives.ReadUInt16BigEndian(header[4..]);
            if (version != 1) throw new RingFormatException($"unknown ring format version {version}");
            var jsonLength = BinaryPrimitives.ReadUInt32BigEndian(header[6..]);
            if (jsonLength > 256 * 1024 * 1024) throw new RingFormatException($"metadata length {jsonLength} is implausible");
            var json = new byte[jsonLength];
            ReadExactly(buffered, json, "metadata");
            var meta = JsonNode.Parse(json)?.AsObject() ?? throw new RingFormatException("metadata is not a JSON object");

            var partShift = Int(meta, "part_shift");
            if (partShift is < 0 or > 32) throw new RingFormatException($"part_shift {partShift} is outside 0..32");
            var partPower = 32 - partShift;
            var replicaRows = Int(meta, "replica_count");
            if (replicaRows is < 0 or > 64) throw new RingFormatException($"replica_count {replicaRows} is implausible");
            var littleEndian = (meta["byteorder"]?.GetValue<string>() ?? (BitConverter.IsLittleEndian ? "little" : "big")) == "little";
            var devices = ReadDevices(meta["devs"] as JsonArray ?? throw new RingFormatException("metadata has no devs list"));

            var partitions = 1L << partPower;
            var rows = new List<ushort[]>(replicaRows);
            var bytes = new byte[partitions * 2];
            for (var r = 0; r < replicaRows; r++)
            {
                // The last row of a fractional replica count is shorter; it ends where the file ends.
                var read = buffered.ReadAtLeast(bytes, bytes.Length, throwOnEndOfStream: false);
                if (read % 2 != 0 || (read < bytes.Length && r < replicaRows - 1))
                    throw new RingFormatException($"replica row {r} is truncated ({read} of {bytes.Length} bytes)");
                var row = new ushort[read / 2];
                for (var p = 0; p < row.Length; p++)
                {
                    row[p] = littleEndian
                        ? BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(p * 2))
                        : BinaryPrimitives.ReadUInt16BigEndian(bytes.AsSpan(p * 2));
                }
                rows.Add(row);
            }
            int? ringVersion = meta["version"] is JsonValue v ? v.GetValue<int>() : null;
            int? next = meta["next_part_power"] is JsonValue n ? n.GetValue<int>() : null;
            return new RingData(partPower, devices, [.. rows], ringVersion, next);
        }
        catch (Exception e) when (e is InvalidDataException or JsonException or InvalidOperationException or FormatException or EndOfStreamException)
        {
            throw new RingFormatException($"damaged ring file: {e.Message}", e);
        }
    }

    private static void ReadExactly(Stream stream, Span<byte> buffer, string what)
    {
        if (stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false) != buffer.Length)
            throw new RingFormatException($"ring file ends inside its {what}");
    }

    private static int Int(JsonObject meta, string key)
        => meta[key] is JsonValue value ? value.GetValue<int>() : throw new RingFormatException($"metadata has no {key}");

    private static List<RingDevice?> ReadDevices(JsonArray devs)
    {
        var devices = new List<RingDevice?>(devs.Count);
        foreach (var node in devs)
        {
            if (node is not JsonObject d)
            {
                devices.Add(null);
                continue;
            }
            var ip = d["ip"]?.GetValue<string>() ?? throw new RingFormatException("a device has no ip");
            var port = d["port"]!.GetValue<int>();
            devices.Add(new RingDevice
            {
                Id = d["id"]!.GetValue<int>(),
                Region = d["region"] is JsonValue region ? region.GetValue<int>() : 1,
                Zone = d["zone"]!.GetValue<int>(),
                Ip = ip,
                Port = port,
                ReplicationIp = d["replication_ip"]?.GetValue<string>() is { } rip && rip != ip ? rip : null,
                ReplicationPort = d["replication_port"] is JsonValue rp && rp.GetValue<int>() != port ? rp.GetValue<int>() : null,
                Device = d["device"]?.GetValue<string>() ?? "",
                Weight = d["weight"] is JsonValue w ? w.GetValue<double>() : 0,
                Meta = d["meta"]?.GetValue<string>() ?? "",
            });
        }
        return devices;
    }

    /// <summary>Writes the ring atomically (temporary file, fsync, rename) and returns the file's MD5.</summary>
    public static string Write(RingData ring, string path)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var temp = Path.Combine(directory, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
            {
                using (var gzip = new GZipStream(file, CompressionLevel.Optimal, leaveOpen: true))
                    Write(ring, gzip);
                file.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
        using var written = File.OpenRead(path);
        return Convert.ToHexStringLower(MD5.HashData(written));
    }

    /// <summary>Writes the uncompressed ring format to <paramref name="output"/>.</summary>
    public static void Write(RingData ring, Stream output)
    {
        var meta = new SortedDictionary<string, object?>(StringComparer.Ordinal)
        {
            ["byteorder"] = "little",
            ["devs"] = ring.Devices.Select(DeviceJson).ToList(),
            ["part_shift"] = 32 - ring.PartPower,
            ["replica_count"] = ring.Replica2Part2Dev.Length,
        };
        if (ring.Version is { } version) meta["version"] = version;
        if (ring.NextPartPower is { } next) meta["next_part_power"] = next;
        var json = JsonSerializer.SerializeToUtf8Bytes(meta, new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.Default });
        Span<byte> header = stackalloc byte[10];
        Magic.CopyTo(header);
        BinaryPrimitives.WriteUInt16BigEndian(header[4..], 1);
        BinaryPrimitives.WriteUInt32BigEndian(header[6..], (uint)json.Length);
        output.Write(header);
        output.Write(json);
        foreach (var row in ring.Replica2Part2Dev)
        {
            var bytes = new byte[row.Length * 2];
            for (var p = 0; p < row.Length; p++) BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(p * 2), row[p]);
            output.Write(bytes);
        }
    }

    private static SortedDictionary<string, object>? DeviceJson(RingDevice? d) => d is null ? null : new(StringComparer.Ordinal)
    {
        ["id"] = d.Id,
        ["region"] = d.Region,
        ["zone"] = d.Zone,
        ["ip"] = d.Ip,
        ["port"] = d.Port,
        ["replication_ip"] = d.EffectiveReplicationIp,
        ["replication_port"] = d.EffectiveReplicationPort,
        ["device"] = d.Device,
        ["weight"] = d.Weight,
        ["meta"] = d.Meta,
    };

    /// <summary>The MD5 of a ring file as stored (what /recon reports).</summary>
    public static string FileMd5(string path)
    {
        using var file = File.OpenRead(path);
        return Convert.ToHexStringLower(MD5.HashData(file));
    }
}
