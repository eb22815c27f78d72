using System.Buffers.Binary;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace StorageCloud.Block.Backups;

/// <summary>How blocks are compressed in packs: LZ4 (the default: fastest), Brotli (smaller, slower), or not at all.</summary>
public enum BackupCompression : byte
{
    None = 0,
    Lz4 = 1,
    Brotli = 2,
}

/// <summary>
/// A backup's manifest: the object <c>manifests/&lt;backup-id&gt;</c> in the backup's container. It alone is enough to
/// restore the volume: every non-zero block with its SHA-256 and where its record lies in a pack; a block it does not
/// list is zeros. <see cref="Chunks"/> names the block store's version of each chunk the backup read, so the next
/// incremental backup re-reads only the chunks whose version changed.
/// </summary>
public sealed class BackupManifest
{
    /// <summary>The format's name and version.</summary>
    public const string CurrentFormat = "storagecloud-backup/1";

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public string Format { get; set; } = CurrentFormat;
    public string BackupId { get; set; } = "";
    public string VolumeId { get; set; } = "";
    public string? SnapshotId { get; set; }
    /// <summary>The backup this one is an increment of, or null for a full backup.</summary>
    public string? ParentId { get; set; }
    /// <summary>The volume's size in bytes.</summary>
    public long Size { get; set; }
    /// <summary>Bytes per block (the last block of the volume may be shorter).</summary>
    public int BlockSize { get; set; }
    public string CreatedAt { get; set; } = "";
    /// <summary>The volume's metadata, bootable flag and image metadata, given back to a volume the backup is restored to.</summary>
    public Dictionary<string, string> VolumeMetadata { get; set; } = [];
    public bool Bootable { get; set; }
    public string? VolumeImageMetadata { get; set; }
    /// <summary>Chunk index → "layer:version" of the chunk the backup read (chunks no layer holds are absent: holes).</summary>
    public Dictionary<string, string> Chunks { get; set; } = [];
    /// <summary>The non-zero blocks, by index.</summary>
    public List<BackupBlock> Blocks { get; set; } = [];

    /// <summary>The manifest as stored.</summary>
    public byte[] ToBytes() => JsonSerializer.SerializeToUtf8Bytes(this, Json);

    /// <summary>Reads a stored manifest; <see cref="InvalidDataException"/> when it is not one this format reads.</summary>
    public static BackupManifest Parse(ReadOnlySpan<byte> bytes)
    {
        BackupManifest? manifest;
        try
        {
            manifest = JsonSerializer.Deserialize<BackupManifest>(bytes, Json);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"the backup manifest is not valid JSON: {e.Message}");
        }
        if (manifest is null || manifest.Format != CurrentFormat) throw new InvalidDataException($"the backup manifest is not in format {CurrentFormat}");
        if (manifest.BlockSize is < 4096 or > 64 << 20 || manifest.Size < 0) throw new InvalidDataException("the backup manifest's block size or volume size is out of range");
        foreach (var block in manifest.Blocks)
        {
            if (block.Index < 0 || (long)block.Index * manifest.BlockSize >= manifest.Size || block.Sha256.Length != 64 || block.Length <= BackupBlocks.HeaderBytes
                || block.Offset < 0 || string.IsNullOrEmpty(block.Pack))
                throw new InvalidDataException($"the backup manifest's entry for block {block.Index} is malformed");
        }
        return manifest;
    }
}

/// <summary>One stored block: its index in the volume, its SHA-256 (hex), and its record's place in a pack object.</summary>
public sealed class BackupBlock
{
    public long Index { get; set; }
    public string Sha256 { get; set; } = "";
    /// <summary>The pack object's name in the backup's container.</summary>
    public string Pack { get; set; } = "";
    public long Offset { get; set; }
    /// <summary>The record's length (header included).</summary>
    public int Length { get; set; }
}

