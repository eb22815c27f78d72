using System.Buffers;
using StorageCloud.Common.Hashing;
using StorageCloud.Common.Http;

namespace StorageCloud.ObjectLayer;

/// <summary>The outcome of an object PUT: the quorum's status, and what the proxy measured of the body.</summary>
public sealed class PutResult(int status, BackendResponse? best, IReadOnlyList<int> statuses, string etag, long bytes) : IDisposable
{
    /// <summary>The status decided by quorum, or the proxy's own (413, 499, 408, 503).</summary>
    public int Status { get; } = status;

    /// <summary>One reply with the decided status.</summary>
    public BackendResponse? Best { get; } = best;

    /// <summary>Every replica's status.</summary>
    public IReadOnlyList<int> Statuses { get; } = statuses;

    /// <summary>MD5 of the body (hex), as every replica that stored it computed it; empty when nothing was stored.</summary>
    public string ETag { get; } = etag;

    /// <summary>Bytes of the body received.</summary>
    public long Bytes { get; } = bytes;

    /// <summary>Releases the kept reply.</summary>
    public void Dispose() => Best?.Dispose();
}

public sealed partial class Cluster
{
    /// <summary>
    /// Streams one body to every replica at once: each replica's node is connected first (with 100-continue, so a
    /// full or failing device is replaced by a handoff before any byte is sent), then the body is read once, in
    /// pooled chunks, and fanned out. Succeeds on a quorum of replicas. The body is never held whole. As in Swift,
    /// the proxy does not hash the body itself: each object server computes the MD5 of what it stored, and replicas
    /// that disagree make the PUT fail (500).
    /// </summary>
    public async Task<PutResult> PutObjectAsync(string account, string container, string obj, IEnumerable<KeyValuePair<string, string>> headers,
        Stream body, long? contentLength, long maxBytes, CancellationToken cancellationToken = default)
    {
        var ring = Rings.Object;
        var partition = ring.GetPartition(account, container, obj);
        var order = new NodeOrder(ring, partition, Limiter, Options.RequestNodeFactor, shuffle: false);
        var stamped = WithTimestamp(headers);
        var containerRing = Rings.Container;
        var containerPartition = containerRing.GetPartition(account, container);
        var containerNodes = containerRing.GetPrimaryNodes(containerPartition);
        var path = BackendPath.For(account, container, obj);
        var quorum = Quorum.Size(order.Replicas);
        using var abort = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);

        var replicas = new Replica[order.Replicas];
        var connects = new Task[replicas.Length];
        for (var i = 0; i < replicas.Length; i++)
        {
            var replica = replicas[i] = new Replica();
            var slotHeaders = (List<KeyValuePair<string, string>>)[.. stamped, .. UpdateTarget("Container", containerNodes, containerPartition, i)];
            connects[i] = replica.ConnectAsync(this, order, partition, path, slotHeaders, contentLength, abort.Token);
        }
        await Task.WhenAll(connects).ConfigureAwait(false);

