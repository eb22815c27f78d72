using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;

namespace StorageCloud.LoadGen;

/// <summary>What to run: the operation mix, object sizes, concurrency, how long, and how many objects to prefill.</summary>
public sealed record WorkloadOptions
{
    /// <summary>Operations and their weights (put, get, head, delete, list).</summary>
    public required IReadOnlyDictionary<string, int> Mix { get; init; }

    /// <summary>Smallest and largest object size; equal for a fixed size.</summary>
    public long MinSize { get; init; } = 64 * 1024;
    public long MaxSize { get; init; } = 64 * 1024;

    /// <summary>Requests in flight at once.</summary>
    public int Concurrency { get; init; } = 16;

    /// <summary>Run for this long (unless <see cref="Count"/> is set).</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Run exactly this many operations instead of for a duration.</summary>
    public long? Count { get; init; }

    /// <summary>Objects written before the timed run, for GET, HEAD and LIST to find.</summary>
    public int Prefill { get; init; } = 100;

    /// <summary>Names a LIST asks for.</summary>
    public int ListLimit { get; init; } = 100;

    /// <summary>The container used (created if missing).</summary>
    public string Container { get; init; } = "loadgen";

    /// <summary>Seed for sizes and choices, for repeatable runs.</summary>
    public int Seed { get; init; } = 1;
}

/// <summary>Every operation's latency and outcome, gathered lock-free per worker, and the first failures in detail.</summary>
public sealed class Recorder
{
    /// <summary>Failures kept in detail, so a failed run says which requests failed and how.</summary>
    public const int ErrorDetails = 20;

    private readonly ConcurrentBag<(string Op, double Ms, int Status, long Bytes)> _samples = [];
    private readonly ConcurrentQueue<string> _firstErrors = new();
    private int _errors;

    public void Add(string op, double ms, int status, long bytes, string? name = null)
    {
        _samples.Add((op, ms, status, bytes));
        if (status is >= 200 and < 300 || Interlocked.Increment(ref _errors) > ErrorDetails) return;
        _firstErrors.Enqueue(string.Create(CultureInfo.InvariantCulture, $"{op}{(name is null ? "" : " " + name)} -> {(status == 0 ? "connection failed" : status)} after {ms:0.0} ms"));
    }

    public IReadOnlyCollection<(string Op, double Ms, int Status, long Bytes)> Samples => _samples;

    /// <summary>The first <see cref="ErrorDetails"/> failed requests: operation, name, status, latency.</summary>
    public IReadOnlyList<string> FirstErrors => [.. _firstErrors];
}

/// <summary>
/// Names written so far. Reads pick one and hold it until they finish; a delete takes a name nobody is reading and
/// removes it first, so a read never races a delete of its name (which would be a false 404). O(1) add, pick, take.
/// </summary>
public sealed class NamePool(IEnumerable<string> initial)
{
    private readonly List<string> _names = [.. initial];
    private readonly Dictionary<string, (int Index, int Readers)> _state = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private bool _indexed;

    private void EnsureIndexed()
    {
        if (_indexed) return;
        for (var i = 0; i < _names.Count; i++) _state[_names[i]] = (i, 0);
        _indexed = true;
    }

    /// <summary>Adds a name that now exists.</summary>
    public void Add(string name)
    {
        lock (_lock)
        {
            EnsureIndexed();
            _state[name] = (_names.Count, 0);
            _names.Add(name);
        }
    }

    /// <summary>A name to read, held until <see cref="Release"/>; "missing" when there are none.</summary>
    public string Pick(Random random)
    {
        lock (_lock)
        {
            EnsureIndexed();
            if (_names.Count == 0) return "missing";
            var name = _names[random.Next(_names.Count)];
            var (index, readers) = _state[name];
            _state[name] = (index, readers + 1);
            return name;
        }
    }

    /// <summary>Ends a read of a name.</summary>
    public void Release(string name)
    {
        lock (_lock)
        {
            if (_state.TryGetValue(name, out var s)) _state[name] = (s.Index, s.Readers - 1);
        }
    }

