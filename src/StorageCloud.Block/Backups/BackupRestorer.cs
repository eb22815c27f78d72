using System.Buffers;
using StorageCloud.ObjectLayer;

namespace StorageCloud.Block.Backups;

/// <summary>Where a restore reads a backup's objects from: the object layer in the service, the Swift API from the CLI.</summary>
public interface IBackupObjects
{
    /// <summary>Reads <paramref name="destination"/>.Length bytes of object <paramref name="name"/> from <paramref name="offset"/>; <see cref="ObjectNotFoundException"/> when it is gone.</summary>
    Task ReadAsync(string name, long offset, Memory<byte> destination, CancellationToken cancellationToken);

    /// <summary>Reads a whole (small) object.</summary>
    Task<byte[]> ReadAllAsync(string name, CancellationToken cancellationToken);
}

/// <summary>What a restore writes: a volume's device, or a raw file.</summary>
public interface IBackupTarget
{
    /// <summary>True when the target reads as zeros already (a new volume, a new file): zero blocks are not written.</summary>
    bool Blank { get; }

    ValueTask WriteAsync(long offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken);

    ValueTask ZeroAsync(long offset, long length, CancellationToken cancellationToken);

    ValueTask FlushAsync(CancellationToken cancellationToken);
}

/// <summary>
/// Restores a backup from its manifest alone: block records are fetched in runs (neighbouring records of one pack in
/// one ranged read), each decoded and checked against its SHA-256 before it is written; blocks the manifest does not
/// list are zeros. A missing or damaged block stops the restore with <see cref="BackupCorruptException"/> naming the
/// backup and the block.
/// </summary>
public static class BackupRestorer
{
    private const int MaxRunBytes = 16 << 20;

    /// <summary>Reads and checks a manifest object.</summary>
    public static async Task<BackupManifest> ReadManifestAsync(IBackupObjects source, string name, string backup, CancellationToken cancellationToken)
    {
        try
        {
            return BackupManifest.Parse(await source.ReadAllAsync(name, cancellationToken));
        }
        catch (ObjectNotFoundException)
        {
            throw new BackupCorruptException($"backup {backup}: its manifest {name} is missing");
        }
        catch (InvalidDataException e)
        {
            throw new BackupCorruptException($"backup {backup}: its manifest {name} is damaged: {e.Message}");
        }
    }

    /// <summary>Restores the backup into <paramref name="target"/>; <paramref name="progress"/> hears the percent done.</summary>
    public static async Task RestoreAsync(BackupManifest manifest, IBackupObjects source, IBackupTarget target, int parallelism, Func<int, Task>? progress,
        CancellationToken cancellationToken)
    {
        var runs = Runs(manifest.Blocks);
        long total = Math.Max(1, manifest.Blocks.Count), done = 0;
        var lastReported = -1;
        await Parallel.ForEachAsync(runs, new ParallelOptions { MaxDegreeOfParallelism = parallelism, CancellationToken = cancellationToken }, async (run, ct) =>
        {
            var buffer = ArrayPool<byte>.Shared.Rent((int)(run.End - run.Start));
            var block = ArrayPool<byte>.Shared.Rent(manifest.BlockSize);
            try
            {
                try
                {
                    await source.ReadAsync(run.Pack, run.Start, buffer.AsMemory(0, (int)(run.End - run.Start)), ct);
                }
                catch (ObjectNotFoundException)
                {
                    throw new BackupCorruptException($"backup {manifest.BackupId}: block {run.Blocks[0].Index} (sha256 {run.Blocks[0].Sha256}) is missing: pack {run.Pack} is gone");
                }
                catch (Exception e) when (e is EndOfStreamException || e is ObjectLayerException { Status: 416 })
                {
                    throw new BackupCorruptException($"backup {manifest.BackupId}: block {run.Blocks[0].Index} (sha256 {run.Blocks[0].Sha256}) is missing: pack {run.Pack} is too short");
                }
                foreach (var entry in run.Blocks)
                {
                    int length;
                    try
                    {
                        length = BackupBlocks.Decode(buffer.AsSpan((int)(entry.Offset - run.Start), entry.Length), Convert.FromHexString(entry.Sha256), block);
                    }
                    catch (InvalidDataException e)
                    {
                        throw new BackupCorruptException($"backup {manifest.BackupId}: block {entry.Index} (sha256 {entry.Sha256}) in {entry.Pack} at {entry.Offset} is corrupt: {e.Message}");
                    }
                    var at = entry.Index * manifest.BlockSize;
                    if (length != Math.Min(manifest.BlockSize, manifest.Size - at))
                        throw new BackupCorruptException($"backup {manifest.BackupId}: block {entry.Index} (sha256 {entry.Sha256}) has {length} bytes, not the block's length");
                    await target.WriteAsync(at, block.AsMemory(0, length), ct);
                    var percent = (int)(Interlocked.Increment(ref done) * 100 / total);
                    if (progress is not null && percent % 5 == 0 && Interlocked.Exchange(ref lastReported, percent) != percent) await progress(Math.Min(percent, 99));
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(block);
                ArrayPool<byte>.Shared.Return(buffer);
            }
        });
        if (!target.Blank) await ZeroGapsAsync(manifest, target, cancellationToken);
        await target.FlushAsync(cancellationToken);
    }

    /// <summary>Zeroes every range of the volume no listed block covers (restoring over an existing volume).</summary>
    private static async Task ZeroGapsAsync(BackupManifest manifest, IBackupTarget target, CancellationToken cancellationToken)
    {
        var listed = new HashSet<long>();
        foreach (var block in manifest.Blocks) listed.Add(block.Index);
        var count = (manifest.Size + manifest.BlockSize - 1) / manifest.BlockSize;
        long start = -1;
        for (long i = 0; i <= count; i++)
        {
            var gap = i < count && !listed.Contains(i);
            if (gap && start < 0) start = i;
            if (!gap && start >= 0)
            {
                var from = start * manifest.BlockSize;
                await target.ZeroAsync(from, Math.Min(i * (long)manifest.BlockSize, manifest.Size) - from, cancellationToken);
                start = -1;
            }
        }
    }

    private sealed record Run(string Pack, long Start, long End, List<BackupBlock> Blocks);

    /// <summary>The manifest's records grouped into reads: records of one pack that follow each other, up to 16 MiB a read.</summary>
    private static List<Run> Runs(List<BackupBlock> blocks)
    {
        var sorted = new List<BackupBlock>(blocks);
        sorted.Sort((a, b) => string.CompareOrdinal(a.Pack, b.Pack) is var c && c != 0 ? c : a.Offset.CompareTo(b.Offset));
        var runs = new List<Run>();
        Run? open = null;
        foreach (var block in sorted)
        {
            var end = block.Offset + block.Length;
            if (open is not null && open.Pack == block.Pack && block.Offset >= open.Start && block.Offset <= open.End && end - open.Start <= MaxRunBytes)
            {
                open.Blocks.Add(block);
                if (end > open.End) open = open with { End = end };
                runs[^1] = open;
                continue;
            }
            open = new Run(block.Pack, block.Offset, end, [block]);
            runs.Add(open);
        }
        return runs;
    }
}
