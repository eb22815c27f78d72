using StorageCloud.Common.Hashing;

namespace StorageCloud.Storage.Chunks;

/// <summary>
/// The bytes of a chunk write with their per-page CRCs, computed once however many replicas in this process store
/// them (the all-in-one writes three), and the whole data's CRC combined from the pages' rather than read again.
/// </summary>
public sealed class ChunkPayload(ReadOnlyMemory<byte> data)
{
    private static readonly uint PageShift = Crc32C.ShiftOperator(ChunkFormat.PageSize);
    private uint[]? _pageCrcs;
    private uint _dataCrc;
    private object? _lock;
    private bool _computed;

    /// <summary>The bytes.</summary>
    public ReadOnlyMemory<byte> Data { get; } = data;

    /// <summary>The CRC of each 4 KiB page of the data (the last may be shorter).</summary>
    public ReadOnlySpan<uint> PageCrcs
    {
        get
        {
            EnsureComputed();
            return _pageCrcs;
        }
    }

    /// <summary>The CRC of the whole data.</summary>
    public uint DataCrc
    {
        get
        {
            EnsureComputed();
            return _dataCrc;
        }
    }

    public static implicit operator ChunkPayload(byte[] data) => new(data);

    public static implicit operator ChunkPayload(ReadOnlyMemory<byte> data) => new(data);

    private void EnsureComputed() => LazyInitializer.EnsureInitialized(ref _pageCrcs, ref _computed, ref _lock, Compute);

    private uint[] Compute()
    {
        var span = Data.Span;
        var pages = (span.Length + ChunkFormat.PageSize - 1) / ChunkFormat.PageSize;
        var crcs = new uint[pages];
        uint whole = 0;
        for (var i = 0; i < pages; i++)
        {
            var page = span.Slice(i * ChunkFormat.PageSize, Math.Min(ChunkFormat.PageSize, span.Length - i * ChunkFormat.PageSize));
            crcs[i] = Crc32C.Compute(page);
            whole = i == 0 ? crcs[i] : page.Length == ChunkFormat.PageSize ? Crc32C.Combine(whole, crcs[i], PageShift) : Crc32C.Combine(whole, crcs[i], page.Length);
        }
        _dataCrc = whole;
        return crcs;
    }
}
