using System.Globalization;
using StorageCloud.Common.Time;
using StorageCloud.Ring;

namespace StorageCloud.ObjectLayer;

/// <summary>
/// The cluster client every service uses to reach accounts, containers and objects: finds the devices through the
/// rings, writes to all replicas and decides by quorum, reads from one replica at a time and fails over, and keeps
/// account and container info in a short cache.
/// </summary>
public sealed partial class Cluster : IDisposable
{
    /// <summary>Creates a client over the given rings; requests for this process's own storage listeners run in memory through <paramref name="local"/>.</summary>
    public Cluster(ClusterRings rings, ObjectLayerOptions? options = null, Common.Http.ILocalRoutes? local = null)
    {
        Rings = rings;
        Options = options ?? new ObjectLayerOptions();
        Limiter = new ErrorLimiter(Options);
        Nodes = new NodeClient(Options, Limiter, local);
        Cache = new InfoCache(Options);
    }

    /// <summary>The rings in service.</summary>
    public ClusterRings Rings { get; }

    /// <summary>Timeouts and limits.</summary>
    public ObjectLayerOptions Options { get; }

    /// <summary>The per-device error counts.</summary>
    public ErrorLimiter Limiter { get; }

    /// <summary>The storage-node connection pool.</summary>
    public NodeClient Nodes { get; }

    /// <summary>Account and container info cache.</summary>
    public InfoCache Cache { get; }

    /// <summary>
    /// GET or HEAD with failover: tries one device at a time (primaries shuffled, then handoffs) until one answers
    /// with the resource; not-found from every primary ends the search. With <paramref name="newest"/>, asks every
    /// primary and keeps the answer with the newest timestamp (Swift's X-Newest).
    /// </summary>
    public Task<BackendResponse> ReadAsync(Ring.Ring ring, uint partition, HttpMethod method, string path,
        IEnumerable<KeyValuePair<string, string>> headers, bool newest = false, CancellationToken cancellationToken = default)
        => ReadAsync(new NodeOrder(ring, partition, Limiter, Options.RequestNodeFactor, shuffle: true), partition, method, path, headers, newest, cancellationToken);

    private async Task<BackendResponse> ReadAsync(NodeOrder order, uint partition, HttpMethod method, string path,
        IEnumerable<KeyValuePair<string, string>> headers, bool newest, CancellationToken cancellationToken)
    {
        var statuses = new List<int>();
        var notFound = 0;
        BackendResponse? best = null;
        BackendResponse? lastMiss = null;
        while (order.Next() is { } node)
        {
            var response = await Nodes.SendAsync(node, partition, method, path, headers, null, cancellationToken).ConfigureAwait(false);
            statuses.Add(response.Status);
            if (IsFinal(response.Status))
            {
                if (!newest) return response;
                if (best is null || CompareTimestamps(response, best) > 0)
                {
                    best?.Dispose();
                    best = response;
                }
                else response.Dispose();
                if (order.PrimariesDone) break;
                continue;
            }
            if (response.Status == 404)
            {
                notFound++;
                lastMiss?.Dispose();
                lastMiss = response;
            }
            else response.Dispose();
            // Every primary says "not here": the resource does not exist (handoffs are only asked after failures).
            if (order.PrimariesDone && (notFound >= order.Replicas || best is not null)) break;
        }
        if (best is not null)
        {
            lastMiss?.Dispose();
            return best;
        }
        var status = Quorum.BestStatus(statuses, Math.Min(Quorum.Size(order.Replicas), Math.Max(1, statuses.Count)));
        if (status == 404 && lastMiss is not null) return lastMiss;
        lastMiss?.Dispose();
        return BackendResponse.Synthetic(status == 404 ? 404 : 503);
    }

    private static bool IsFinal(int status) => status is >= 200 and < 400 or 412 or 416;

    private static int CompareTimestamps(BackendResponse a, BackendResponse b)
    {
        SwiftTimestamp.TryParse(a.Timestamp, out var ta, out _);
        SwiftTimestamp.TryParse(b.Timestamp, out var tb, out _);
        return ta.CompareTo(tb);
    }

    /// <summary>
    /// A write without a body (PUT/POST/DELETE of accounts and containers, POST/DELETE of objects) to every
    /// replica in parallel; a replica whose device fails is replaced by the next handoff. Decided by quorum.
    /// <paramref name="headersFor"/> gives each replica slot its headers (container and account update targets).
    /// </summary>
    public async Task<WriteResult> WriteAsync(Ring.Ring ring, uint partition, HttpMethod method, string path,
        Func<int, IEnumerable<KeyValuePair<string, string>>> headersFor, CancellationToken cancellationToken = default)
    {
        var order = new NodeOrder(ring, partition, Limiter, Options.RequestNodeFactor, shuffle: false);
        var slots = new Task<BackendResponse>[order.Replicas];
        for (var i = 0; i < slots.Length; i++)
        {
            var slot = i;
            slots[i] = Task.Run(async () =>
            {
                BackendResponse? last = null;
                while (order.Next() is { } node)
                {
                    last?.Dispose();
                    last = await Nodes.SendAsync(node, partition, method, path, headersFor(slot), null, cancellationToken).ConfigureAwait(false);
                    // Any answer but a server error is this replica's answer; a failed device passes to a handoff.
                    if (last.Status is > 0 and < 500) return last;
                }
                return last ?? BackendResponse.Synthetic(503);
            }, cancellationToken);
        }
        var responses = await Task.WhenAll(slots).ConfigureAwait(false);
        return WriteResult.Decide(responses, Quorum.Size(order.Replicas));
    }

    /// <summary>Headers that tell a replica which update target is its own (one per replica, round robin).</summary>
    internal static IEnumerable<KeyValuePair<string, string>> UpdateTarget(string kind, IReadOnlyList<RingDevice> targets, uint partition, int slot)
    {
        if (targets.Count == 0) yield break;
        var target = targets[slot % targets.Count];
        yield return new($"X-{kind}-Host", target.Server);
        yield return new($"X-{kind}-Device", target.Device);
        yield return new($"X-{kind}-Partition", partition.ToString(CultureInfo.InvariantCulture));
    }

    /// <summary>Closes the connection pool.</summary>
    public void Dispose() => Nodes.Dispose();
}

/// <summary>The outcome of a replicated write: the quorum's status and the replies behind it.</summary>
public sealed class WriteResult(int status, BackendResponse? best, IReadOnlyList<int> statuses) : IDisposable
{
    /// <summary>The status decided by quorum.</summary>
    public int Status { get; } = status;

    /// <summary>One reply with the decided status (for its headers), if any.</summary>
    public BackendResponse? Best { get; } = best;

    /// <summary>Every replica's status, 0 for a failed device.</summary>
    public IReadOnlyList<int> Statuses { get; } = statuses;

    internal static WriteResult Decide(IReadOnlyList<BackendResponse> responses, int quorum)
    {
        var statuses = new int[responses.Count];
        for (var i = 0; i < statuses.Length; i++) statuses[i] = responses[i].Status;
        var status = Quorum.BestStatus(statuses, quorum);
        BackendResponse? best = null;
        foreach (var r in responses)
        {
            if (best is null && r.Status == status) best = r;
            else r.Dispose();
        }
        return new WriteResult(status, best, statuses);
    }

    /// <summary>Releases the kept reply.</summary>
    public void Dispose() => Best?.Dispose();
}
