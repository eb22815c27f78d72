namespace StorageCloud.Storage.Chunks;

/// <summary>
/// A chunk's extents in memory: non-overlapping pieces sorted by their offset in the chunk. A write replaces what it
/// covers (the pieces it overlaps are cut, never copied), a zero leaves a hole, and what no piece covers reads as
/// zeros and costs nothing. The offsets a change sets or removes are remembered, so the index is updated with only
/// what changed (a 4 KiB write to a chunk of a thousand extents stores one or three keys, never the thousand).
/// </summary>
internal sealed class ExtentMap
{
    private readonly SortedList<uint, ExtentRef> _extents = [];
    private readonly HashSet<uint> _touched = [];

    /// <summary>The pieces, by offset.</summary>
    public IList<uint> Offsets => _extents.Keys;

    /// <summary>The pieces, in offset order.</summary>
    public IEnumerable<(uint Offset, ExtentRef Extent)> Pieces
    {
        get
        {
            foreach (var (offset, extent) in _extents) yield return (offset, extent);
        }
    }

    /// <summary>How many pieces.</summary>
    public int Count => _extents.Count;

    /// <summary>Adds a piece as it is stored (loading).</summary>
    public void Load(uint offset, ExtentRef extent) => _extents[offset] = extent;

    /// <summary>Puts <paramref name="extent"/> at <paramref name="offset"/>, cutting what it covers.</summary>
    public void Write(uint offset, ExtentRef extent)
    {
        Cut(offset, extent.Length);
        Set(offset, extent);
    }

    /// <summary>Makes <paramref name="length"/> bytes at <paramref name="offset"/> a hole.</summary>
    public void Cut(uint offset, uint length)
    {
        var end = (long)offset + length;
        // The piece that starts before the range may reach into it; every other overlapping piece starts inside it.
        var index = FirstAtOrAfter(offset);
        if (index > 0)
        {
            var (start, before) = (_extents.Keys[index - 1], _extents.Values[index - 1]);
            var beforeEnd = (long)start + before.Length;
            if (beforeEnd > offset)
            {
                Set(start, before with { Length = offset - start });
                if (beforeEnd > end) Set((uint)end, before.Advance((uint)(end - start)));
            }
        }
        index = FirstAtOrAfter(offset);
        while (index < _extents.Count && _extents.Keys[index] < end)
        {
            var (start, piece) = (_extents.Keys[index], _extents.Values[index]);
            _extents.RemoveAt(index);
            _touched.Add(start);
            var pieceEnd = (long)start + piece.Length;
            if (pieceEnd > end)
            {
                Set((uint)end, piece.Advance((uint)(end - start)));
                break;
            }
        }
    }

    /// <summary>The pieces that overlap [<paramref name="from"/>, <paramref name="to"/>), clipped to it.</summary>
    public IEnumerable<(uint Offset, ExtentRef Extent)> Overlapping(uint from, uint to)
    {
        var index = FirstAtOrAfter(from);
        if (index > 0)
        {
            var (start, before) = (_extents.Keys[index - 1], _extents.Values[index - 1]);
            if (start + before.Length > from) yield return Clip(start, before, from, to);
        }
        for (; index < _extents.Count && _extents.Keys[index] < to; index++)
            yield return Clip(_extents.Keys[index], _extents.Values[index], from, to);
    }

    /// <summary>Whether changes were made since the last <see cref="TakeChanges"/>.</summary>
    public bool Changed => _touched.Count > 0;

    /// <summary>What changed since the last call, by offset: the piece there now, or null where there is none any more.</summary>
    public List<(uint Offset, ExtentRef? Extent)> TakeChanges()
    {
        var changes = new List<(uint, ExtentRef?)>(_touched.Count);
        foreach (var offset in _touched) changes.Add((offset, _extents.TryGetValue(offset, out var extent) ? extent : null));
        _touched.Clear();
        return changes;
    }

    /// <summary>Marks offsets changed again (their changes could not be stored).</summary>
    public void Retouch(IEnumerable<uint> offsets) => _touched.UnionWith(offsets);

    /// <summary>Replaces the piece at <paramref name="offset"/> (compaction moved its record; the index is moved by the caller).</summary>
    public void Replace(uint offset, ExtentRef extent) => _extents[offset] = extent;

    private void Set(uint offset, ExtentRef extent)
    {
        _extents[offset] = extent;
        _touched.Add(offset);
    }

    private static (uint, ExtentRef) Clip(uint start, ExtentRef extent, uint from, uint to)
    {
        if (start < from)
        {
            extent = extent.Advance(from - start);
            start = from;
        }
        var end = (long)start + extent.Length;
        if (end > to) extent = extent with { Length = to - start };
        return (start, extent);
    }

    private int FirstAtOrAfter(uint offset)
    {
        int lo = 0, hi = _extents.Count;
        var keys = _extents.Keys;
        while (lo < hi)
        {
            var mid = (lo + hi) / 2;
            if (keys[mid] < offset) lo = mid + 1;
            else hi = mid;
        }
        return lo;
    }
}