    /// <summary>Removes and returns a name nobody is reading, to delete; null when none can be taken.</summary>
    public string? Take(Random random)
    {
        lock (_lock)
        {
            EnsureIndexed();
            for (var attempt = 0; attempt < 8 && _names.Count > 0; attempt++)
            {
                var name = _names[random.Next(_names.Count)];
                var (index, readers) = _state[name];
                if (readers > 0) continue;
                var last = _names[^1];
                _names[index] = last;
                _state[last] = (index, _state[last].Readers);
                _names.RemoveAt(_names.Count - 1);
                _state.Remove(name);
                return name;
            }
            return null;
        }
    }

    /// <summary>How many names exist.</summary>
    public int Count
    {
        get
        {
            lock (_lock) return _names.Count;
        }
    }
}

/// <summary>Runs a workload against a target and returns the results.</summary>
public static class Runner
{
    /// <summary>Prefills, then runs the mix with N workers; every non-2xx answer is an error.</summary>
    public static async Task<RunResult> RunAsync(LoadTarget target, WorkloadOptions options, Action<long, long>? progress = null, CancellationToken cancellationToken = default)
    {
        var container = options.Container;
        await target.SendAsync(HttpMethod.Put, container, cancellationToken: cancellationToken);
        var payload = new byte[options.MaxSize];
        new Random(options.Seed).NextBytes(payload);
        var names = new ConcurrentQueue<string>();
        var prefill = Enumerable.Range(0, options.Prefill).Select(i => $"prefill-{i:D8}").ToList();
        await Parallel.ForEachAsync(prefill, new ParallelOptions { MaxDegreeOfParallelism = options.Concurrency, CancellationToken = cancellationToken }, async (name, ct) =>
        {
            var (status, _) = await target.SendAsync(HttpMethod.Put, container, name, payload.AsMemory(0, (int)options.MinSize), cancellationToken: ct);
            if (status is >= 200 and < 300) names.Enqueue(name);
        });
        var known = new NamePool(names);
        var recorder = new Recorder();
        long started = 0, done = 0;
        var ops = options.Mix.Where(kv => kv.Value > 0).SelectMany(kv => Enumerable.Repeat(kv.Key, kv.Value)).ToArray();
        if (ops.Length == 0) throw new ArgumentException("the operation mix is empty");
        var clock = Stopwatch.StartNew();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (options.Count is null) stop.CancelAfter(options.Duration);
        var workers = Enumerable.Range(0, options.Concurrency).Select(w => Task.Run(async () =>
        {
            var random = new Random(options.Seed * 7919 + w);
            while (!stop.IsCancellationRequested)
            {
                if (options.Count is { } count && Interlocked.Increment(ref started) > count) break;
                var op = ops[random.Next(ops.Length)];
                var size = options.MinSize == options.MaxSize ? options.MinSize : random.NextInt64(options.MinSize, options.MaxSize + 1);
                // A delete with no name free to take (none yet, or all being read) would only measure a 404: it becomes a put.
                var taken = op == "delete" ? known.Take(random) : null;
                if (op == "delete" && taken is null) op = "put";
                var name = op switch
                {
                    "put" => $"obj-{w:D3}-{Guid.NewGuid():N}",
                    "delete" => taken!,
                    _ => known.Pick(random),
                };
                var t0 = Stopwatch.GetTimestamp();
                var (status, bytes) = op switch
                {
                    "put" => await target.SendAsync(HttpMethod.Put, container, name, payload.AsMemory(0, (int)size)),
                    "get" => await target.SendAsync(HttpMethod.Get, container, name),
                    "head" => await target.SendAsync(HttpMethod.Head, container, name),
                    "delete" => await target.SendAsync(HttpMethod.Delete, container, name),
                    "list" => await target.SendAsync(HttpMethod.Get, container, query: target.ListQuery(options.ListLimit)),
                    _ => throw new ArgumentException($"unknown operation '{op}'"),
                };
                recorder.Add(op, Stopwatch.GetElapsedTime(t0).TotalMilliseconds, status, op == "put" ? size : bytes, op == "list" ? null : name);
                if (op == "put" && status is >= 200 and < 300) known.Add(name);
                if (op is "get" or "head") known.Release(name);
                progress?.Invoke(Interlocked.Increment(ref done), (long)clock.Elapsed.TotalSeconds);
            }
        }, CancellationToken.None)).ToArray();
        await Task.WhenAll(workers);
        return RunResult.From(recorder, clock.Elapsed, options);
    }
}
