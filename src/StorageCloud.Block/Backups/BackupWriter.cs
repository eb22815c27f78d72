using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using StorageCloud.Block.Chunks;
using StorageCloud.Block.Devices;
using StorageCloud.ObjectLayer;
using StorageCloud.Storage.Chunks;

namespace StorageCloud.Block.Backups;

/// <summary>
/// Writes one backup: reads the frozen layer chunk by chunk, skipping chunks no layer holds (holes) and, for an
/// incremental backup, chunks whose block-store version is the one the parent backup read (their blocks are the
/// parent's, taken without reading). Each other chunk is split into blocks; zero blocks are left out, the rest are
/// addressed by SHA-256, reused when the account already stores that digest, and otherwise compressed and gathered
/// into pack objects. The manifest is written last: until it is, the backup is not restorable and says so.
/// </summary>
internal sealed class BackupWriter(BackupSettings settings, ObjectStore objects, BackupCatalog catalog, ChunkPlacement placement, ILogger logger, BackupRow row)
{
    private readonly SemaphoreSlim _packGate = new(1, 1);
    private readonly Dictionary<string, (string Pack, long Offset, int Length)> _pending = new(StringComparer.Ordinal);
    private readonly List<BackupBlockRow> _packBlocks = [];
    private readonly List<BackupBlock> _blocks = [];
    private byte[]? _pack;
    private int _packLength;
    private string _packName = "";
    private long _storedBytes;
    private long _objects;

    /// <summary>Bytes the backup added (packs and manifest).</summary>
    public long StoredBytes => Interlocked.Read(ref _storedBytes);

    /// <summary>Objects the backup wrote.</summary>
    public long Objects => Interlocked.Read(ref _objects);

    /// <summary>Writes the backup of <paramref name="source"/>; <paramref name="manifest"/> comes with its descriptive fields set and leaves complete.</summary>
    public async Task WriteAsync(FrozenLayer source, BackupManifest manifest, BackupManifest? parent, Func<int, Task> progress, CancellationToken cancellationToken)
    {
        var chunkCount = (manifest.Size + ChunkId.Size - 1) / ChunkId.Size;
        var perChunk = ChunkId.Size / settings.BlockBytes;
        var inherited = new Dictionary<long, BackupBlock>();
        if (parent is not null && parent.BlockSize == settings.BlockBytes)
            foreach (var block in parent.Blocks) inherited[block.Index] = block;
        else parent = null;
        var chunks = new Dictionary<string, string>();
        var done = 0L;
        var lastReported = -1;
        try
        {
            await Parallel.ForEachAsync(LongRange(chunkCount), new ParallelOptions { MaxDegreeOfParallelism = settings.Parallelism, CancellationToken = cancellationToken },
                async (index, ct) =>
                {
                    if (source.Holder((ulong)index) is { } holder)
                    {
                        var identity = holder.Layer.Id.ToString("N") + ":" + holder.Version.ToString(CultureInfo.InvariantCulture);
                        var key = index.ToString(CultureInfo.InvariantCulture);
                        lock (chunks) chunks[key] = identity;
                        if (parent is not null && parent.Chunks.TryGetValue(key, out var before) && before == identity) Inherit(index, perChunk, inherited);
                        else await BackUpChunkAsync(source, index, manifest.Size, ct);
                    }
                    var percent = (int)(Interlocked.Increment(ref done) * 100 / chunkCount);
                    if (percent != Volatile.Read(ref lastReported) && percent % 5 == 0)
                    {
                        Volatile.Write(ref lastReported, percent);
                        await progress(Math.Min(percent, 99));
                    }
                });
            await _packGate.WaitAsync(cancellationToken);
            try
            {
                await FlushPackAsync(cancellationToken);
            }
            finally
            {
                _packGate.Release();
            }
            // The parent's blocks this backup takes over are used by it too (the parent cannot go while an increment depends on it,
            // but the increment must keep them once the parent is gone).
            var digests = new HashSet<string>(StringComparer.Ordinal);
            foreach (var block in _blocks) digests.Add(block.Sha256);
            foreach (var batch in digests.Chunk(500)) await catalog.ReferenceAsync(row.Id, row.Account, row.Container, batch);
            manifest.Chunks = chunks;
            _blocks.Sort((a, b) => a.Index.CompareTo(b.Index));
            manifest.Blocks = _blocks;
            var bytes = manifest.ToBytes();
            await objects.PutAsync(row.Account, row.Container, row.Manifest, new MemoryStream(bytes), bytes.Length,
                new PutOptions { ContentType = "application/json" }, cancellationToken);
            Interlocked.Add(ref _storedBytes, bytes.Length);
            Interlocked.Increment(ref _objects);
        }
        finally
        {
            if (_pack is not null) ArrayPool<byte>.Shared.Return(_pack);
            _pack = null;
        }
    }

    private static IEnumerable<long> LongRange(long count)
    {
        for (long i = 0; i < count; i++) yield return i;
    }