        long received = 0;
        var failure = EarlyRefusal(replicas, stamped);
        if (failure == 0 && Live(replicas) < quorum) failure = -1;
        if (failure == 0)
        {
            try
            {
                // Object servers in this process may ask for the body's MD5 (before their first read, so by now):
                // hashed once here instead of once per replica.
                using var digest = WantsDigest(replicas) ? new StreamingMd5() : null;
                received = await PumpAsync(body, replicas, maxBytes, quorum, digest, abort.Token).ConfigureAwait(false);
                if (digest is not null)
                {
                    var md5 = digest.GetHexAndReset();
                    foreach (var r in replicas) if (r.Content is { DigestRequested: true } content) content.Md5 = md5;
                }
                if (contentLength is { } expected && received != expected) failure = 499;
            }
            catch (PutAbort e)
            {
                failure = e.Status;
            }
            catch (IOException)
            {
                // The client went away or sent a broken body (Kestrel's bad-request errors are IOExceptions too).
                failure = 499;
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                failure = 408;
            }
        }
        if (failure != 0)
        {
            // Nothing is acknowledged: every replica's request is cut so no node can commit a partial body.
            await abort.CancelAsync().ConfigureAwait(false);
            foreach (var r in replicas) r.Content?.Abort();
        }
        else
        {
            foreach (var r in replicas) r.Content?.Finish();
        }
        var responses = new BackendResponse[replicas.Length];
        for (var i = 0; i < replicas.Length; i++) responses[i] = await replicas[i].FinalAsync(Options.NodeTimeout).ConfigureAwait(false);
        foreach (var r in replicas) r.Content?.Dispose();
        if (failure != 0)
        {
            foreach (var r in responses) r.Dispose();
            var status = failure > 0 ? failure : Quorum.BestStatus([.. responses.Select(r => r.Status)], quorum);
            return new PutResult(failure > 0 ? failure : status >= 200 && status < 300 ? 503 : status, null, [.. responses.Select(r => r.Status)], "", received);
        }
        var etag = AgreedETag(responses);
        var decided = WriteResult.Decide(responses, quorum);
        if (etag is null && decided.Status is >= 200 and < 300)
        {
            // Replicas that stored different bytes: nothing can be promised about the object.
            decided.Dispose();
            return new PutResult(500, null, decided.Statuses, "", received);
        }
        return new PutResult(decided.Status, decided.Best, decided.Statuses, etag ?? "", received);
    }

    /// <summary>
    /// Swift's rules for refusals before the body: one copy found under If-None-Match: * is a 412 for the whole PUT,
    /// and one node holding this timestamp or a newer one (a retried or already replicated PUT) makes it a 202.
    /// </summary>
    private static int EarlyRefusal(Replica[] replicas, List<KeyValuePair<string, string>> headers)
    {
        var conflict = false;
        var found = false;
        foreach (var r in replicas)
        {
            conflict |= r.Early?.Status == 409;
            found |= r.Early?.Status == 412;
        }
        if (found)
        {
            foreach (var (name, value) in headers)
                if (name.Equals("If-None-Match", StringComparison.OrdinalIgnoreCase) && value.Contains('*')) return 412;
        }
        return conflict ? 202 : 0;
    }

    /// <summary>The ETag every successful replica answered with; null when they disagree.</summary>
    private static string? AgreedETag(BackendResponse[] responses)
    {
        string? agreed = null;
        foreach (var r in responses)
        {
            if (!r.IsSuccess || r.Header("ETag") is not { } etag) continue;
            etag = etag.Trim('"');
            if (agreed is null) agreed = etag;
            else if (agreed != etag) return null;
        }
        return agreed ?? "";
    }

    /// <summary>Known body lengths up to this are sent even after a refusal (SocketsHttpHandler's threshold).</summary>
    private const long ExpectContinueSendThreshold = 1024;

    private static int Live(Replica[] replicas)
    {
        var n = 0;
        foreach (var r in replicas) if (r.IsLive) n++;
        return n;
    }

    private static bool WantsDigest(Replica[] replicas)
    {
        foreach (var r in replicas) if (r.IsLive && r.Content!.DigestRequested) return true;
        return false;
    }

    private async Task<long> PumpAsync(Stream body, Replica[] replicas, long maxBytes, int quorum, StreamingMd5? digest, CancellationToken cancellationToken)
    {
        long total = 0;
        while (true)
        {
            var buffer = ArrayPool<byte>.Shared.Rent(Options.ChunkSize);
            int read;
            try
            {
                read = await body.ReadAsync(buffer.AsMemory(0, Options.ChunkSize), cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                ArrayPool<byte>.Shared.Return(buffer);
                throw;
            }
            if (read == 0)
            {
                ArrayPool<byte>.Shared.Return(buffer);
                return total;
            }
            total += read;
            if (total > maxBytes)
            {
                ArrayPool<byte>.Shared.Return(buffer);
                throw new PutAbort(413);
            }
            digest?.Append(buffer.AsSpan(0, read));
            var live = Live(replicas);
            var chunk = new SharedChunk(buffer, read, live + 1);
            foreach (var r in replicas)
            {
                if (!r.IsLive) continue;
                if (!await r.Content!.OfferAsync(chunk, cancellationToken).ConfigureAwait(false))
                {
                    r.IsLive = false;
                    chunk.Release();
                }
            }
            chunk.Release();
            var stillLive = Live(replicas);
            if (stillLive < quorum) throw new PutAbort(503);
        }
    }

    private sealed class PutAbort(int status) : Exception
    {
        public int Status { get; } = status;
    }

    /// <summary>One replica slot of a PUT: the node it found and its request in flight.</summary>
    private sealed class Replica
    {
        public ReplicaContent? Content;
        public Task<BackendResponse>? Send;
        public BackendResponse? Early;
        public bool IsLive;

        /// <summary>Finds a node that accepts the body; a node failing before that passes the slot to the next handoff.</summary>
        public async Task ConnectAsync(Cluster cluster, NodeOrder order, uint partition, string path, List<KeyValuePair<string, string>> headers, long? length, CancellationToken cancellationToken)
        {
            while (order.Next() is { } node)
            {
                // .NET sends a body of a known length up to 1 KiB even when the node refused it before 100 Continue,
                // so such a refusal would look like a node ready for the body; sent chunked, the wait is honoured.
                var content = new ReplicaContent(length > ExpectContinueSendThreshold ? length : null);
                var send = cluster.Nodes.SendAsync(node, partition, HttpMethod.Put, path, headers, content, cancellationToken);
                var first = await Task.WhenAny(content.Started.Task, send).ConfigureAwait(false);
                if (first != send)
                {
                    (Content, Send, IsLive) = (content, send, true);
                    return;
                }
                var answer = await send.ConfigureAwait(false);
                content.Dispose();
                if (answer.Status is > 0 and < 500)
                {
                    Early = answer;
                    return;
                }
                answer.Dispose();
            }
            Early = BackendResponse.Synthetic(503);
        }

        /// <summary>The node's final answer, waiting at most the node timeout after the body ended.</summary>
        public async Task<BackendResponse> FinalAsync(TimeSpan timeout)
        {
            if (Send is null) return Early ?? BackendResponse.Synthetic(503);
            var done = await Task.WhenAny(Send, Task.Delay(timeout)).ConfigureAwait(false);
            if (done != Send) return BackendResponse.Synthetic(0);
            try
            {
                return await Send.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // The PUT was cut on purpose (client gone, no quorum): this replica has no answer.
                return BackendResponse.Synthetic(0);
            }
        }
    }
}
