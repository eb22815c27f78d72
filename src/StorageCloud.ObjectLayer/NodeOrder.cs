using StorageCloud.Ring;

namespace StorageCloud.ObjectLayer;

/// <summary>
/// The devices a request may use for one partition: the primaries (shuffled for reads, so load spreads), then
/// handoffs in the ring's order, skipping error-limited devices; at most <c>replicas * RequestNodeFactor</c> in all.
/// Thread-safe, so parallel writers can each take the next device when theirs fails.
/// </summary>
public sealed class NodeOrder
{
    private readonly IEnumerator<RingDevice> _handoffs;
    private readonly Queue<RingDevice> _primaries;
    private readonly ErrorLimiter _limiter;
    private int _budget;

    /// <summary>Starts the walk.</summary>
    public NodeOrder(Ring.Ring ring, uint partition, ErrorLimiter limiter, int requestNodeFactor, bool shuffle)
    {
        _limiter = limiter;
        var primaries = ring.GetPrimaryNodes(partition);
        Replicas = primaries.Count;
        var list = new List<RingDevice>(primaries);
        if (shuffle) Random.Shared.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(list));
        _primaries = new Queue<RingDevice>(list);
        _handoffs = ring.GetMoreNodes(partition).GetEnumerator();
        _budget = Math.Max(Replicas, Replicas * requestNodeFactor);
    }

    /// <summary>How many primaries the partition has.</summary>
    public int Replicas { get; }

    /// <summary>True once every primary has been handed out.</summary>
    public bool PrimariesDone
    {
        get { lock (_primaries) return _primaries.Count == 0; }
    }

    /// <summary>The next device to try, or null when none is left.</summary>
    public RingDevice? Next()
    {
        lock (_primaries)
        {
            while (_budget > 0)
            {
                RingDevice node;
                if (_primaries.Count > 0) node = _primaries.Dequeue();
                else if (_handoffs.MoveNext()) node = _handoffs.Current;
                else return null;
                _budget--;
                if (!_limiter.IsLimited(node)) return node;
            }
            return null;
        }
    }
}