/// <summary>A block that failed its checks on restore: named by backup, index and digest.</summary>
public sealed class BackupCorruptException(string message) : Exception(message);

/// <summary>
/// Block records as packs hold them: a 48-byte header (magic "SCB1", codec, raw length, stored length, SHA-256 of the
/// raw bytes) and the stored bytes. Packs are the concatenation of records, so each is readable on its own.
/// </summary>
public static class BackupBlocks
{
    /// <summary>The header's length.</summary>
    public const int HeaderBytes = 48;

    private const uint Magic = 0x31424353; // "SCB1" little-endian

    /// <summary>The most bytes a record of <paramref name="rawLength"/> bytes takes.</summary>
    public static int MaxRecordBytes(int rawLength) => HeaderBytes + Math.Max(rawLength, Lz4.Bound(rawLength)) + 64;

    /// <summary>Writes a record of <paramref name="raw"/> (whose SHA-256 is <paramref name="digest"/>) into <paramref name="destination"/>; returns its length.</summary>
    public static int Encode(ReadOnlySpan<byte> raw, ReadOnlySpan<byte> digest, BackupCompression compression, Span<byte> destination)
    {
        var body = destination[HeaderBytes..];
        var stored = compression switch
        {
            BackupCompression.Lz4 => Lz4.Compress(raw, body),
            BackupCompression.Brotli => BrotliEncoder.TryCompress(raw, body, out var written, quality: 1, window: 22) ? written : 0,
            _ => 0,
        };
        // Data that does not shrink is kept as it is.
        if (stored <= 0 || stored >= raw.Length)
        {
            compression = BackupCompression.None;
            raw.CopyTo(body);
            stored = raw.Length;
        }
        BinaryPrimitives.WriteUInt32LittleEndian(destination, Magic);
        destination[4] = (byte)compression;
        destination[5] = destination[6] = destination[7] = 0;
        BinaryPrimitives.WriteInt32LittleEndian(destination[8..], raw.Length);
        BinaryPrimitives.WriteInt32LittleEndian(destination[12..], stored);
        digest.CopyTo(destination[16..48]);
        return HeaderBytes + stored;
    }

    /// <summary>
    /// Decodes a record into <paramref name="destination"/> and checks it: the header's digest must be
    /// <paramref name="digest"/> and the decoded bytes must hash to it. Returns the raw length; throws
    /// <see cref="InvalidDataException"/> with the reason otherwise.
    /// </summary>
    public static int Decode(ReadOnlySpan<byte> record, ReadOnlySpan<byte> digest, Span<byte> destination)
    {
        if (record.Length < HeaderBytes || BinaryPrimitives.ReadUInt32LittleEndian(record) != Magic) throw new InvalidDataException("the record's header is missing or damaged");
        var rawLength = BinaryPrimitives.ReadInt32LittleEndian(record[8..]);
        var stored = BinaryPrimitives.ReadInt32LittleEndian(record[12..]);
        if (stored < 0 || stored != record.Length - HeaderBytes || rawLength < 0 || rawLength > destination.Length) throw new InvalidDataException("the record's lengths are inconsistent");
        if (!record[16..48].SequenceEqual(digest)) throw new InvalidDataException("the record holds another block");
        var body = record[HeaderBytes..];
        var output = destination[..rawLength];
        switch ((BackupCompression)record[4])
        {
            case BackupCompression.None when stored == rawLength:
                body.CopyTo(output);
                break;
            case BackupCompression.Lz4 when Lz4.Decompress(body, output) == rawLength:
                break;
            case BackupCompression.Brotli when BrotliDecoder.TryDecompress(body, output, out var written) && written == rawLength:
                break;
            default:
                throw new InvalidDataException("the record does not decompress");
        }
        Span<byte> actual = stackalloc byte[32];
        SHA256.HashData(output, actual);
        if (!actual.SequenceEqual(digest)) throw new InvalidDataException("the block's SHA-256 does not match");
        return rawLength;
    }
}