    private void Inherit(long chunk, int perChunk, Dictionary<long, BackupBlock> inherited)
    {
        lock (_blocks)
        {
            for (var b = chunk * perChunk; b < (chunk + 1) * perChunk; b++)
                if (inherited.TryGetValue(b, out var block)) _blocks.Add(block);
        }
    }

    private async Task BackUpChunkAsync(FrozenLayer source, long index, long size, CancellationToken cancellationToken)
    {
        var length = (int)Math.Min(ChunkId.Size, size - index * ChunkId.Size);
        var buffer = ArrayPool<byte>.Shared.Rent(ChunkId.Size);
        var record = ArrayPool<byte>.Shared.Rent(BackupBlocks.MaxRecordBytes(settings.BlockBytes));
        try
        {
            await source.ReadAsync((ulong)index, buffer.AsMemory(0, length), placement, logger, cancellationToken);
            var blocks = new List<(long Index, int Offset, int Length, string Digest)>();
            for (var offset = 0; offset < length; offset += settings.BlockBytes)
            {
                var piece = buffer.AsSpan(offset, Math.Min(settings.BlockBytes, length - offset));
                // Zero blocks are not stored: a block the manifest does not list restores as zeros.
                if (!piece.ContainsAnyExcept((byte)0)) continue;
                var digest = Convert.ToHexStringLower(SHA256.HashData(piece));
                blocks.Add((index * (ChunkId.Size / settings.BlockBytes) + offset / settings.BlockBytes, offset, piece.Length, digest));
            }
            if (blocks.Count == 0) return;
            var stored = await catalog.ReferenceAsync(row.Id, row.Account, row.Container, blocks.Select(b => b.Digest).ToList());
            foreach (var (blockIndex, offset, pieceLength, digest) in blocks)
            {
                if (stored.TryGetValue(digest, out var existing))
                {
                    Add(new BackupBlock { Index = blockIndex, Sha256 = digest, Pack = existing.Pack, Offset = existing.Position, Length = existing.Length });
                    continue;
                }
                var recordLength = BackupBlocks.Encode(buffer.AsSpan(offset, pieceLength), Convert.FromHexString(digest), settings.Compression, record);
                var (pack, at, written) = await AppendAsync(digest, record.AsMemory(0, recordLength), cancellationToken);
                Add(new BackupBlock { Index = blockIndex, Sha256 = digest, Pack = pack, Offset = at, Length = written });
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(record);
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private void Add(BackupBlock block)
    {
        lock (_blocks) _blocks.Add(block);
    }

    /// <summary>Appends a record to the open pack (unless this backup packed the same digest already); writes the pack once full.</summary>
    private async Task<(string Pack, long Offset, int Length)> AppendAsync(string digest, ReadOnlyMemory<byte> record, CancellationToken cancellationToken)
    {
        await _packGate.WaitAsync(cancellationToken);
        try
        {
            if (_pending.TryGetValue(digest, out var known)) return known;
            if (_pack is null)
            {
                _pack = ArrayPool<byte>.Shared.Rent(settings.PackBytes + BackupBlocks.MaxRecordBytes(settings.BlockBytes));
                _packLength = 0;
                _packName = $"packs/{row.Id}/{Guid.NewGuid():N}";
            }
            record.Span.CopyTo(_pack.AsSpan(_packLength));
            var place = (_packName, (long)_packLength, record.Length);
            _pending[digest] = place;
            _packBlocks.Add(new BackupBlockRow
            {
                Id = $"{_packName}@{_packLength}", Account = row.Account, Container = row.Container, Digest = digest, Pack = _packName, Position = _packLength,
                Length = record.Length,
            });
            _packLength += record.Length;
            if (_packLength >= settings.PackBytes) await FlushPackAsync(cancellationToken);
            return place;
        }
        finally
        {
            _packGate.Release();
        }
    }

    /// <summary>Writes the open pack (durably: the object store acknowledges after fsync) and then makes its blocks findable. Runs under the pack gate.</summary>
    private async Task FlushPackAsync(CancellationToken cancellationToken)
    {
        if (_pack is null || _packLength == 0) return;
        await catalog.BeginPackAsync(new BackupPackRow
        {
            Id = _packName, Account = row.Account, Container = row.Container, BackupId = row.Id, Bytes = _packLength,
            CreatedAt = DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture),
        });
        await objects.PutAsync(row.Account, row.Container, _packName, new MemoryStream(_pack, 0, _packLength, writable: false), _packLength,
            new PutOptions { ContentType = "application/octet-stream" }, cancellationToken);
        await catalog.CommitPackAsync(_packName, _packBlocks);
        Interlocked.Add(ref _storedBytes, _packLength);
        Interlocked.Increment(ref _objects);
        _packBlocks.Clear();
        _pending.Clear();
        ArrayPool<byte>.Shared.Return(_pack);
        _pack = null;
        _packLength = 0;
    }
}
